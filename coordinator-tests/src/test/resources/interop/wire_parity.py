"""A random walk of client and engine messages through a coordinator, every output delimited.

    wire_parity.py --endpoint E --expected wire-parity.jsonl
    wire_parity.py --endpoint E --expected control-parity.jsonl --signals
    wire_parity.py --endpoint E --expected OTHER.jsonl [--signals] --seed N   (a walk recorded
        with generate_wire_parity.py's SEED N)

The coordinator at E waits for two engines (mp-coord-0, mp-coord-1) and detokenizes with a
NullTokenizer of 2^20 ids (`--tokenizer null:1048576`; Megatron's coordinator always
detokenizes). Two clients, whose request ids both count from 0, as Megatron's clients' do. First
each client sends a sentinel request, which the coordinator routes to the idle engine of its rank
(client 0's to mp-coord-0, client 1's to mp-coord-1) and which stays pending to the end. Then 400
steps, each one message, drawn by a seeded walk over what is in flight:
- from a client: SUBMIT_REQUEST (token prompts from a few shared prefixes),
  SUBMIT_REQUEST_WITH_KV, ABORT_REQUEST of its request in flight, RELEASE_KV, or a control signal;
- from the engine holding a request in flight: ENGINE_REPLY (its final record, sometimes with the
  tokenizer's EOD at the end) or ENGINE_REPLY_PARTIAL.
--signals: 300 steps, every one a control signal from a client (SET_GENERATION_EPOCH too, with
epochs up to 2^40), most of them not allowed in the state they meet.
Every output of a step is delimited on both sides, whichever peer sent it, since each peer's
frames keep their order: the step's sender follows it with its own sentinel (a client a
RELEASE_KV of a number no step uses, which Megatron's coordinator broadcasts in every state and
which changes nothing else; an engine a partial reply for its sentinel request, which reaches that
request's client), and once that sentinel has arrived the other kind follows; at the end both
engines' sentinels reach both clients. The outputs are compared
with the expected file, recorded from Megatron main's own coordinator by
coordinator-tests/src/test/python/generate_wire_parity.py with `walk` below: one JSON line per
step, {"step": [sender, message], "engines": [[frames of mp-coord-0], [frames of mp-coord-1]],
"clients": [[frames of client 0], [frames of client 1]]} (a sender is "client0", "client1" or an
engine's rank). The engines' frames must be the same at every step, each client's the same for
every request (`by_client_request`). Exits 1 at the first difference, naming it. Output:
`done steps=N` and the count of each kind of step.
Not in the walk: what the coordinator here does on purpose unlike Megatron's (a FAILED answer for
the requests of an engine that leaves, a second CONNECT_ACK for a repeated CONNECT, answers to
malformed or unknown frames), and SET_GENERATION_EPOCH, after which its index counts every cache
as empty (docs/spec/ROUTING.md, "Stale detection") where Megatron's keeps routing on it.
"""

import argparse
import json
import random
import sys
import time

import zmq

import megatron_wire as w

STEPS = 400
SIGNAL_STEPS = 300
SIGNALS = ["PAUSE", "UNPAUSE", "SUSPEND", "RESUME", "STOP", "START_CUDA_PROFILER",
           "STOP_CUDA_PROFILER"]
EOD = (1 << 20) - 1
SENTINEL = 1_000_000
H = w.V0_19


def walk(endpoint, seed, seconds, client_frames=None, signals=False):
    """Runs the walk against the coordinator at `endpoint`; returns one record per step.

    With `client_frames` (a count per client), reads each client's frames at the end until it has
    that many (a coordinator may send a request's final reply after a later request's partial:
    see `by_client_request`)."""
    deadline = time.monotonic() + seconds
    rng = random.Random(seed)
    context = zmq.Context()
    names = ["mp-coord-%d" % rank for rank in range(2)]
    registered = w.EngineSockets(context, endpoint, names)
    engines = [registered.sockets[name] for name in names]
    clients = [w.connected_client(context, endpoint, deadline) for _ in range(2)]

    def engine_frame(rank):
        return w.unpack(w.recv_within(engines[rank], deadline, "a frame at an engine"))

    # one sentinel request per engine, pending to the end: client k's on engine k
    sentinel_rid = {}
    for k, client in enumerate(clients):
        client.send(w.pack([H.SUBMIT_REQUEST, 900_000 + k, [k, k + 1], {}]))
        name, message = registered.next_frame(deadline)
        rank = names.index(name)
        if rank != k:
            w.die("client %d's sentinel request reached engine %d" % (k, rank))
        sentinel_rid[rank] = message[1]

    def delimit_client(rank, mark, got_clients):
        """Engine `rank`'s sentinel, a partial reply, reaches client `rank`; frames before it."""
        partial = {"request_id": sentinel_rid[rank], "new_tokens": [mark]}
        engines[rank].send(w.pack([H.ENGINE_REPLY_PARTIAL, [partial]]))
        while True:
            frame = w.unpack(w.recv_within(clients[rank], deadline, "a frame at a client"))
            if frame[0] == H.ENGINE_REPLY_PARTIAL and frame[2] == partial:
                return
            got_clients[rank].append(frame)

    prefixes = [[rng.randrange(1000) for _ in range(16 * rng.randint(1, 3))] for _ in range(4)]
    in_flight = {}  # (client, client request id) -> (rank, request id)
    records, next_cid = [], [0, 0]
    for step in range(SIGNAL_STEPS if signals else STEPS):
        if signals:
            sender, message = "client%d" % rng.randrange(2), draw_signal(rng, epochs=True)
        else:
            sender, message = draw(rng, in_flight, prefixes, next_cid)
        k = int(sender[-1]) if isinstance(sender, str) else sender
        if message[0] in (H.SUBMIT_REQUEST, H.SUBMIT_REQUEST_WITH_KV):
            next_cid[k] += 1
        (clients[k] if isinstance(sender, str) else engines[sender]).send(w.pack(message))
        got_engines, got_clients = [[], []], [[], []]
        sentinel = [H.RELEASE_KV, SENTINEL + step]

        def delimit_engines(client):
            client.send(w.pack(sentinel))
            for rank in range(2):
                while (frame := engine_frame(rank)) != sentinel:
                    got_engines[rank].append(frame)

        if isinstance(sender, str):
            delimit_engines(clients[k])
            delimit_client(k, step, got_clients)
        else:
            delimit_client(sender, step, got_clients)
            delimit_engines(clients[0])
        observe(message, k, got_engines, in_flight)
        records.append({"step": [sender, message], "engines": got_engines, "clients": got_clients})
    last = records[-1]["clients"]
    for k in range(2):
        delimit_client(k, -1, records[-1]["clients"])
        received = sum(len(r["clients"][k]) for r in records)
        while client_frames is not None and received < client_frames[k]:
            last[k].append(w.unpack(w.recv_within(clients[k], deadline, "the rest of the replies")))
            received += 1
    for s in engines + clients:
        s.close(linger=0)
    context.term()
    return records


def by_client_request(records):
    """The clients' frames of the whole walk, in order, per client and client request id.

    Megatron's coordinator answers in the order it reads, so there the sentinels delimit every
    step's replies. This one detokenizes final records off its event loop (docs/TOKENIZERS.md) and
    forwards partial ones at once, so a final reply may reach the client after another request's
    later partial, the sentinel included; each request's own frames keep their order (partials,
    then its final reply), and that is what is compared."""
    out = {}
    for record in records:
        for k, frames in enumerate(record["clients"]):
            for frame in frames:
                out.setdefault("%d/%d" % (k, frame[1]), []).append(frame)
    return out


def draw(rng, in_flight, prefixes, next_cid):
    """The next step's sender ("client0", "client1" or an engine's rank) and message."""
    r = rng.random()
    k = rng.randrange(2)
    client = "client%d" % k
    if in_flight and r < 0.30:
        done = rng.choice(sorted(in_flight))
        rank, rid = in_flight[done]
        tokens = [rng.randrange(1000) for _ in range(rng.randrange(0, 6))]
        if rng.random() < 0.3:
            tokens.append(EOD)
        record = {"request_id": rid, "status": "COMPLETED", "generated_tokens": tokens,
                  "sampling_params": {"detokenize_stop_sequence": rng.random() < 0.3}}
        return rank, [H.ENGINE_REPLY, [record]]
    if in_flight and r < 0.40:
        rank, rid = in_flight[rng.choice(sorted(in_flight))]
        return rank, [H.ENGINE_REPLY_PARTIAL, [{"request_id": rid, "new_tokens": [1, 2]}]]
    if in_flight and r < 0.45:
        owner, cid = rng.choice(sorted(in_flight))
        return "client%d" % owner, [H.ABORT_REQUEST, cid]
    if r < 0.48:
        return client, [H.RELEASE_KV, rng.randrange(100)]
    if r < 0.68:
        return client, draw_signal(rng, epochs=False)
    prompt = rng.choice(prefixes) + [rng.randrange(1000) for _ in range(rng.randrange(0, 20))]
    params = {"num_tokens_to_generate": rng.randrange(1, 9)}
    if r < 0.73:
        return client, [H.SUBMIT_REQUEST_WITH_KV, next_cid[k], prompt, params, {"layers": 2},
                        [rng.randrange(50) for _ in range(3)]]
    return client, [H.SUBMIT_REQUEST, next_cid[k], prompt, params]


def draw_signal(rng, epochs):
    """A control signal; with `epochs`, SET_GENERATION_EPOCH too (after which this coordinator's
    index counts every cache as empty, so not in the walk of all messages)."""
    name = rng.choice(SIGNALS + (["SET_GENERATION_EPOCH"] if epochs else []))
    if name == "SET_GENERATION_EPOCH":
        return [H.SET_GENERATION_EPOCH, rng.randrange(1, 1 << 40)]
    return [H.value(name)]


def observe(message, k, got_engines, in_flight):
    """Updates what is in flight from the step's message (sent by client `k`, if a client's) and
    what the engines got."""
    if message[0] in (H.SUBMIT_REQUEST, H.SUBMIT_REQUEST_WITH_KV):
        for rank in range(2):
            for frame in got_engines[rank]:
                if frame[0] == message[0]:
                    in_flight[(k, message[1])] = (rank, frame[1])
    elif message[0] == H.ENGINE_REPLY:
        rid = message[1][0]["request_id"]
        for cid, (_, r) in list(in_flight.items()):
            if r == rid:
                del in_flight[cid]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--signals", action="store_true")
    parser.add_argument("--seed", type=int, default=1, help="the walk's (the recording's) seed")
    args = parser.parse_args()

    with open(args.expected) as f:
        expected = [json.loads(line) for line in f if line.strip()]
    counts = [sum(len(e["clients"][k]) for e in expected) for k in range(2)]
    got = walk(args.endpoint, args.seed, args.seconds, counts, args.signals)
    for i, (e, g) in enumerate(zip(expected, got)):
        if g["step"] != e["step"] or g["engines"] != e["engines"]:
            w.emit("mismatch", step=i, expected=json.dumps(e, separators=(",", ":")),
                   got=json.dumps(g, separators=(",", ":")))
            sys.exit(1)
    want, have = by_client_request(expected), by_client_request(got)
    for cid in sorted(set(want) | set(have)):
        if want.get(cid) != have.get(cid):
            w.emit("mismatch", client_request=cid,
                   expected=json.dumps(want.get(cid), separators=(",", ":")),
                   got=json.dumps(have.get(cid), separators=(",", ":")))
            sys.exit(1)
    kinds = {}
    for record in got:
        name = H.names[record["step"][1][0]]
        kinds[name] = kinds.get(name, 0) + 1
    w.emit("done", steps=len(got), **kinds)


if __name__ == "__main__":
    main()
