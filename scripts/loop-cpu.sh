#!/usr/bin/env bash
# The event loop's CPU per request with detokenization on and off (LoopCpuHarness): an in-process
# coordinator with a tokenizer, four fast simulated engines and a closed-loop client sending text
# prompts of about 4k tokens; rounds of each setting alternate. Builds the bench jar when it is
# missing or older than the sources. Options go to the harness (e.g. --rounds 3, --tokenizer SPEC,
# --requests N); tokenizer paths are relative to the repository root.
#
#   scripts/loop-cpu.sh [--tokenizer huggingface:.cache/tokenizers/qwen3] [--rounds 3] ...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/coordinator-bench/target/benchmarks.jar"

if [ ! -f "$jar" ] || [ -n "$(find "$root" -path "$root/.git" -prune -o \
  \( -name pom.xml -o -path '*/src/main/*' \) -newer "$jar" -print -quit 2>/dev/null)" ]; then
  echo "loop-cpu: building $(basename "$jar") ..." >&2
  (cd "$root" && mvn -B -q -DskipTests package -pl coordinator-bench -am) >&2
fi

exec java ${LOOP_CPU_JAVA_OPTS:-} -Ddpcoord.root="$root" -cp "$jar" \
  io.dpcoord.bench.LoopCpuHarness "$@"
