"""A random walk of core_v0.16 client and engine messages through a coordinator, every output
compared byte for byte with what Megatron core_v0.16.1's own coordinator sent.

    core016_parity.py --endpoint E --expected core016-parity.jsonl [--seed N]

The coordinator at E speaks core_v0.16 (`--engine-wire 0.16`), waits for three engines
(mp-coord-0..2), routes round robin and detokenizes with a NullTokenizer (`--tokenizer null`).
Two clients, whose request ids both count from 0, as core_v0.16's clients' do. The engines are
named by the order in which they receive their first request (E0, E1, E2: round robin's order,
which is their registration order, whichever that was), in the frames too (the identity in an
acknowledgement relayed to clients). The walk starts with three requests, so that every engine
has its name, then takes seeded steps, each one message, whose outputs are all awaited before the
next step (how many is known from the protocol: one SUBMIT to an engine; a signal to every
engine; a reply record to its client; an engine's PAUSE_ACK nothing, or, when it is the last of
the round, the acknowledgement to every client and every engine):
- from a client: SUBMIT_REQUEST (token prompts on a few shared prefixes, or text), or PAUSE,
  UNPAUSE, SUSPEND, RESUME; a PAUSE opens a round that only UNPAUSE closes, as the only PAUSE
  core_v0.16's coordinator survives (its engines acknowledge every PAUSE, and it fails an
  assertion on an engine's second acknowledgement before an UNPAUSE);
- from an engine: ENGINE_REPLY with 1 to 3 of its pending requests, each in its own record
  (sometimes holding a second request), with trailing EODs now and then; or its PAUSE_ACK in an
  open round, followed by one of its replies unless it completes the round (so that the step has
  an output, and which acknowledgement completes a round never depends on timing).
Then every engine gets RESUME as its next frame, the pending requests are answered, one more goes
to each engine, and STOP: each engine acknowledges it together with its last reply, and the
acknowledgements reach every client and engine; core_v0.16's coordinator then ends.
Each step is one JSON line: {"step": [sender, message, ...], "engines": [[frames to E0], [E1], [E2]],
"clients": [[frames to client 0], [client 1]]}, a frame as its msgpack value (bytes as
{"bin": hex}) and "sha256" the digest of its bytes. Each engine's frames must be the same, in
order; each client's the same in any order (replies to different requests may overtake one
another while their text is filled, docs/TOKENIZERS.md). Exits 1 at the first difference.
Recorded by coordinator-tests/src/test/python/generate_core016_parity.py with `walk` below.
"""

import hashlib
import random
import sys
import time

import zmq

import megatron_wire as w

D = w.V0_16
ENGINES = 3
CLIENTS = 2
STEPS = 150
NULL_EOD = 1 << 20  # core_v0.16's NullTokenizer of 2^20 ids: eod is vocab_size



class Walk:
    def __init__(self, endpoint, seed, deadline, registered):
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.context = zmq.Context()
        self.sockets = [w.dealer(self.context, endpoint, "mp-coord-%d" % r) for r in range(ENGINES)]
        for s in self.sockets:
            s.send(b"")  # registration
        registered()
        self.clients = [w.connected_client(self.context, endpoint, deadline, D)
                        for _ in range(CLIENTS)]
        self.label = {}  # socket index -> engine name index, in order of first request
        self.by_name = [None] * ENGINES  # engine name index -> socket
        self.identity_name = {}
        self.pending = [[] for _ in range(ENGINES)]  # per engine name: (rid, prompt, params)
        self.next_cid = [0] * CLIENTS
        self.round = None  # engines (names) that acknowledged the open PAUSE round
        self.prefixes = [[self.rng.randrange(1, 50000) for _ in range(24)] for _ in range(3)]
        self.records = []

    # ------------------------------------------------------------------ collecting outputs

    def collect(self, engine_frames, client_frames):
        """Awaits that many frames in all at the engines and clients; returns them by peer."""
        engines = [[] for _ in range(ENGINES)]
        clients = [[] for _ in range(CLIENTS)]
        poller = zmq.Poller()
        peers = [("e", i, s) for i, s in enumerate(self.sockets)]
        peers += [("c", i, s) for i, s in enumerate(self.clients)]
        for _, _, s in peers:
            poller.register(s, zmq.POLLIN)
        want = engine_frames + client_frames
        got = 0
        while got < want:
            left = self.deadline - time.monotonic()
            events = dict(poller.poll(max(1, int(left * 1000)))) if left > 0 else {}
            if not events:
                w.die("awaited %d frame(s), got %d: %r" % (want, got, (engines, clients)))
            for kind, i, s in peers:
                while s in events and s.poll(0):
                    frame = s.recv()
                    got += 1
                    if kind == "c":
                        clients[i].append(frame)
                    else:
                        engines[self.name_of(i, frame)].append(frame)
        e = sum(len(f) for f in engines)
        if e != engine_frames:
            w.die("expected %d frame(s) at the engines, got %d" % (engine_frames, e))
        return engines, clients

    def name_of(self, index, frame):
        """The engine's name, given on its first SUBMIT (round robin's order)."""
        if index not in self.label:
            message = w.unpack(frame)
            if message[0] != D.SUBMIT_REQUEST or len(self.label) == ENGINES:
                w.die("engine mp-coord-%d got %r before its first request" % (index, message))
            self.label[index] = len(self.label)
            self.by_name[self.label[index]] = self.sockets[index]
            self.identity_name[("mp-coord-%d" % index).encode()] = "E%d" % self.label[index]
        return self.label[index]

    def shown(self, frame):
        """A frame as recorded: an engine's identity in a relayed acknowledgement by its name."""
        message = w.unpack(frame)
        if message[0] in (D.PAUSE_ACK, D.STOP_ACK) and len(message) == 2:
            message = [message[0], self.identity_name.get(message[1], message[1])]
            frame = w.pack(message)
        return {"frame": w.jsonable(message), "sha256": hashlib.sha256(frame).hexdigest()}

    def step(self, sender, messages, engine_frames, client_frames):
        """Sends `messages` (each a message) from one peer, in order, and awaits the outputs."""
        for message in messages:
            frame = w.pack(message)
            if sender.startswith("client"):
                self.clients[int(sender[6:])].send(frame)
            else:
                self.by_name[int(sender[1:])].send(frame)
        engines, clients = self.collect(engine_frames, client_frames)
        for name, frames in enumerate(engines):
            for f in frames:
                m = w.unpack(f)
                if m[0] == D.SUBMIT_REQUEST:
                    self.pending[name].append((m[1], m[2], m[3]))
        self.records.append({
            "step": [sender] + [w.jsonable(m) for m in messages],
            "engines": [[self.shown(f) for f in fs] for fs in engines],
            "clients": [[self.shown(f) for f in fs] for fs in clients],
        })

    # ------------------------------------------------------------------ the messages

    def submit(self, client):
        cid = self.next_cid[client]
        self.next_cid[client] += 1
        rng = self.rng
        if rng.random() < 0.3:
            prompt = " ".join(str(rng.randrange(1000)) for _ in range(rng.randrange(1, 12)))
        else:
            prompt = self.prefixes[rng.randrange(3)][:rng.randrange(8, 25)] + [
                rng.randrange(1, 50000) for _ in range(rng.randrange(0, 10))]
        params = {"num_tokens_to_generate": rng.randrange(1, 9), "temperature": 1.0,
                  "top_k": rng.choice([0, 1, 40]), "termination_id": None}
        self.step("client%d" % client, [[D.SUBMIT_REQUEST, cid, prompt, params]], 1, 0)

    def request(self, rid, prompt, params):
        """A finished request as core_v0.16's DynamicInferenceRequest.serialize() writes it."""
        rng = self.rng
        generated = [rng.randrange(1, NULL_EOD) for _ in range(params["num_tokens_to_generate"])]
        if rng.random() < 0.3:
            generated[-rng.randrange(1, len(generated) + 1):] = [NULL_EOD] * 1
        return w.request_0_16(rid, prompt, params, generated, [-rng.random() for _ in generated],
                              [0.015625 for _ in generated], 1717000000.0 + rid / 8.0, 0.5)

    def replies(self, name, most=3):
        """[ENGINE_REPLY, records] of 1 to `most` of the engine's pending requests, and how many."""
        pending = self.pending[name]
        k = self.rng.randrange(1, min(most, len(pending)) + 1)
        chosen = [pending.pop(self.rng.randrange(len(pending))) for _ in range(k)]
        records = []
        for rid, prompt, params in chosen:
            requests = [self.request(rid, prompt, params)]
            if self.rng.random() < 0.15:  # a record of a request and its retry
                requests.append(self.request(rid + 100000, [7, 7, 7], params))
            records.append({"requests": requests, "latency": 0.75})
        return [D.ENGINE_REPLY, records], k

    def reply(self, name):
        message, k = self.replies(name)
        self.step("E%d" % name, [message], 0, k)

    def signal(self, name):
        self.step("client%d" % self.rng.randrange(CLIENTS), [[D.headers[name]]], ENGINES, 0)

    def ack(self, header, name, acked):
        """The engine's acknowledgement. Unless it completes the set, which is then relayed, it
        has no output of its own, so a reply of the engine's follows it (the same connection, so
        read after it): a step is over only once the coordinator has read everything in it, and
        which acknowledgement completes the set, named in the relay, never depends on timing."""
        acked.add(name)
        last = len(acked) == ENGINES
        messages, replies = [[header]], 0
        if not last or self.pending[name]:
            message, replies = self.replies(name, 1)
            messages = [message, [header]] if last else [[header], message]
        self.step("E%d" % name, messages, ENGINES if last else 0,
                  replies + (CLIENTS if last else 0))

    def run(self, steps):
        for i in range(ENGINES):
            self.submit(i % CLIENTS)
        for _ in range(steps):
            r = self.rng.random()
            busy = [n for n in range(ENGINES) if self.pending[n]]
            unacked = [] if self.round is None else [
                n for n in range(ENGINES) if n not in self.round
                and (self.pending[n] or len(self.round) == ENGINES - 1)]
            if r < 0.4:
                self.submit(self.rng.randrange(CLIENTS))
            elif r < 0.62 and busy:
                self.reply(self.rng.choice(busy))
            elif r < 0.85 and unacked:
                self.ack(D.PAUSE_ACK, self.rng.choice(unacked), self.round)
            else:
                choices = ["SUSPEND", "RESUME", "UNPAUSE" if self.round is not None else "PAUSE"]
                name = self.rng.choice(choices)
                if name == "PAUSE":
                    self.round = set()
                elif name == "UNPAUSE":
                    self.round = None
                self.signal(name)
        self.finish()

    def finish(self):
        """RESUME must be every engine's next frame, a reply each client's next; then STOP, which
        every engine acknowledges with its last reply."""
        self.signal("RESUME")
        for name in range(ENGINES):
            while self.pending[name]:
                self.reply(name)
        for i in range(ENGINES):
            self.submit(i % CLIENTS)  # one to each engine, round robin
        self.signal("STOP")
        stopped = set()
        for name in range(ENGINES):
            self.ack(D.STOP_ACK, name, stopped)


def walk(endpoint, seed, seconds, registered=lambda: None):
    """Runs the walk against the coordinator at `endpoint`; returns one record per step."""
    run = Walk(endpoint, seed, time.monotonic() + seconds, registered)
    run.run(STEPS)
    return run.records



def main():
    w.walk_main(walk, "Megatron core_v0.16's coordinator sent")


if __name__ == "__main__":
    sys.exit(main())
