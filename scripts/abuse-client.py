#!/usr/bin/python3
"""Abusive and normal clients of a coordinator, written against pyzmq and msgpack alone (Debian's
python3-zmq and python3-msgpack), for scripts/abuse-memory.sh.

  abuse-client.py normal ENDPOINT REQUESTS
      connects, submits REQUESTS requests, waits for every reply (10 s); prints one line, exits 1
      unless every reply came
  abuse-client.py resident ENDPOINT REQUESTS
      connects once, then in rounds (every 0.5 s until SIGTERM) submits REQUESTS requests and waits
      for their replies (10 s); prints one line per round
  abuse-client.py flood ENDPOINT TOTAL STEP [TOKENS]
      a client that submits TOTAL requests (each asking for TOKENS generated tokens, default 1) and
      never reads a reply; after every STEP it prints "sent N" and waits for a line on stdin
  abuse-client.py connections ENDPOINT COUNT
      opens COUNT DEALER sockets, each sends CONNECT; prints "open COUNT acked K" once the
      CONNECT_ACKs stop coming, then holds them until SIGTERM, when it closes them all
"""
import signal
import sys
import time

import msgpack
import zmq

CONNECT, CONNECT_ACK, SUBMIT, REPLY = 0, 1, 20, 21
PROMPT = list(range(1000, 1064))  # the same 64 tokens each time: the routing index does not grow
SAMPLING = {"num_tokens_to_generate": 1}


def dealer(context, endpoint):
    s = context.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    return s


def normal(endpoint, requests):
    context = zmq.Context()
    s = dealer(context, endpoint)
    s.setsockopt(zmq.RCVTIMEO, 10_000)
    t0 = time.monotonic()
    try:
        s.send(msgpack.packb([CONNECT]))
        if msgpack.unpackb(s.recv()) != [CONNECT_ACK]:
            raise RuntimeError("expected CONNECT_ACK")
        for i in range(requests):
            s.send(msgpack.packb([SUBMIT, i, PROMPT, SAMPLING]))
        statuses = {}
        while len(statuses) < requests:
            m = msgpack.unpackb(s.recv())
            if m[0] == REPLY:
                status = m[2].get("status")
                statuses[m[1]] = status
        ok = sum(1 for v in statuses.values() if v == "COMPLETED")
        print(f"normal client: {ok}/{requests} COMPLETED in {1000 * (time.monotonic() - t0):.0f} ms")
        return 0 if ok == requests else 1
    except zmq.Again:
        print(f"normal client: no answer within 10 s (CONNECT_ACK or a reply)")
        return 1
    finally:
        s.close()
        context.term()


def resident(endpoint, requests):
    context = zmq.Context()
    s = dealer(context, endpoint)
    s.setsockopt(zmq.RCVTIMEO, 10_000)
    s.send(msgpack.packb([CONNECT]))
    if msgpack.unpackb(s.recv()) != [CONNECT_ACK]:
        raise RuntimeError("expected CONNECT_ACK")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for r in range(sys.maxsize):
        t0 = time.monotonic()
        ids = set(range(r * requests, (r + 1) * requests))
        for i in ids:
            s.send(msgpack.packb([SUBMIT, i, PROMPT, SAMPLING]))
        ok = 0
        try:
            while ids:
                m = msgpack.unpackb(s.recv())
                if m[0] == REPLY and m[1] in ids:
                    ids.discard(m[1])
                    ok += m[2].get("status") == "COMPLETED"
            took = f"in {1000 * (time.monotonic() - t0):.0f} ms"
        except zmq.Again:
            took = "(no more replies within 10 s)"
        print(f"resident client round {r}: {ok}/{requests} COMPLETED {took}", flush=True)
        time.sleep(0.5)


def flood(endpoint, total, step, tokens):
    context = zmq.Context()
    s = context.socket(zmq.DEALER)
    # read nothing, and let as little as possible wait on this side: the coordinator's queue fills
    s.setsockopt(zmq.RCVHWM, 1)
    s.setsockopt(zmq.RCVBUF, 4096)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    s.send(msgpack.packb([CONNECT]))
    packer = msgpack.Packer()
    sampling = {"num_tokens_to_generate": tokens}
    for n in range(total):
        s.send(packer.pack([SUBMIT, n, PROMPT, sampling]))  # blocks at SNDHWM (1000)
        if (n + 1) % step == 0:
            print(f"sent {n + 1}", flush=True)
            if not sys.stdin.readline():
                break
    s.close()
    context.term()
    return 0


def connections(endpoint, count):
    context = zmq.Context()
    context.set(zmq.MAX_SOCKETS, count + 16)  # libzmq allows 1,023 by default
    sockets = [dealer(context, endpoint) for _ in range(count)]
    for s in sockets:
        s.send(msgpack.packb([CONNECT]))
    poller = zmq.Poller()
    for s in sockets:
        poller.register(s, zmq.POLLIN)
    acked = 0
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 2.0:  # until no CONNECT_ACK came for 2 s
        ready = poller.poll(200)
        for s, _ in ready:
            s.recv()
            acked += 1
            quiet_since = time.monotonic()
    print(f"open {count} acked {acked}", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        signal.pause()
    for s in sockets:
        s.close()
    context.term()
    return 0


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    mode, args = argv[1], argv[2:]
    if mode == "normal" and len(args) == 2:
        return normal(args[0], int(args[1]))
    if mode == "resident" and len(args) == 2:
        return resident(args[0], int(args[1]))
    if mode == "flood" and len(args) in (3, 4):
        return flood(args[0], int(args[1]), int(args[2]), int(args[3]) if len(args) == 4 else 1)
    if mode == "connections" and len(args) == 2:
        return connections(args[0], int(args[1]))
    print(f"abuse-client.py: bad usage {' '.join(argv[1:])!r}; see --help", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
