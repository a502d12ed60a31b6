#!/usr/bin/env bash
# The routing-quality comparison of docs/ROUTING-QUALITY.md: every policy, with engine feedback off
# and on, on the Mooncake trace and three synthetic workloads, each at two load levels, 8 engines
# with caches that cannot hold everything. Writes one CSV and one HTML report per run into
# docs/quality/ (or the directory given), and a CSV per synthetic workload at its higher load drawn
# with seeds 2 to 7 into its seeds/; for docs/quality, also the tables and chart of
# docs/ROUTING-QUALITY.md (scripts/quality-report.py).
#
#   scripts/routing-quality.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/quality}"
mkdir -p "$out"
policies=longest_prefix,first_prefix_block,load_balanced,relative_load,sglang,dynamo,llm_d,least_work
trace=coordinator-sim/src/test/resources/traces/mooncake_synthetic_trace.jsonl.gz
# every policy, feedback off and on, on a workload: simulate CSV_BASE WORKLOAD_ARGS...
simulate() {
  local base="$1"
  shift
  ./coordinator simulate "$@" --policy "$policies" --feedback off,on --csv "$base.csv"
}
run() {
  local name="$1"
  shift
  echo "== $name: $*" >&2
  simulate "$out/$name" "$@" --html "$out/$name.html" > "$out/$name.txt"
}
chat80='chat:requests=20000,rate=80'
rag60='rag:requests=20000,rate=60'
llmd70='llm-d:requests=20000,rate=3..70'
run mooncake-x1 "$trace" --speed 1
run mooncake-x2 "$trace" --speed 2
run chat-40 'chat:requests=20000,rate=40'
run chat-80 "$chat80"
run rag-40 'rag:requests=20000,rate=40'
run rag-60 "$rag60"
run llmd-60 'llm-d:requests=20000,rate=3..60'
run llmd-70 "$llmd70"
mkdir -p "$out/seeds"
for seed in 2 3 4 5 6 7; do
  for spec in "chat-80|$chat80" "rag-60|$rag60" "llmd-70|$llmd70"; do
    echo "== ${spec%%|*}, seed $seed" >&2
    simulate "$out/seeds/${spec%%|*}-seed$seed" "${spec#*|}" --seed "$seed" > /dev/null
  done
done
echo "wrote $out/*.csv, *.html, *.txt" >&2
if [ "$out" = docs/quality ]; then
  scripts/quality-report.py "$out" docs/ROUTING-QUALITY.md
fi
