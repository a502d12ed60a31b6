#!/usr/bin/env bash
# Memory of `serve` under distinct prompts: four simulated engines (separate processes), then the
# load generator in rounds with prompts that share nothing (no system prompt, U unique tokens), so
# that every request brings new block hashes. After 200,000 and after 1,000,000 requests it prints
# the coordinator's live heap after a full GC (jcmd GC.class_histogram), the committed heap,
# the RSS (/proc) and the index entries (from serve's --report-every report). Run it once per index
# capacity to compare.
#
#   scripts/memory.sh [INDEX_CAPACITY] [SUFFIX_TOKENS]   (defaults: 1048576, the serve default; 256)
#   MEMORY_ROUNDS="2000 10000" scripts/memory.sh         (other measuring points)
set -euo pipefail
capacity="${1:-1048576}"
suffix="${2:-256}"
if [ "$capacity" = -h ] || [ "$capacity" = --help ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
case "$capacity$suffix" in *[!0-9]*) echo "memory.sh: INDEX_CAPACITY and SUFFIX_TOKENS are numbers" >&2; exit 2 ;; esac
source "$(dirname "${BASH_SOURCE[0]}")/local-cluster.sh"

start_serve --engines 4 --index-capacity "$capacity" --report-every 1s --log-level warn
for r in 0 1 2 3; do start_engine "$r" --base-ms 0 --per-prompt-token-us 0 --per-generated-token-us 0; done
wait_engines 0 1 2 3

measure() {
  local live committed rss index
  # the class histogram runs a full GC first; its last line is the live heap in bytes
  live="$(jcmd "$serve" GC.class_histogram | awk '/^Total/ { print $3 }')"
  committed="$(jcmd "$serve" GC.heap_info | sed -n 's/.*total \([0-9]*\)K, used.*/\1/p' |
    awk '{ c += $1 } END { print c }')" # every generation's line (one for G1)
  rss="$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$serve/status")"
  sleep 1.1 # the next --report-every report
  index="$(grep -A1 'routing_index_entries' "$work/serve.err" | sed -n 's/.*value = //p' | tail -1)"
  awk -v n="$1" -v l="$live" -v c="$committed" -v r="$rss" -v i="${index:-?}" 'BEGIN {
    printf "%-8s requests: live heap after a full GC %6.1f MiB, heap committed %6.1f MiB, RSS %6.1f MiB, index entries %s\n",
      n, l / 1048576, c / 1024, r / 1024, i }'
}

sent=0
for target in ${MEMORY_ROUNDS:-200000 1000000}; do
  n=$((target - sent))
  echo "sending $n requests ($sent sent so far) ..." >&2
  "$root/coordinator" load --connect "$endpoint" --requests "$n" --concurrency 64 \
    --system-prompts 1 --system-tokens 0 --suffix-tokens "$suffix" --generated-tokens 1 \
    --seed "$target" >"$work/load-$target.out" 2>"$work/load-$target.err"
  sent=$target
  measure "$target"
done
