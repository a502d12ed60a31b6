#!/usr/bin/env bash
# Memory of `serve` (default limits) under abuse, each against a fresh coordinator with two
# simulated engines; the abusive and normal clients are scripts/abuse-client.py (pyzmq + msgpack).
# Each measuring point prints the coordinator's live heap after a full GC, its RSS, fds and
# threads, some metrics, the last round of a client connected before the abuse (20 requests every
# 0.5 s) and the answer to a new client's 20 requests.
#   flood:        one client submits 1,000,000 requests of 1 generated token and never reads a
#                 reply; measured every 100,000
#   flood-long:   the same with 1,000,000 generated tokens each (100 s on the engines): the
#                 requests stay pending, so --max-pending-per-client binds
#   connections:  10,000 DEALER sockets (4 processes of 2,500) from 127.0.0.2 each send CONNECT;
#                 the same figures at 0, 2,500, 5,000 and 10,000 connections and after they close,
#                 and how many got CONNECT_ACK (--max-connections-per-address 256); the normal
#                 clients connect from 127.0.0.1
#
#   scripts/abuse-memory.sh [flood|flood-long|connections|all]   (default: all)
set -euo pipefail
which="${1:-all}"
case "$which" in
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  flood | flood-long | connections | all) ;;
  *) echo "abuse-memory.sh: unknown abuse '$which' (flood, flood-long, connections or all)" >&2; exit 2 ;;
esac
python=/usr/bin/python3 # Debian's, with python3-zmq and python3-msgpack
"$python" -c 'import zmq, msgpack' 2>/dev/null ||
  { echo "abuse-memory.sh: needs Debian's python3-zmq and python3-msgpack" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/local-cluster.sh"
client="$root/scripts/abuse-client.py"

fresh_cluster() {
  if [ -n "${serve:-}" ]; then
    kill "$serve" "${engine[0]}" "${engine[1]}" 2>/dev/null || true
    wait "$serve" "${engine[0]}" "${engine[1]}" 2>/dev/null || true
  fi
  start_serve --engines 2 --report-every 1s --log-level warn
  for r in 0 1; do start_engine "$r"; done
  wait_engines 0 1
  [ -n "${resident:-}" ] && kill "$resident"
  "$python" "$client" resident "$endpoint" 20 >"$work/resident.out" &
  resident=$!
  pids+=("$resident")
  for _ in $(seq 100); do [ -s "$work/resident.out" ] && break; sleep 0.1; done
}

# until the coordinator holds $1 more fds than at start (the connections), or they stop coming
await_fds() {
  local want=$(($1 + base_fds)) last=-1 same=0 now
  for _ in $(seq 1200); do
    now="$(ls "/proc/$serve/fd" | wc -l)"
    [ "$now" -ge "$want" ] && return
    if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
    [ "$same" -ge 50 ] && { echo "    (the coordinator holds $now fds, not $want)"; return; }
    last=$now
    sleep 0.1
  done
}

# the last value of a metric in serve's --report-every output
metric() {
  grep -A1 "^$1\$" "$work/serve.err" | sed -n 's/.*\(count\|value\) = //p' | tail -1
}

measure() {
  local live rss fds threads
  # the class histogram runs a full GC first; its last line is the live heap in bytes
  live="$(jcmd "$serve" GC.class_histogram | awk '/^Total/ { print $3 }')"
  rss="$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$serve/status")"
  threads="$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$serve/status")"
  fds="$(ls "/proc/$serve/fd" | wc -l)"
  sleep 1.1 # the next --report-every report
  awk -v what="$1" -v l="$live" -v r="$rss" -v f="$fds" -v t="$threads" \
    -v c="$(metric coordinator_known_clients)" -v p="$(metric coordinator_requests_in_flight)" \
    -v x="$(metric coordinator_limit_rejected_total)" \
    -v g="$(metric coordinator_clients_released_total)" \
    -v z="$(metric coordinator_refused_connection_total)" \
    -v u="$(metric coordinator_unknown_sender_total)" 'BEGIN {
    printf "%-22s live heap %6.1f MiB  RSS %6.1f MiB  fds %5d  threads %3d  clients %s  in flight %s  limit_rejected %s  released %s  unknown_sender %s  refused_connection %s\n",
      what, l / 1048576, r / 1024, f, t, c, p, x, g, u, z }'
}

# a client connected before the abuse (its latest round), and a new one
normal() {
  echo "    $(tail -1 "$work/resident.out")"
  echo "    new $("$python" "$client" normal "$endpoint" 20 || true)"
}

# flood TITLE TOKENS: 1,000,000 SUBMITs asking for TOKENS generated tokens, from a client that
# never reads
flood() {
  echo "== $1: 1,000,000 SUBMITs of $2 generated tokens from a client that never reads"
  fresh_cluster
  measure "before"
  normal
  coproc FLOOD { "$python" "$client" flood "$endpoint" 1000000 100000 "$2"; }
  local flood_pid=$FLOOD_PID n
  while read -r _ n <&"${FLOOD[0]}"; do
    measure "$n sent"
    normal
    echo go >&"${FLOOD[1]}"
  done
  wait "$flood_pid" || true
  measure "after it closed"
  normal
}

case "$which" in flood | all) flood flood 1 ;; esac
case "$which" in flood-long | all) flood flood-long 1000000 ;; esac

if [ "$which" = connections ] || [ "$which" = all ]; then
  echo "== connections: 10,000 DEALERs from 127.0.0.2, each sends CONNECT"
  fresh_cluster
  measure "0 connections"
  normal
  base_fds="$(ls "/proc/$serve/fd" | wc -l)"
  holders=()
  for batch in 1 2 3 4; do
    # libzmq's source-address syntax: the flood comes from 127.0.0.2, the normal clients do not
    "$python" "$client" connections "tcp://127.0.0.2:0;${endpoint#tcp://}" 2500 \
      >"$work/connections-$batch.out" &
    holders+=($!)
    pids+=($!)
    for _ in $(seq 600); do [ -s "$work/connections-$batch.out" ] && break; sleep 0.1; done
    [ "$batch" = 3 ] && continue # measure at 2,500, 5,000 and 10,000
    SECONDS=0
    await_fds "$((batch * 2500))"
    echo "    the coordinator accepted them after $SECONDS s more"
    cat "$work"/connections-*.out | awk '{ o += $2; a += $4 } END { printf "    %d sockets open, %d got CONNECT_ACK\n", o, a }' 
    measure "$((batch * 2500)) connections"
    normal
  done
  kill "${holders[@]}"
  wait "${holders[@]}" 2>/dev/null || true
  SECONDS=0
  for _ in $(seq 1200); do # ZMQ closes them all
    [ "$(ls "/proc/$serve/fd" | wc -l)" -le $((base_fds + 2)) ] && break
    sleep 0.1
  done
  echo "    the coordinator closed them within $SECONDS s"
  sleep 1 # the last disconnect notes reach the loop
  measure "after they closed"
  normal
fi
