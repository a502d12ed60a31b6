"""Replays a routing trace through the wire: one Megatron-like client and engine DEALERs.

    parity.py --endpoint E --trace trace.jsonl.gz --identities mp-coord-2,mp-coord-10,...
              [--detokenizing]
    parity.py --endpoint E --trace trace.jsonl.gz --labels N

--labels N: N start-up engines whose identities are mp-coord-000, mp-coord-001, ... (so rank index =
label), the trace's ranks being labels; an `add` op registers mp-coord-<label> (a new one, or one
that left, which registers again). After every remove and add the driver prints `engines
active=<n>` and waits for a line on stdin: the caller answers once the coordinator has n engines,
since an engine that leaves with nothing pending, or joins, gets no reply to wait for.

The engines register (empty frame) in the order given. Each trace op is carried out on the
wire and confirmed before the next one starts, so the coordinator sees exactly the trace:
- submit:   the client sends [20, id, prompt, sampling_params], the prompt being the op's
            "tokens" (a list of ints) or its "text" (a str); the driver waits until one
            engine receives it and reports `decision id=<id> engine=<identity>`.
- complete: the engine holding the request answers [21, [record]]; the driver waits until the
            client has the reply (so the coordinator has released the request's pending count).
            A request of a removed engine was already answered FAILED: nothing to do.
- remove:   the engine of that rank index sends DISCONNECT [60]; the driver waits until the
            client has a FAILED reply for each request still pending on it.
Engines never answer on their own, so pending counts follow the trace. At the end every engine
answers what it still holds. Rank index = position of the identity in unsigned byte order.

Every reply must be the record its engine packed, byte for byte. With --detokenizing (a
coordinator with a tokenizer, which sets generated_text on every record as Megatron's does) the
engines answer with no generated tokens, and the reply must be the engine's record with
generated_text "" in place of nil: what every Megatron tokenizer library makes of no ids.
"""

import argparse
import gzip
import json
import random
import sys
import time

import zmq

import megatron_wire as w


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--trace", required=True)
    parser.add_argument("--identities")
    parser.add_argument("--labels", type=int)
    parser.add_argument("--detokenizing", action="store_true")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    deadline = time.monotonic() + args.seconds
    if (args.identities is None) == (args.labels is None):
        w.die("give --identities or --labels")
    if args.labels is not None:
        identities = [label_identity(label) for label in range(args.labels)]
    else:
        identities = args.identities.split(",")
    by_rank = sorted(identities, key=lambda s: s.encode("utf-8"))  # bytes compare unsigned
    context = zmq.Context()
    engines = w.EngineSockets(context, args.endpoint, identities)
    client = w.connected_client(context, args.endpoint, deadline)

    replay = Replay(client, engines, deadline, args.detokenizing)
    replay.confirming = args.labels is not None
    ops = 0
    with gzip.open(args.trace, "rt", encoding="utf-8") as trace:
        for line in trace:
            op = json.loads(line)
            kind = op["op"]
            if kind == "submit":
                replay.submit(op["id"], op["text"] if "text" in op else op["tokens"])
            elif kind == "complete":
                replay.complete(op["id"])
            elif kind == "remove" and args.labels is not None:
                replay.remove(label_identity(op["rank"]))
                replay.confirm_engines()
            elif kind == "remove":
                replay.remove(by_rank[op["rank"]])
            elif kind == "add" and args.labels is not None:
                replay.add(context, args.endpoint, label_identity(op["rank"]))
                replay.confirm_engines()
            else:
                w.die("trace op %r cannot be replayed through the wire" % kind)
            ops += 1
    replay.finish()
    w.emit("done", ops=ops, submits=len(replay.owner), failed=replay.failed)
    for socket in list(engines.sockets.values()) + [client]:
        socket.close()
    context.term()


def label_identity(label):
    return "mp-coord-%03d" % label


class Replay:
    def __init__(self, client, engines, deadline, detokenizing):
        self.client = client
        self.detokenizing = detokenizing
        self.engines = engines
        self.deadline = deadline
        self.params = w.sampling_params(1, False)
        self.rng = random.Random(7)
        self.owner = {}  # trace id -> (identity, rid)
        self.prompt = {}  # trace id -> prompt (tokens or text)
        self.pending = {identity: set() for identity in engines.sockets}
        self.removed = set()
        self.failed = 0
        self.confirming = False

    def submit(self, cid, prompt):
        self.client.send(w.pack([w.SUBMIT_REQUEST, cid, prompt, self.params]))
        identity, message = self.engines.next_frame(self.deadline)
        if message[0] != w.SUBMIT_REQUEST or len(message) != 5 or message[2] != prompt:
            w.die("engine %s got %r for trace id %d" % (identity, message[:2], cid))
        if identity in self.removed:
            w.die("request %d was routed to removed engine %s" % (cid, identity))
        self.owner[cid] = (identity, message[1])
        self.prompt[cid] = prompt
        self.pending[identity].add(cid)
        w.emit("decision", id=cid, engine=identity)

    def complete(self, cid):
        identity, _ = self.owner[cid]
        if identity in self.removed:
            return  # answered FAILED when its engine left
        self.answer(identity, [cid])

    def remove(self, identity):
        lost = set(self.pending[identity])
        if not lost and not self.confirming:
            w.die("engine %s has nothing pending: its removal cannot be confirmed" % identity)
        self.engines.sockets[identity].send(w.pack([w.DISCONNECT]))
        self.removed.add(identity)
        while lost:
            cid, record, _ = self.client_reply()
            if cid not in lost:
                w.die("unexpected reply for trace id %d while %s was leaving" % (cid, identity))
            w.check_failed(record, self.prompt[cid], self.params)
            lost.discard(cid)
            self.failed += 1
        self.pending[identity].clear()

    def add(self, context, endpoint, identity):
        """A new engine registers, or one that left registers again (an empty frame)."""
        if identity in self.removed:
            self.removed.discard(identity)
            self.engines.sockets[identity].send(b"")
        else:
            self.engines.add(context, endpoint, identity)
            self.pending[identity] = set()

    def confirm_engines(self):
        """Waits for the caller to see the coordinator with the engines now registered."""
        active = sum(1 for i in self.engines.sockets if i not in self.removed)
        w.emit("engines", active=active)
        if sys.stdin.readline().strip() != "ok":
            w.die("the caller did not confirm %d engines" % active)

    def finish(self):
        for identity in self.engines.sockets:
            if identity not in self.removed and self.pending[identity]:
                self.answer(identity, sorted(self.pending[identity]))

    def answer(self, identity, cids):
        """The engine answers `cids` in one ENGINE_REPLY; waits until the client has each."""
        records, digests = [], {}
        for cid in cids:
            rid = self.owner[cid][1]
            generated = [] if self.detokenizing else w.generated_tokens(rid, 1)
            record = w.engine_record(rid, self.prompt[cid], self.params, "COMPLETED",
                                     generated, time.time(), self.rng)
            records.append(record)
            expected = dict(record, generated_text="") if self.detokenizing else record
            digests[cid] = w.sha256(w.pack(expected))
            self.pending[identity].discard(cid)
        self.engines.sockets[identity].send(w.pack([w.ENGINE_REPLY, records]))
        while digests:
            cid, _, digest = self.client_reply()
            if digests.pop(cid, None) != digest:
                w.die("reply for trace id %d is not the record its engine packed" % cid)

    def client_reply(self):
        frame = w.recv_within(self.client, self.deadline, "reply at the client")
        message = w.unpack(frame)
        if message[0] != w.ENGINE_REPLY or len(message) != 3:
            w.die("client expected [21, id, record], got %r" % (message[:2],))
        return message[1], message[2], w.sha256(w.elements(frame)[2])


if __name__ == "__main__":
    main()
