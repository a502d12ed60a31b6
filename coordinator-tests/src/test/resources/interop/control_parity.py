"""Control signals through a coordinator: each engine must receive what Megatron's engines did.

    control_parity.py --endpoint E --expected control-parity.jsonl

The coordinator at E has two engines to wait for: this driver registers them (mp-coord-0 and
mp-coord-1) and connects one client. Then, step by step, the client sends one control signal (a
deterministic random walk over PAUSE, UNPAUSE, SUSPEND, RESUME, STOP, SET_GENERATION_EPOCH,
START_CUDA_PROFILER and STOP_CUDA_PROFILER, many of them not allowed in the state the coordinator
is in) followed by a sentinel, SET_GENERATION_EPOCH 1000000 + step, which every coordinator
broadcasts in every state. Each engine reads until its sentinel: what came before it is what the
step's signal made the coordinator send that engine. The client's and the engines' frames are
one pipe each, so nothing else can come between.

The expected file has one JSON line per step, {"send": [signal...], "engines": [[msg, ...], [msg,
...]]} (the sentinel left out), as coordinator-tests/src/test/python/generate_control_parity.py
records them from Megatron's own coordinator with `signals` and `run` below. The driver replays the
signals and exits 1 at the first step whose engines got something else, naming it. Output: `done
steps=N broadcast=B rejected=R` (or `mismatch step=...`).
"""

import argparse
import json
import random
import sys
import time

import zmq

import megatron_wire as w

STEPS = 300
SENTINEL = 1_000_000
SIGNALS = ["PAUSE", "UNPAUSE", "SUSPEND", "RESUME", "STOP", "SET_GENERATION_EPOCH",
           "START_CUDA_PROFILER", "STOP_CUDA_PROFILER"]


def signals(seed):
    rng = random.Random(seed)
    out = []
    for _ in range(STEPS):
        name = rng.choice(SIGNALS)
        message = [w.V0_19.value(name)]
        if name == "SET_GENERATION_EPOCH":
            message.append(rng.randrange(1, 1 << 40))
        out.append(message)
    return out


def run(endpoint, steps, seconds):
    deadline = time.monotonic() + seconds
    context = zmq.Context()
    engines = [w.dealer(context, endpoint, "mp-coord-%d" % rank) for rank in range(2)]
    for engine in engines:
        engine.send(b"")  # registration
    client = w.connected_client(context, endpoint, deadline)
    received = []
    for i, message in enumerate(steps):
        sentinel = [w.V0_19.value("SET_GENERATION_EPOCH"), SENTINEL + i]
        client.send(w.pack(message))
        client.send(w.pack(sentinel))
        got = []
        for engine in engines:
            frames = []
            while True:
                frame = w.unpack(w.recv_within(engine, deadline, "the sentinel at an engine"))
                if frame == sentinel:
                    break
                frames.append(frame)
            got.append(frames)
        received.append(got)
    for s in engines + [client]:
        s.close(linger=0)
    context.term()
    return received


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    with open(args.expected) as f:
        expected = [json.loads(line) for line in f if line.strip()]
    received = run(args.endpoint, [e["send"] for e in expected], args.seconds)
    for i, (e, got) in enumerate(zip(expected, received)):
        if got != e["engines"]:
            w.emit("mismatch", step=i, sent=json.dumps(e["send"]).replace(" ", ""),
                   expected=json.dumps(e["engines"]).replace(" ", ""),
                   got=json.dumps(got).replace(" ", ""))
            sys.exit(1)
    w.emit("done", steps=len(received),
           broadcast=sum(1 for got in received if got[0]),
           rejected=sum(1 for got in received if not got[0]))


if __name__ == "__main__":
    main()
