#!/usr/bin/env bash
# A PNG of a simulation report (the HTML that the simulator writes), taken with headless Chromium:
# 1400 px wide, 1800 px tall unless SIM_SCREENSHOT_SIZE says otherwise (e.g. 1400,3200 for the
# whole page of a large sweep). The report loads nothing from the network, so none is needed.
#
#   scripts/sim-screenshot.sh report.html report.png
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $(basename "$0") REPORT.html OUT.png" >&2
  exit 2
fi
html="$1"
png="$2"
if [ ! -f "$html" ]; then
  echo "sim-screenshot: no such file: $html" >&2
  exit 1
fi
chromium="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$chromium" ] || [ ! -x "$chromium" ]; then
  echo "sim-screenshot: chromium not found; install it (Debian: sudo apt-get install chromium)" >&2
  exit 1
fi
abs_html="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
abs_png="$(cd "$(dirname "$png")" && pwd)/$(basename "$png")"
# A file URL: percent-encode the characters a path may hold that a URL reads otherwise.
url="file://$(printf '%s' "$abs_html" | sed -e 's/%/%25/g' -e 's/ /%20/g' -e 's/#/%23/g' -e 's/?/%3F/g')"
rm -f "$abs_png"
# A throwaway profile, so that a running browser or a stale lock cannot get in the way.
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --disable-gpu --no-sandbox --hide-scrollbars \
  --user-data-dir="$profile" --no-first-run --no-default-browser-check \
  --window-size="${SIM_SCREENSHOT_SIZE:-1400,1800}" \
  --screenshot="$abs_png" "$url" >/dev/null 2>&1 || true
if [ ! -s "$abs_png" ]; then
  echo "sim-screenshot: chromium wrote no screenshot to $abs_png" >&2
  exit 1
fi
echo "$abs_png"
