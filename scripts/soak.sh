#!/usr/bin/env bash
# Soak: `serve` under mixed load for MINUTES (default 10), sampled every 30 s.
#
#   scripts/soak.sh [MINUTES] [--every SECONDS] [--csv FILE]
#
# serve --tokenizer bytes with four simulated engines (separate processes), and at once:
#   - token prompts: `coordinator load` in rounds of 4,000 requests, 16 in flight, every other
#     round streamed (each round a new client);
#   - text and token prompts: a Python client (scripts/soak-peers.py clients), 32 in flight, one
#     request in ten aborted a few ms after it was sent, one in five streamed;
#   - control signals every 30 s: PAUSE for 3 s (SUSPEND/RESUME inside every other pause),
#     UNPAUSE, a rejected UNPAUSE, SET_GENERATION_EPOCH with a new epoch, the profiler signals;
#   - an engine killed with SIGKILL every 40 s (ranks in turn), restarted 2 s later;
#   - garbage frames every 50 ms from a misbehaving peer (random bytes, bad msgpack, unknown
#     headers, wrong arity and types, engine headers from clients, multi-frame messages, forged
#     disconnect notes, raw TCP bytes, ...);
#   - a client that sends 100 long requests and is killed with SIGKILL while they are pending,
#     every 5 s.
# Every --every seconds (default 30) one line and one CSV row (--csv FILE; default soak.csv in the
# log directory): elapsed seconds, requests sent / answered / lost so far by the well-behaved
# clients (the load rounds finished so far and the Python client; lost counts once a client has
# given up waiting), the coordinator's live heap after a full GC (jcmd GC.class_histogram), its
# RSS right after that GC (its heap fixed at 512 MiB), its native memory (NMT committed less the
# heap), threads and open file descriptors (/proc), and its own in-flight and known-client gauges
# (serve --report-every 10s).
# At the end the load drains, one more sample is taken ("drained"), and a verdict follows. Exit
# status 1 if a request was lost or duplicated, a reply was malformed, the coordinator counted an
# internal error, had no engine for a request, had fewer than 4 engines routable at the end, or
# still had requests in flight or clients known after the drain, or a figure grew from the first
# third of the samples to the last third (medians) by more than: live heap max(8 MiB, 10%), RSS
# max(32 MiB, 10%), native max(16 MiB, 10%), threads 2, fds 4 (docs/OBSERVABILITY.md, "Soak run",
# says why); growth is judged from 6 samples on (3 minutes).
# 2 on bad usage. Needs python3-zmq and python3-msgpack (Debian) and the JDK's jcmd.
set -euo pipefail
minutes=10
every=30
csv=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    --every) every="${2:-}"; shift 2 || { echo "soak.sh: --every needs SECONDS" >&2; exit 2; } ;;
    --csv) csv="${2:-}"; shift 2 || { echo "soak.sh: --csv needs FILE" >&2; exit 2; } ;;
    -*) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) minutes="$1"; shift ;;
  esac
done
case "$minutes" in '' | *[!0-9]* | 0) echo "soak.sh: MINUTES must be a whole number above 0, got '$minutes'" >&2; exit 2 ;; esac
case "$every" in '' | *[!0-9]* | 0) echo "soak.sh: --every must be whole seconds above 0, got '$every'" >&2; exit 2 ;; esac
[ -n "$csv" ] && [ -d "$csv" ] && { echo "soak.sh: --csv $csv is a directory" >&2; exit 2; }
python=/usr/bin/python3
"$python" -c 'import zmq, msgpack' 2>/dev/null ||
  { echo "soak.sh: needs Debian's python3-zmq and python3-msgpack (apt-get install python3-zmq python3-msgpack)" >&2; exit 2; }
command -v jcmd >/dev/null || { echo "soak.sh: needs jcmd (a JDK)" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/local-cluster.sh"
peers="$root/scripts/soak-peers.py"
csv="${csv:-$work/soak.csv}"
duration=$((minutes * 60))

# Native memory tracking (summary level, a few per cent of overhead) says where RSS beyond the heap
# goes: its committed total, less the heap's, is the "native" column. The heap is fixed and touched
# at start-up, so that RSS does not follow how far G1 grows and shrinks it (hundreds of MiB up and
# down at the coordinator's full rate) and its growth means memory outside the heap.
fixed_heap="-Xms512m -Xmx512m -XX:+AlwaysPreTouch"
COORDINATOR_JAVA_OPTS="${COORDINATOR_JAVA_OPTS:-} -XX:NativeMemoryTracking=summary $fixed_heap" \
  start_serve --engines 4 --tokenizer bytes --index-capacity 65536 --report-every 10s --log-level warn
for r in 0 1 2 3; do start_engine "$r" --tokenizer bytes; done
wait_engines 0 1 2 3

# The processes started below come and go; each is killed on exit if it still runs.
load=""
vanisher=""
cleanup_soak() {
  for p in $load $vanisher $sampler; do kill -9 "$p" 2>/dev/null || true; done
  cleanup
}
trap cleanup_soak EXIT

# Takes an ended process off the list that the exit kills (its id could be reused).
forget() {
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
t0=$(now_ms)
elapsed_ms() { echo $(($(now_ms) - t0)); }

"$python" "$peers" clients --endpoint "$endpoint" --seconds "$duration" --status "$work/clients.json" \
  >"$work/clients.out" 2>&1 &
clients=$!
pids+=("$clients")
"$python" "$peers" control --endpoint "$endpoint" --seconds "$duration" >"$work/control.out" 2>&1 &
control=$!
pids+=("$control")
"$python" "$peers" garbage --endpoint "$endpoint" --seconds "$duration" >"$work/garbage.out" 2>&1 &
garbage=$!
pids+=("$garbage")

# `coordinator load` rounds: their totals add up in these as each round ends.
round=0
java_sent=0 java_answered=0 java_lost=0 java_duplicated=0 java_bad_rounds=0
start_round() {
  round=$((round + 1))
  local stream=()
  [ $((round % 2)) -eq 0 ] && stream=(--stream)
  "$root/coordinator" load --connect "$endpoint" --requests 4000 --concurrency 16 \
    --idle-timeout 120s --seed "$round" "${stream[@]}" >"$work/load.out" 2>"$work/load.err" &
  load=$!
}
end_round() {
  local status=0 line
  wait "$load" || status=$?
  load=""
  line="$(grep '^requests' "$work/load.out" || true)"
  # A round stopped by the drain's SIGTERM before its JVM set up the handler (which comes before
  # the first request) sent nothing and prints nothing.
  [ -z "$line" ] && [ "${1:-}" = draining ] && [ "$status" -eq 143 ] && [ ! -s "$work/load.err" ] && return
  if [ -z "$line" ]; then
    java_bad_rounds=$((java_bad_rounds + 1))
    echo "load round $round: no report: $(tail -1 "$work/load.err")" >&2
    return
  fi
  set -- $line # requests sent S completed C failed F lost L duplicated D
  java_sent=$((java_sent + $3))
  java_answered=$((java_answered + $5 + $7))
  java_lost=$((java_lost + $9))
  java_duplicated=$((java_duplicated + ${11}))
  [ "$9" -eq 0 ] && [ "${11}" -eq 0 ] || cp "$work/load.out" "$work/load-round-$round.out"
}

# Python client's counts: FIELD from its status file.
client_count() {
  sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$work/clients.json" 2>/dev/null || true
}
# The last value of a metric in serve's --report-every output.
metric() {
  grep -A1 "^$1\$" "$work/serve.err" | sed -n 's/.*\(value\|count\) = \([0-9.]*\).*/\2/p' | tail -1 |
    sed 's/\.0$//'
}

kills=0
vanished=0
echo "elapsed_s,sent,answered,lost,duplicated,live_heap_kib,heap_committed_kib,rss_kib,native_committed_kib,threads,fds,coordinator_in_flight,coordinator_known_clients,engine_kills,vanished_clients" >"$csv"
printf '%7s %9s %9s %5s %14s %9s %10s %8s %5s %9s %9s\n' elapsed sent answered lost "heap-after-GC" RSS native threads fds in-flight clients
# One sample: the counts, /proc figures and gauges now; the heap from jcmd, in the background (an
# attach can take tens of seconds on a busy machine and must not hold up the schedule); its line
# and CSV row follow when jcmd is done.
sampler=""
sample() {
  local label=$1 threads fds sent answered lost dup inflight clients_known
  threads="$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$serve/status")"
  fds="$(ls "/proc/$serve/fd" | wc -l)"
  sent=$((java_sent + $(client_count sent)))
  answered=$((java_answered + $(client_count answered)))
  lost=$((java_lost + $(client_count lost)))
  dup=$((java_duplicated + $(client_count duplicated)))
  inflight="$(metric coordinator_requests_in_flight)"
  clients_known="$(metric coordinator_known_clients)"
  local rest="$threads,$fds,$inflight,$clients_known,$kills,$vanished"
  (
    # One attach: the class histogram runs a full GC first and its last line is the live heap in
    # bytes (GC.run and then GC.heap_info, two attaches apart, would count what the coordinator
    # allocated in between); then the committed heap. The largest classes are kept in the logs.
    jcmd "$serve" -f "$work/jcmd.txt" >"$work/jcmd.out"
    sed -n '/^ num /,/^Total  /p' "$work/jcmd.out" | sed -n '1,22p;/^Total  /p' >"$work/histogram-$label.txt"
    used=$(($(awk '/^Total  / { print $3 }' "$work/histogram-$label.txt") / 1024))
    committed="$(sed -n 's/.*total \([0-9]*\)K, used.*/\1/p' "$work/jcmd.out" | head -1)"
    # NMT's committed total less the heap's (both KiB); the categories are kept in the logs
    sed -n '/^Native Memory Tracking/,$p' "$work/jcmd.out" >"$work/nmt-$label.txt"
    native=$(($(sed -n 's/^Total: reserved=[0-9]*KB, committed=\([0-9]*\)KB.*/\1/p' "$work/nmt-$label.txt") -
      $(sed -n 's/^-  *Java Heap (reserved=[0-9]*KB, committed=\([0-9]*\)KB).*/\1/p' "$work/nmt-$label.txt")))
    # after the full GC, so that it does not swing with how far the heap grew since the last one
    rss="$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$serve/status")"
    printf '%7s %9d %9d %5d %10.1f MiB %5.0f MiB %6.0f MiB %8d %5d %9s %9s\n' "$label" "$sent" "$answered" \
      "$lost" "$(awk -v k="$used" 'BEGIN { print k / 1024 }')" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
      "$(awk -v k="$native" 'BEGIN { print k / 1024 }')" \
      "$threads" "$fds" "$inflight" "$clients_known"
    echo "$label,$sent,$answered,$lost,$dup,$used,$committed,$rss,$native,$rest" >>"$csv"
  ) &
  sampler=$!
}

# Kills the vanishing client (SIGKILL); it counts if it had sent its requests.
end_vanisher() {
  kill -9 "$vanisher" 2>/dev/null || true
  wait "$vanisher" 2>/dev/null || true
  grep -q sent "$work/vanish.out" && vanished=$((vanished + 1))
  vanisher=""
}

printf 'GC.class_histogram\nGC.heap_info\nVM.native_memory summary\n' >"$work/jcmd.txt"
next_sample=$((every * 1000))
next_kill=40000
restart_at=0
killed_rank=-1
next_vanish=5000
vanish_kill_at=0
start_round
while :; do
  t=$(elapsed_ms)
  [ "$t" -ge $((duration * 1000)) ] && break
  if [ -n "$load" ] && ! kill -0 "$load" 2>/dev/null; then
    end_round
    start_round
  fi
  if [ "$t" -ge "$next_kill" ]; then
    killed_rank=$(((kills) % 4))
    kill -9 "${engine[$killed_rank]}" 2>/dev/null || true
    wait "${engine[$killed_rank]}" 2>/dev/null || true
    forget "${engine[$killed_rank]}"
    kills=$((kills + 1))
    echo "$(date +%T) killed engine $killed_rank (SIGKILL)" >>"$work/events.log"
    restart_at=$((t + 2000))
    next_kill=$((next_kill + 40000))
  fi
  if [ "$restart_at" -gt 0 ] && [ "$t" -ge "$restart_at" ]; then
    start_engine "$killed_rank" --tokenizer bytes
    echo "$(date +%T) restarted engine $killed_rank" >>"$work/events.log"
    restart_at=0
  fi
  if [ -z "$vanisher" ] && [ "$t" -ge "$next_vanish" ]; then
    : >"$work/vanish.out"
    "$python" "$peers" vanish --endpoint "$endpoint" --requests 100 >"$work/vanish.out" 2>&1 &
    vanisher=$!
    vanish_kill_at=$((t + 15000)) # at the latest (a Python start-up can take seconds here)
    next_vanish=$((next_vanish + 5000))
  fi
  if [ -n "$vanisher" ]; then
    if grep -q sent "$work/vanish.out" && [ "$vanish_kill_at" -gt $((t + 500)) ]; then
      vanish_kill_at=$((t + RANDOM % 500)) # within half a second of its last request
    fi
    [ "$t" -ge "$vanish_kill_at" ] && end_vanisher
  fi
  if [ "$t" -ge "$next_sample" ]; then
    # a slot whose predecessor's jcmd still runs is skipped
    if [ -z "$sampler" ] || ! kill -0 "$sampler" 2>/dev/null; then
      [ -z "$sampler" ] || wait "$sampler" || true
      sample "$((next_sample / 1000))"
    fi
    next_sample=$((next_sample + every * 1000))
  fi
  sleep 0.1
done

drain_from=$(now_ms)
# Drain: the last round stops sending (SIGTERM) and waits for its replies; the Python client
# stops at its own deadline and waits for its replies; control ends unpaused on its own.
[ -n "$vanisher" ] && end_vanisher
[ "$restart_at" -gt 0 ] && start_engine "$killed_rank" --tokenizer bytes
kill -TERM "$garbage" 2>/dev/null || true
[ -n "$load" ] && { kill -TERM "$load" 2>/dev/null || true; end_round draining; }
clients_status=0
wait "$clients" || clients_status=$?
wait "$control" || true
wait "$garbage" || true
# the gauges come with serve's next report (every 10 s)
for _ in $(seq 50); do
  [ "$(metric coordinator_requests_in_flight)" = 0 ] && [ "$(metric coordinator_known_clients)" = 0 ] && break
  sleep 1
done
drain_s=$((($(now_ms) - drain_from) / 1000))
[ -z "$sampler" ] || wait "$sampler" || true
sample drained
wait "$sampler" || true

# Verdict.
failures=()
sent=$((java_sent + $(client_count sent)))
answered=$((java_answered + $(client_count answered)))
lost=$((java_lost + $(client_count lost)))
duplicated=$((java_duplicated + $(client_count duplicated)))
[ "$lost" -eq 0 ] || failures+=("$lost lost")
[ "$duplicated" -eq 0 ] || failures+=("$duplicated duplicated")
[ "$java_bad_rounds" -eq 0 ] || failures+=("$java_bad_rounds load rounds without a report")
[ "$clients_status" -eq 0 ] || failures+=("the Python client reported a fault (exit $clients_status; $work/clients.out)")
[ "$(metric coordinator_internal_error_total)" = 0 ] || failures+=("coordinator_internal_error_total $(metric coordinator_internal_error_total)")
[ "$(metric coordinator_requests_in_flight)" = 0 ] || failures+=("$(metric coordinator_requests_in_flight) requests in flight at the coordinator after the drain")
[ "$(metric coordinator_active_engines)" = 4 ] || failures+=("$(metric coordinator_active_engines) of 4 engines routable at the end")
[ "$(metric coordinator_all_engines_exhausted_total)" = 0 ] || failures+=("$(metric coordinator_all_engines_exhausted_total) requests answered FAILED with no engine to take them")
[ "$(metric coordinator_known_clients)" = 0 ] || failures+=("$(metric coordinator_known_clients) clients known to the coordinator after the drain")
flat="$(awk -F, 'NR > 1 && $1 != "drained" { print $6, $8, $10, $11, $9 }' "$csv" | awk '
  function median(col, from, to,   n, i, j, v, t) {
    n = 0
    for (i = from; i <= to; i++) v[++n] = s[i, col]
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  function check(col, name, unit, scale, abs, rel,   a, b, tol) {
    a = median(col, 1, k); b = median(col, n - k + 1, n)
    tol = abs > a * rel ? abs : a * rel
    printf "%s %.1f -> %.1f%s (tolerance +%.1f)%s;", name, a / scale, b / scale, unit, tol / scale, (b - a > tol ? " GREW" : "")
  }
  { n++; for (c = 1; c <= 5; c++) s[n, c] = $c }
  END {
    if (n < 6) { printf "not judged (%d samples, it takes 6);", n; exit }
    k = int(n / 3)
    check(1, "heap after GC", " MiB", 1024, 8192, 0.10)
    check(2, "RSS", " MiB", 1024, 32768, 0.10)
    check(3, "threads", "", 1, 2, 0)
    check(4, "fds", "", 1, 4, 0)
    check(5, "native (NMT)", " MiB", 1024, 16384, 0.10)
  }')"
grep -q GREW <<<"$flat" && failures+=("grew: $(tr ';' '\n' <<<"$flat" | grep GREW | tr '\n' ';')")
echo
echo "sent $sent, answered $answered, lost $lost, duplicated $duplicated (drained in $drain_s s); load rounds $round, engine kills $kills, vanished clients $vanished ($((vanished * 100)) requests pending at their kill), garbage: $(sed -n 's/.* done //p' "$work/garbage.out" | tr ' ' '\n' | awk -F= '{ n += $2 } END { print n }') frames; control cycles: $(sed -n 's/.*done cycles=//p' "$work/control.out")"
echo "coordinator counted: invalid messages $(metric coordinator_invalid_message_total), unknown senders $(metric coordinator_unknown_sender_total), refused engines $(metric coordinator_refused_engine_total), refused connections $(metric coordinator_refused_connection_total), internal errors $(metric coordinator_internal_error_total), released clients $(metric coordinator_clients_released_total)"
echo "first third -> last third (medians): ${flat//;/, }"
echo "CSV: $csv; logs: $work"
if [ ${#failures[@]} -gt 0 ]; then
  echo "soak: FAILED: $(printf '%s; ' "${failures[@]}")"
  exit 1
fi
if grep -q "not judged" <<<"$flat"; then
  echo "soak: passed (nothing lost or duplicated; growth not judged)"
else
  echo "soak: passed (nothing lost or duplicated, every figure flat)"
fi
