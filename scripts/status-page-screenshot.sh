#!/usr/bin/env bash
# A PNG of the live status page (serve --prometheus-port) taken with headless Chromium during a
# load run: `serve` with four simulated engines and three load phases of different concurrency
# and prompt sets; the screenshot is taken while the last phase runs.
#
#   scripts/status-page-screenshot.sh OUT.png [SECONDS]   (SECONDS of load before it; default 150)
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $(basename "$0") OUT.png [SECONDS]" >&2
  exit 2
fi
png="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
seconds="${2:-150}"
chromium="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$chromium" ]; then
  echo "status-page-screenshot: chromium not found (Debian: apt-get install chromium)" >&2
  exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/local-cluster.sh"

start_serve --engines 4 --prometheus-port 0 --log-level warn
for _ in $(seq 100); do grep -q 'status page' "$work/serve.err" && break; sleep 0.1; done
page="$(grep -o 'status page http://[^)]*' "$work/serve.err" | cut -d' ' -f3)"
for r in 0 1 2 3; do start_engine "$r" --base-ms 2 --cache-blocks 512; done
wait_engines 0 1 2 3

load() {
  "$root/coordinator" load --connect "$endpoint" "$@" >>"$work/load.out" 2>>"$work/load.err"
}
( load --requests 30000 --concurrency 8 --system-prompts 8 --seed 1
  load --requests 60000 --concurrency 64 --system-prompts 96 --seed 2
  load --requests 1000000 --concurrency 24 --system-prompts 8 --seed 3 ) &
pids+=("$!")
sleep "$seconds"

profile="$(mktemp -d)"
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1280,760 \
  --virtual-time-budget=3000 --screenshot="$png" "$page" >/dev/null 2>&1 || true
rm -rf "$profile"
[ -s "$png" ] || { echo "status-page-screenshot: chromium wrote no screenshot" >&2; exit 1; }
echo "$png"
