#!/usr/bin/env bash
# CPU per request of a coordinator for Megatron core_v0.15 engines and clients: `serve
# --engine-wire 0.15` (ours) or core_v0.15's own DataParallelInferenceCoordinator (megatron), with
# the same three core_v0.15 Python engines (core015.py, stepping as fast as they can) and one
# client sending COUNT requests (every fourth a text prompt) twice: the first run warms up, the
# second is measured (coordinator CPU from /proc, by thread; wall time).
#
#   scripts/core015-cpu.sh ours [COUNT]
#   PY=VENV/bin/python MEGATRON_SOURCE=DIR scripts/core015-cpu.sh megatron [COUNT]
#
# megatron needs a core_v0.15.x source tree and a Python with torch (the steps are in
# coordinator-tests/src/test/python/generate_core015_parity.py); its bind is moved to 127.0.0.1.
set -euo pipefail
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0
fi
kind="${1:-}"; count="${2:-20000}"
if [[ "$kind" != ours && "$kind" != megatron ]] || ! [[ "$count" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/core015-cpu.sh ours|megatron [COUNT]" >&2; exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
interop="$root/coordinator-tests/src/test/resources/interop"
work="$(mktemp -d)"; pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="tcp://127.0.0.1:$port"
if [ "$kind" = ours ]; then
  "$root/coordinator" serve --port "$port" --engines 3 --engine-wire 0.15 \
    --tokenizer null:1048576,eod=1048576 > "$work/coordinator.log" 2>&1 &
else
  : "${PY:?set PY to a Python with torch}" "${MEGATRON_SOURCE:?set MEGATRON_SOURCE}"
  cat > "$work/core015_coordinator.py" <<'PYEOF'
import logging, sys, warnings
sys.path.insert(0, sys.argv[1]); warnings.simplefilter("ignore"); logging.disable(logging.CRITICAL)
import zmq
bind = zmq.Socket.bind
zmq.Socket.bind = lambda s, a: bind(s, a.replace("tcp://0.0.0.0:", "tcp://127.0.0.1:"))
from megatron.core.inference.data_parallel_inference_coordinator import (
    DataParallelInferenceCoordinator)
from megatron.core.tokenizers import MegatronTokenizer
tokenizer = MegatronTokenizer.from_pretrained(metadata_path={"library": "null"}, vocab_size=1 << 20)
print("ready", flush=True)
DataParallelInferenceCoordinator(tokenizer, int(sys.argv[2]), 3).start()
PYEOF
  TORCH_CUDA_ARCH_LIST=8.0 "$PY" "$work/core015_coordinator.py" "$MEGATRON_SOURCE" "$port" \
    > "$work/coordinator.log" 2>&1 &
fi
pids+=($!)
for _ in $(seq 600); do
  grep -q -e '^ready' -e 'tcp://' "$work/coordinator.log" 2>/dev/null && break; sleep 0.1
done
if [ "$kind" = ours ]; then pid="$(pgrep -f "java.*--port $port" | head -1)"; else pid="${pids[0]}"; fi
for rank in 0 1 2; do
  /usr/bin/python3 "$interop/core015.py" engine --endpoint "$endpoint" --rank "$rank" \
    --step-ms 0 --seconds 3600 > "$work/engine-$rank.log" 2>&1 &
  pids+=($!)
done
sleep 10 # Megatron's coordinator must take the three registrations before any client's frame
if ! kill -0 "${pids[0]}" 2>/dev/null; then
  echo "the coordinator ended:" >&2; tail -5 "$work/coordinator.log" >&2; exit 1
fi
client() {
  if ! (cd "$interop" && /usr/bin/python3 core015.py client --endpoint "$endpoint" \
    --null-tokenizer requests --count "$count" --text --seconds 600 > "$work/client.log" 2>&1); then
    echo "the client failed:" >&2; tail -3 "$work/client.log" "$work/coordinator.log" >&2; exit 1
  fi
}
threads() { # CPU ticks of each thread of $pid, by name
  for t in /proc/"$pid"/task/*; do
    printf '%s\t%s\n' "$(cat "$t/comm" 2>/dev/null)" "$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
  done | awk -F'\t' '$2 != "" {a[$1] += $2} END {for (k in a) print k "\t" a[k]}' | sort
}
echo "warming up: $count requests" >&2
client
threads > "$work/t0"; t0="$(date +%s.%N)"; c0="$(awk '{print $14 + $15}' /proc/"$pid"/stat)"
echo "measuring: $count requests" >&2
client
threads > "$work/t1"; t1="$(date +%s.%N)"; c1="$(awk '{print $14 + $15}' /proc/"$pid"/stat)"
replies="$(grep -c '^reply' "$work/client.log" || true)"
hz="$(getconf CLK_TCK)"
join -t $'\t' "$work/t0" "$work/t1" | awk -F'\t' -v n="$count" -v hz="$hz" -v kind="$kind" \
  -v wall="$(echo "$t1 - $t0" | bc)" -v replies="$replies" -v total="$((c1 - c0))" '
  {d = $3 - $2; if (d > 0) line[$1] = d}
  END {
    printf "%s: %d requests, %d replies, %.2f s, %.0f requests/s, CPU %.1f us a request\n",
      kind, n, replies, wall, n / wall, total * 1e6 / hz / n
    for (k in line) printf "  %-20s %.1f us a request\n", k, line[k] * 1e6 / hz / n
    print "  (the total also counts threads that ended meanwhile, JIT compiler threads among them)"
  }'
(cd "$interop" && /usr/bin/python3 core015.py client --endpoint "$endpoint" control \
  --signals STOP > /dev/null 2>&1) || true
