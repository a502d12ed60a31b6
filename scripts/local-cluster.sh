# Sourced by the load scripts: `serve` and simulated engines as separate processes on loopback,
# killed when the script exits. Defines $root, $work (logs), $serve, $endpoint and engine[RANK].
#
#   start_serve ARGS...          serve with these flags; waits for its endpoint line
#   start_engine RANK ARGS...    a simulated engine of that rank (again after a kill: same rank),
#                                with --extension-keys, for the per-engine counts of `load`
#   wait_engines RANK...         until each has connected
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/$(basename "$0" .sh).XXXXXX")"
pids=()
declare -A engine
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

start_serve() {
  "$root/coordinator" --version >/dev/null # builds the jar once, up front
  "$root/coordinator" serve "$@" >"$work/serve.out" 2>"$work/serve.err" &
  serve=$!
  pids+=("$serve")
  for _ in $(seq 300); do [ -s "$work/serve.out" ] && break; sleep 0.1; done
  endpoint="$(head -1 "$work/serve.out")"
  echo "coordinator pid $serve at $endpoint; logs in $work" >&2
}

start_engine() {
  local rank=$1
  shift
  "$root/coordinator" engine --connect "$endpoint" --rank "$rank" --extension-keys "$@" \
    >>"$work/engine-$rank.out" 2>&1 &
  engine[$rank]=$!
  pids+=("${engine[$rank]}")
}

wait_engines() {
  for r in "$@"; do
    for _ in $(seq 300); do grep -q connected "$work/engine-$r.out" 2>/dev/null && break; sleep 0.1; done
  done
}
