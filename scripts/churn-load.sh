#!/usr/bin/env bash
# Load harness: `serve` with four simulated engines (separate processes) and the load generator;
# during the run two engines are killed with SIGKILL and restarted with the same rank.
# Prints the load generator's report; exits with its status (1 if anything was lost or duplicated).
#
#   scripts/churn-load.sh [REQUESTS] [CONCURRENCY]      (defaults: 100000 64)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requests="${1:-100000}"
concurrency="${2:-64}"
work="$(mktemp -d "${TMPDIR:-/tmp}/churn-load.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$root/coordinator" --version >/dev/null # builds the jar once, up front
"$root/coordinator" serve --engines 4 --log-level warn >"$work/serve.out" 2>"$work/serve.err" &
serve=$!
pids+=("$serve")
for _ in $(seq 100); do [ -s "$work/serve.out" ] && break; sleep 0.1; done
endpoint="$(head -1 "$work/serve.out")"
echo "coordinator at $endpoint; logs in $work" >&2

declare -A engine
start_engine() {
  "$root/coordinator" engine --connect "$endpoint" --rank "$1" >>"$work/engine-$1.out" 2>&1 &
  engine[$1]=$!
  pids+=("${engine[$1]}")
}
for r in 0 1 2 3; do start_engine "$r"; done
for r in 0 1 2 3; do
  for _ in $(seq 300); do grep -q connected "$work/engine-$r.out" 2>/dev/null && break; sleep 0.1; done
done

"$root/coordinator" load --connect "$endpoint" --requests "$requests" \
  --concurrency "$concurrency" >"$work/load.out" 2>"$work/load.err" &
load=$!
pids+=("$load")

# Kill and restart two engines while the load runs: rank 1 four seconds in,
# rank 3 four seconds later.
churn() {
  local rank=$1
  kill -9 "${engine[$rank]}" 2>/dev/null || true
  echo "$(date +%T) killed engine $rank (SIGKILL)" >&2
  sleep 1
  start_engine "$rank"
  echo "$(date +%T) restarted engine $rank" >&2
}
sleep 4; churn 1
sleep 4; churn 3

status=0
wait "$load" || status=$?
cat "$work/load.out"
kill -TERM "$serve" 2>/dev/null || true
serve_status=0
wait "$serve" || serve_status=$?
echo "serve exit status after SIGTERM: $serve_status" >&2
exit "$status"
