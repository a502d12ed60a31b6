#!/usr/bin/python3
"""The Python peers of scripts/soak.sh: Megatron-like clients that speak the wire directly
(libzmq through pyzmq, msgpack), for what `coordinator load` does not send.

    soak-peers.py clients --endpoint E --seconds S --status FILE [--concurrency C] [--seed N]
    soak-peers.py control --endpoint E --seconds S [--every SECONDS] [--pause SECONDS]
    soak-peers.py garbage --endpoint E --seconds S [--every MS]
    soak-peers.py vanish  --endpoint E [--requests N]

clients: one well-behaved client (DEALER, CONNECT, CONNECT_ACK) that keeps C requests in flight for
S seconds: half text prompts, half token prompts, on a few shared system prompts with a unique
suffix, some streamed, and about one in ten aborted a few milliseconds after it was sent. Every
client request id must get exactly one terminal reply ([21, cid, record]; FAILED counts as
answered); partial replies ([22, ...]) must name an outstanding id. After S seconds it stops sending
and waits up to --drain seconds for what is in flight; what is still unanswered then is lost. The
counts go to FILE as JSON once a second (written whole, then renamed) and once more at the end; the
exit status is 1 if anything was lost or duplicated or a record was malformed.

control: every --every seconds PAUSE, then (every other cycle) SUSPEND and RESUME, then UNPAUSE
after --pause seconds in all, a second UNPAUSE (not allowed while running: rejected), then
SET_GENERATION_EPOCH with the next epoch, and the profiler signals; it always leaves the coordinator
unpaused, also on SIGTERM.

garbage: a misbehaving peer: every --every ms one of random bytes, malformed msgpack, unknown
headers, wrong arity and types, engine-only headers from a client, multi-frame messages, a SUBMIT
without CONNECT, a forged disconnect note, an empty frame (engine registration) under a client
identity, an engine reply from an identity that never registered, an ABORT for an unknown id, and
raw TCP bytes that are no ZMTP greeting. It reads and drops whatever comes back. Runs S seconds or
until SIGTERM.

vanish: a client that connects, sends N long requests and prints "sent", then waits for ever
without reading (scripts/soak.sh kills it with SIGKILL while they are pending).

One line per event goes to stdout. Debian: apt-get install python3-zmq python3-msgpack.
"""

import argparse
import json
import os
import random
import signal
import socket as tcp
import sys
import time

import msgpack
import zmq

CONNECT, CONNECT_ACK = 0, 1
SUBMIT, REPLY, PARTIAL, ABORT = 20, 21, 22, 23
PAUSE, UNPAUSE, SUSPEND, RESUME, EPOCH = 40, 41, 42, 43, 44
PROFILER_START, PROFILER_STOP = 46, 47
STATUSES = {"COMPLETED", "FAILED"}

stopping = False


def on_term(*_):
    global stopping
    stopping = True


def pack(value):
    return msgpack.packb(value, use_bin_type=True)


def dealer(context, endpoint, identity=None):
    """A DEALER as Megatron's peers open one: no high-water marks."""
    s = context.socket(zmq.DEALER)
    s.setsockopt(zmq.SNDHWM, 0)
    s.setsockopt(zmq.RCVHWM, 0)
    s.setsockopt(zmq.LINGER, 0)
    if identity is not None:
        s.setsockopt(zmq.IDENTITY, identity)
    s.connect(endpoint)
    return s


def connected(context, endpoint, seconds=10.0):
    """A client DEALER that has had its CONNECT_ACK."""
    s = dealer(context, endpoint)
    s.send(pack([CONNECT]))
    if not s.poll(int(seconds * 1000)):
        sys.exit("soak-peers: no CONNECT_ACK from %s within %.0f s" % (endpoint, seconds))
    reply = msgpack.unpackb(s.recv(), raw=False)
    if reply != [CONNECT_ACK]:
        sys.exit("soak-peers: expected CONNECT_ACK [1], got %r" % (reply,))
    return s


def say(*words):
    print(time.strftime("%H:%M:%S"), *words, flush=True)


def sampling_params(rng, stream):
    return {"temperature": 1.0, "top_k": 1, "top_p": 0.0, "return_log_probs": False,
            "num_tokens_to_generate": rng.randrange(1, 65), "termination_id": None,
            "detokenize_stop_sequence": False, "streaming": stream}


# ---------------------------------------------------------------------------------------- clients

class Clients:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        rng = self.rng
        self.system_texts = ["System prompt %d. " % i + " ".join(
            "word%d" % rng.randrange(1000) for _ in range(60)) for i in range(8)]
        self.system_tokens = [[rng.randrange(32000) for _ in range(256)] for _ in range(8)]
        self.outstanding = {}  # cid -> abort due at (monotonic) or None
        self.counts = dict(sent=0, answered=0, completed=0, failed=0, aborts_sent=0,
                           partials=0, duplicated=0, unknown=0, malformed=0, lost=0)
        self.answered_ids = set()  # the ids answered, to tell a duplicate from an unknown id
        self.next_cid = 0

    def submit(self, sock):
        rng = self.rng
        cid = self.next_cid
        self.next_cid += 1
        text = rng.random() < 0.5
        if text:
            prompt = "%sQuestion %d: what is %d + %d?" % (
                rng.choice(self.system_texts), cid, rng.randrange(10**6), rng.randrange(10**6))
        else:
            prompt = rng.choice(self.system_tokens) + [
                rng.randrange(32000) for _ in range(rng.randrange(1, 48))]
        params = sampling_params(rng, rng.random() < 0.2)
        sock.send(pack([SUBMIT, cid, prompt, params]))
        abort_at = time.monotonic() + rng.random() * 0.02 if rng.random() < 0.1 else None
        self.outstanding[cid] = abort_at
        self.counts["sent"] += 1

    def receive(self, frame):
        c = self.counts
        try:
            message = msgpack.unpackb(frame, raw=False)
            header, cid, record = message
        except (ValueError, TypeError, msgpack.UnpackException) as e:
            c["malformed"] += 1
            say("malformed reply frame:", repr(e))
            return
        if header == PARTIAL:
            c["partials"] += 1
            if cid not in self.outstanding:
                c["unknown"] += 1
                say("partial reply for id", cid, "which is not outstanding")
            return
        if header != REPLY:
            c["malformed"] += 1
            say("unexpected header", header)
            return
        if cid not in self.outstanding:
            if cid in self.answered_ids:
                c["duplicated"] += 1
                say("duplicate reply for id", cid)
            else:
                c["unknown"] += 1
                say("reply for unknown id", cid)
            return
        del self.outstanding[cid]
        self.answered_ids.add(cid)
        c["answered"] += 1
        status = record.get("status") if isinstance(record, dict) else None
        if status not in STATUSES or not isinstance(record.get("request_id"), int):
            c["malformed"] += 1
            say("malformed record for id", cid, repr(record)[:200])
            return
        c["completed" if status == "COMPLETED" else "failed"] += 1

    def write_status(self, done):
        status = dict(self.counts, outstanding=len(self.outstanding), done=done)
        tmp = self.args.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump(status, f)
        os.replace(tmp, self.args.status)

    def run(self):
        args = self.args
        context = zmq.Context()
        sock = connected(context, args.endpoint)
        say("connected")
        end = time.monotonic() + args.seconds
        drain_end = None
        next_status = 0.0
        while True:
            now = time.monotonic()
            if drain_end is None and (now >= end or stopping):
                drain_end = now + args.drain
                say("stopped sending; draining", len(self.outstanding))
            if drain_end is not None and (not self.outstanding or now >= drain_end):
                break
            if drain_end is None:
                while len(self.outstanding) < args.concurrency:
                    self.submit(sock)
            for cid, abort_at in list(self.outstanding.items()):
                if abort_at is not None and abort_at <= now:
                    sock.send(pack([ABORT, cid]))
                    self.outstanding[cid] = None
                    self.counts["aborts_sent"] += 1
            if sock.poll(5):
                while True:
                    try:
                        frame = sock.recv(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.receive(frame)
            if now >= next_status:
                self.write_status(False)
                next_status = now + 1.0
        self.counts["lost"] = len(self.outstanding)
        self.write_status(True)
        c = self.counts
        say("done", " ".join("%s=%d" % kv for kv in c.items()))
        sock.close()
        context.term()
        return 1 if c["lost"] or c["duplicated"] or c["unknown"] or c["malformed"] else 0


# ---------------------------------------------------------------------------------------- control

def control(args):
    context = zmq.Context()
    sock = connected(context, args.endpoint)
    say("connected")
    end = time.monotonic() + args.seconds
    epoch = 0
    cycle = 0

    def send(*message):
        sock.send(pack(list(message)))
        say("signal", *message)

    def drain():
        while True:
            try:
                sock.recv(zmq.NOBLOCK)
            except zmq.Again:
                return

    def wait(seconds):
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            drain()
            time.sleep(0.05)

    wait(min(args.every / 2, max(0.0, end - time.monotonic() - args.pause)))
    while not stopping and time.monotonic() + args.pause < end:
        cycle += 1
        send(PAUSE)
        if cycle % 2 == 0:
            wait(args.pause / 3)
            send(SUSPEND)
            wait(args.pause / 3)
            send(RESUME)
            wait(args.pause / 3)
        else:
            wait(args.pause)
        send(UNPAUSE)
        send(UNPAUSE)  # not allowed while running: rejected (counted), not broadcast
        epoch += 1
        send(EPOCH, epoch)
        send(PROFILER_START)
        send(PROFILER_STOP)
        rest = end - time.monotonic()
        wait(max(0.0, min(args.every - args.pause, rest)))
    say("done", "cycles=%d" % cycle)
    sock.close()
    context.term()
    return 0


# ---------------------------------------------------------------------------------------- garbage

def garbage(args):
    rng = random.Random(args.seed)
    context = zmq.Context()
    client = connected(context, args.endpoint)
    # an engine identity (the pattern allows it) that never registers: its frames are not an
    # engine's; never one of the real ranks, whose connection it would take over
    stranger = dealer(context, args.endpoint, b"mp-coord-97")
    host, port = args.endpoint.rsplit("//", 1)[1].rsplit(":", 1)
    say("connected")

    def one_shot(frames):
        s = dealer(context, args.endpoint)
        s.send_multipart(frames)
        time.sleep(0.01)  # closing at once with linger 0 could drop it unsent
        s.close()

    def raw_tcp():
        with tcp.create_connection((host, int(port)), timeout=2) as t:
            t.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 128))))

    kinds = [
        ("random bytes", lambda: client.send(rng.randbytes(rng.randrange(1, 256)))),
        ("truncated msgpack", lambda: client.send(pack([SUBMIT, 1, [1, 2, 3], {}])[:-3])),
        ("trailing bytes", lambda: client.send(pack([CONNECT]) + b"\x01")),
        ("not an array", lambda: client.send(pack({"header": SUBMIT}))),
        ("empty array", lambda: client.send(pack([]))),
        ("unknown header", lambda: client.send(pack([rng.choice([2, 19, 27, 48, 99, 1000, -1])]))),
        ("header not an int", lambda: client.send(pack(["SUBMIT_REQUEST", 1, [1], {}]))),
        ("wrong arity", lambda: client.send(pack([SUBMIT, rng.randrange(10**6)]))),
        ("wrong types", lambda: client.send(pack([SUBMIT, "id", 3.5, [1]]))),
        ("prompt of floats", lambda: client.send(pack([SUBMIT, 10**9 + rng.randrange(10**6),
                                                       [1.5, 2.5], {}]))),
        ("engine reply from a client", lambda: client.send(
            pack([REPLY, [{"request_id": rng.randrange(10**6), "status": "COMPLETED"}]]))),
        ("abort of an unknown id", lambda: client.send(pack([ABORT, 10**12 + rng.randrange(10**6)]))),
        ("multi-frame message", lambda: client.send_multipart([pack([CONNECT]), b"extra"])),
        ("forged disconnect note", lambda: client.send(b"\xc1" + rng.randbytes(16))),
        ("SUBMIT without CONNECT", lambda: one_shot([pack([SUBMIT, 1, [1, 2, 3], {}])])),
        ("empty frame from a client identity", lambda: one_shot([b""])),
        ("engine reply from an unregistered engine", lambda: stranger.send(
            pack([REPLY, [{"request_id": rng.randrange(10**6), "status": "COMPLETED"}]]))),
        ("raw TCP bytes", raw_tcp),
    ]
    counts = {name: 0 for name, _ in kinds}
    end = time.monotonic() + args.seconds
    while not stopping and time.monotonic() < end:
        name, send = rng.choice(kinds)
        try:
            send()
            counts[name] += 1
        except (OSError, zmq.ZMQError) as e:
            say("could not send", name, repr(e))
        for s in (client, stranger):
            while True:
                try:
                    s.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
        time.sleep(args.every / 1000)
    say("done", " ".join("%s=%d" % (k.replace(" ", "_"), v) for k, v in counts.items()))
    client.close()
    stranger.close()
    context.term()
    return 0


# ----------------------------------------------------------------------------------------- vanish

def vanish(args):
    rng = random.Random()
    context = zmq.Context()
    sock = connected(context, args.endpoint)
    for cid in range(args.requests):
        params = sampling_params(rng, rng.random() < 0.5)
        params["num_tokens_to_generate"] = rng.randrange(1000, 5000)  # 0.1 to 0.5 s at 100 us
        sock.send(pack([SUBMIT, cid, [rng.randrange(32000) for _ in range(64)], params]))
    say("sent", args.requests)
    while True:
        time.sleep(60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="role", required=True)
    roles = {name: sub.add_parser(name) for name in ("clients", "control", "garbage", "vanish")}
    for p in roles.values():
        p.add_argument("--endpoint", required=True)
    for name in ("clients", "control", "garbage"):
        roles[name].add_argument("--seconds", type=float, required=True)
    roles["clients"].add_argument("--status", required=True)
    roles["clients"].add_argument("--concurrency", type=int, default=32)
    roles["clients"].add_argument("--seed", type=int, default=1)
    roles["clients"].add_argument("--drain", type=float, default=60.0)
    roles["control"].add_argument("--every", type=float, default=30.0)
    roles["control"].add_argument("--pause", type=float, default=3.0)
    roles["garbage"].add_argument("--every", type=float, default=50.0)
    roles["garbage"].add_argument("--seed", type=int, default=1)
    roles["vanish"].add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    if args.role == "clients":
        return Clients(args).run()
    return {"control": control, "garbage": garbage, "vanish": vanish}[args.role](args)


if __name__ == "__main__":
    sys.exit(main())
