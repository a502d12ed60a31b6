#!/usr/bin/env bash
# Load harness: `serve` with four simulated engines (separate processes) and the load generator;
# during the run two engines are killed with SIGKILL and restarted with the same rank.
# Prints the load generator's report; exits with its status (1 if anything was lost or duplicated).
#
#   scripts/churn-load.sh [REQUESTS] [CONCURRENCY]      (defaults: 100000 64)
set -euo pipefail
requests="${1:-100000}"
concurrency="${2:-64}"
source "$(dirname "${BASH_SOURCE[0]}")/local-cluster.sh"

start_serve --engines 4 --log-level warn
for r in 0 1 2 3; do start_engine "$r"; done
wait_engines 0 1 2 3

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
