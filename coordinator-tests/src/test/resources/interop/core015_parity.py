"""A random walk of core_v0.15 client and engine messages through a coordinator, every output
compared byte for byte with what Megatron core_v0.15.3's own coordinator sent.

    core015_parity.py --endpoint E --expected core015-parity.jsonl [--seed N]

The coordinator at E speaks core_v0.15 (`--engine-wire 0.15`), waits for three engines
(tp-coord-0..2), routes round robin, tokenizes text prompts and detokenizes generated tokens with
core_v0.15's NullTokenizer of 2^20 ids (`--tokenizer null:1048576,eod=1048576`; the EOD is kept in
the text). Two clients, whose request ids both count from 0, as core_v0.15's clients' do. The
engines are named by the order in which they receive their first request (E0, E1, E2: round
robin's order, which is their registration order, whichever that was), so that request n of the
walk (the coordinator's id n) is E(n % 3)'s. The walk starts with three requests, so that every
engine has its name, then takes seeded steps, each one message:
- from a client: SUBMIT_REQUEST (token prompts, some with ids beyond 2^32; or text the NullTokenizer
  reads, `int()` of each piece split at single spaces: now and then a piece such as "007", "+12",
  "1_000", a tab before digits, or non-ASCII decimal digits), with a SamplingParams.serializable()
  of core_v0.15 (sometimes add_BOS, which that coordinator ignores, or an added attribute); PAUSE,
  UNPAUSE, now and then STOP (a plain broadcast there: the coordinator goes on, and so does the
  walk). (A CONNECT from a client already connected is not in the walk: that coordinator ignores
  it, the coordinator answers it again, as with every release, docs/COMPATIBILITY.md);
- from an engine (not while paused): ENGINE_REPLY, one engine step over 1 to 4 of its requests in
  any order: log probs nil, empty, or per request (some nil), a request's first step carrying
  those of its whole prompt (or of the rest of it) and later steps one, or only the last token's
  where the step materializes only the last token's logits (E1's usual setting, the others' now
  and then); now and then one request is in chunked prefill (its token dropped, its log probs
  dropped or gathered by materialize_only_last_token_logits, sometimes its id among the finished
  ones, which the coordinator skips; a prefill whose every log prob is gathered may end on a
  single prompt token); the requests that reach their num_tokens_to_generate finish (some ending
  in EOD), and a step may finish none. Where the coordinator's postprocess would fail its
  assertion (a single log prob after a partly gathered chunked prefill), that request's log probs
  are nil.
Then UNPAUSE if paused, every engine steps until its requests are finished, and a client sends
STOP to every engine.

Which outputs a step has is known from the protocol and awaited before the next step (a frame
more at a peer ends the walk): one SUBMIT to an engine; a signal to every engine; a record to its
client for each finished request (other than the chunked-prefill one). An engine step that
finishes nothing has no output and is not awaited: what a request's
record holds depends only on its engine's messages, which the coordinator reads in the order
sent, and on its SUBMIT, already delivered. The clients connect as soon as the engines have sent
their registrations (core_v0.15's coordinator, which would take a client's first frame for a
registration, was given time to take theirs first when the walk was recorded).
Each step is one JSON line: {"step": [sender, message], "engines": [[frames to E0], [E1], [E2]],
"clients": [[frames to client 0], [client 1]]}, a frame as its msgpack value (bytes as
{"bin": hex}) and "sha256" the digest of its bytes. Each engine's frames must be the same, in
order; each client's the same in any order. Exits 1 at the first difference.
Recorded by coordinator-tests/src/test/python/generate_core015_parity.py with `walk` below, which
also checks there that every frame is the one megatron_wire.Request015 predicts.
"""

import copy
import hashlib
import json
import random
import sys
import time

import zmq

import megatron_wire as w

D = w.V0_15
ENGINES = 3
CLIENTS = 2
STEPS = 300
EOD = w.NULL_EOD_0_15
# pieces int() reads that are not plain ASCII decimals: leading zeros, a sign, an underscore,
# white space, ARABIC-INDIC DIGIT THREE, FULLWIDTH DIGIT ONE and TWO
ODD_PIECES = ("007", "+12", "1_000", "\t9", "\u0663", "\uff11\uff12")



def shown(frame):
    return {"frame": w.jsonable(w.unpack(frame)), "sha256": hashlib.sha256(frame).hexdigest()}


class Pending:
    """One of an engine's requests, as the engine steps it."""

    def __init__(self, rid, tokens, count):
        self.rid = rid
        self.tokens = tokens
        self.count = count  # num_tokens_to_generate
        self.prefilled = 0  # prompt tokens through the model so far
        self.generated = 0


class Walk:
    def __init__(self, endpoint, seed, deadline, registered):
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.context = zmq.Context()
        self.sockets = [w.dealer(self.context, endpoint, "tp-coord-%d" % r) for r in range(ENGINES)]
        for s in self.sockets:
            s.send(b"")  # registration
        registered()  # core_v0.15's coordinator takes the first frames as registrations
        self.clients = [w.connected_client(self.context, endpoint, deadline, D)
                        for _ in range(CLIENTS)]
        self.label = {}  # socket index -> engine name index, in order of first request
        self.by_name = [None] * ENGINES  # engine name index -> socket
        self.next_rid = 0  # the coordinator's request ids, counting SUBMITs
        self.next_cid = [0] * CLIENTS
        self.pending = [[] for _ in range(ENGINES)]  # per engine name: Pending
        self.coordinator = {}  # rid -> megatron_wire.Request015, the coordinator's state
        self.client_of = {}  # rid -> (client, cid)
        self.paused = False
        self.records = []
        self.predicted = []  # per step: (engine frames, client frames) as megatron_wire predicts

    # ------------------------------------------------------------------ collecting outputs

    def collect(self, engine_frames, client_frames):
        """Awaits `engine_frames` frames in all at the engines and client_frames[i] at client i;
        returns them by peer. A frame beyond those ends the walk at once."""
        engines = [[] for _ in range(ENGINES)]
        clients = [[] for _ in range(CLIENTS)]
        poller = zmq.Poller()
        peers = [("e", i, s) for i, s in enumerate(self.sockets)]
        peers += [("c", i, s) for i, s in enumerate(self.clients)]
        for _, _, s in peers:
            poller.register(s, zmq.POLLIN)

        def fail(what):
            w.die("step %d: %s; awaited %d frame(s) at the engines and %s at the clients, got %s "
                  "at the engines and %s at the clients (a frame where core_v0.15's coordinator "
                  "sends none, such as an answer to an earlier step that has no output, is "
                  "counted where it arrives)"
                  % (len(self.records), what, engine_frames, client_frames,
                     json.dumps([[shown(f)["frame"] for f in fs] for fs in engines]),
                     json.dumps([[shown(f)["frame"] for f in fs] for fs in clients])))

        def done():
            return (sum(len(f) for f in engines) == engine_frames
                    and all(len(c) == n for c, n in zip(clients, client_frames)))

        while not done():
            left = self.deadline - time.monotonic()
            events = dict(poller.poll(max(1, int(left * 1000)))) if left > 0 else {}
            if not events:
                fail("nothing more before the deadline")
            for kind, i, s in peers:
                while s in events and s.poll(0):
                    frame = s.recv()
                    if kind == "c":
                        clients[i].append(frame)
                        if len(clients[i]) > client_frames[i]:
                            fail("a frame too many at client %d" % i)
                    else:
                        engines[self.name_of(i, frame)].append(frame)
                        if sum(len(f) for f in engines) > engine_frames:
                            fail("a frame too many at the engines")
        return engines, clients

    def name_of(self, index, frame):
        """The engine's name, given on its first SUBMIT (round robin's order)."""
        if index not in self.label:
            message = w.unpack(frame)
            if message[0] != D.SUBMIT_REQUEST or len(self.label) == ENGINES:
                w.die("engine tp-coord-%d got %r before its first request" % (index, message))
            self.label[index] = len(self.label)
            self.by_name[self.label[index]] = self.sockets[index]
        return self.label[index]

    def step(self, sender, message, engines_out, clients_out, awaited=True):
        """Sends `message` from one peer and awaits the outputs the protocol gives it:
        `engines_out` and `clients_out` are the frames megatron_wire predicts, per peer."""
        frame = w.pack(message)
        if sender.startswith("client"):
            self.clients[int(sender[6:])].send(frame)
        else:
            self.by_name[int(sender[1:])].send(frame)
        engine_count = sum(len(f) for f in engines_out)
        client_counts = [len(f) for f in clients_out]
        if not awaited:
            assert engine_count == sum(client_counts) == 0
            engines, clients = [[] for _ in range(ENGINES)], [[] for _ in range(CLIENTS)]
        else:
            engines, clients = self.collect(engine_count, client_counts)
        self.records.append({
            "step": [sender, w.jsonable(message)],
            "engines": [[shown(f) for f in fs] for fs in engines],
            "clients": [[shown(f) for f in fs] for fs in clients],
        })
        self.predicted.append({
            "engines": [[shown(f) for f in fs] for fs in engines_out],
            "clients": [[shown(f) for f in fs] for fs in clients_out],
        })

    # ------------------------------------------------------------------ client messages

    def prompt(self):
        """A token prompt or a text prompt, and its tokens as the coordinator makes them."""
        rng = self.rng
        n = rng.randrange(1, 40)
        if rng.random() < 0.35:
            pieces = [str(rng.randrange(EOD)) for _ in range(n)]
            if rng.random() < 0.3:
                pieces[rng.randrange(n)] = rng.choice(ODD_PIECES)
            text = " ".join(pieces)
            return text, w.null_text_to_ids(text)
        tokens = [rng.randrange(EOD) for _ in range(n)]
        if rng.random() < 0.15:
            tokens[rng.randrange(n)] = rng.choice((0, EOD, 1 << 32, (1 << 40) + 7, 255, 65536))
        return tokens, tokens

    def sampling_params(self, count):
        """SamplingParams(...).serializable() of core_v0.15: its __dict__, in field order."""
        rng = self.rng
        params = {
            "temperature": rng.choice([1.0, 0.7, 0.0]), "top_k": rng.choice([0, 1, 40]),
            "top_p": rng.choice([0.0, 0.9]), "return_log_probs": rng.random() < 0.5,
            "return_segments": False, "num_tokens_to_generate": count,
            "num_tokens_total": None, "top_n_logprobs": 0,
            "return_prompt_top_n_logprobs": False, "add_BOS": rng.random() < 0.2,
        }
        if rng.random() < 0.1:
            params["termination_id"] = EOD  # SamplingParams.add_attributes
        return params

    def submit(self, client):
        cid = self.next_cid[client]
        self.next_cid[client] += 1
        prompt, tokens = self.prompt()
        count = self.rng.randrange(1, 7)
        params = self.sampling_params(count)
        rid = self.next_rid
        self.next_rid += 1
        name = rid % ENGINES  # round robin, the engines named in its order
        self.pending[name].append(Pending(rid, tokens, count))
        self.coordinator[rid] = w.Request015(rid, prompt, tokens)
        self.client_of[rid] = (client, cid)
        engines_out = [[] for _ in range(ENGINES)]
        engines_out[name].append(w.pack([D.SUBMIT_REQUEST, rid, tokens, params]))
        self.step("client%d" % client, [D.SUBMIT_REQUEST, cid, prompt, params], engines_out,
                  [[] for _ in range(CLIENTS)])

    def signal(self, name, client=None):
        if client is None:
            client = self.rng.randrange(CLIENTS)
        frame = w.pack([D.headers[name]])
        self.step("client%d" % client, [D.headers[name]], [[frame] for _ in range(ENGINES)],
                  [[] for _ in range(CLIENTS)])

    # ------------------------------------------------------------------ engine steps

    def log_prob(self):
        return -self.rng.randrange(1, 1 << 16) / 4096.0  # exact in binary and in JSON

    def engine_step(self, name, everything=False):
        """One ENGINE_REPLY of engine `name`: some of its requests (all of them, and no chunked
        prefill, when `everything`) advance by one step."""
        rng = self.rng
        pending = self.pending[name]
        if everything:
            chosen = list(pending)
        else:
            chosen = rng.sample(pending, rng.randrange(1, min(4, len(pending)) + 1))
        chunked = None
        if not everything and rng.random() < 0.4:
            candidates = [p for p in chosen if len(p.tokens) - p.prefilled >= 2]
            started = [p for p in candidates if p.prefilled]  # a chunked prefill goes on
            if candidates:
                chunked = rng.choice(started or candidates)
        # mostly the engine's own setting: E1 materializes only the last token's logits (then a
        # log prob is the last token's only), E0 and E2 every token's; E0 mostly returns log probs
        materialize = (name == 1) != (rng.random() < 0.15)
        mode = rng.random()
        with_log_probs = mode >= (0.2 if name == 0 else 0.5)
        ids, tokens, log_probs, finished = [], [], [], []
        for p in chosen:
            ids.append(p.rid)
            if p is chunked:
                left = len(p.tokens) - p.prefilled
                size = left - 1 if rng.random() < 0.4 else rng.randrange(1, left)
                p.prefilled += size
                tokens.append(rng.randrange(EOD + 1))  # dropped by the coordinator
                log_probs.append([self.log_prob() for _ in range(1 if materialize else size)])
                continue
            size = max(1, len(p.tokens) - p.prefilled)  # the (rest of the) prompt, or one
            p.prefilled = len(p.tokens)
            p.generated += 1
            last = p.generated == p.count
            tokens.append(EOD if last and rng.random() < 0.3 else rng.randrange(EOD))
            log_probs.append(None if rng.random() < 0.15 else
                             [self.log_prob() for _ in range(1 if materialize else size)])
            if last:
                finished.append(p.rid)
        if chunked is not None and rng.random() < 0.3:
            finished.append(chunked.rid)  # the coordinator skips it
        rng.shuffle(finished)
        chunked_id = -1 if chunked is None else chunked.rid
        if not with_log_probs:
            log_probs = [] if mode < 0.05 else None
        else:
            # nil where the coordinator's assertion would fail on the request's state
            for i, rid in enumerate(ids):
                trial = copy.deepcopy(self.coordinator[rid])
                try:
                    trial.step(tokens[i], log_probs[i], rid == chunked_id, materialize)
                except AssertionError:
                    log_probs[i] = None
        message = [D.ENGINE_REPLY, ids, finished, tokens, log_probs, chunked_id, materialize]
        clients_out = [[] for _ in range(CLIENTS)]
        for rid, record in w.postprocess_0_15(self.coordinator, message):
            client, cid = self.client_of.pop(rid)
            clients_out[client].append(w.pack([cid, record]))
        done = set(finished) - {chunked_id}
        self.pending[name] = [p for p in pending if p.rid not in done]
        self.step("E%d" % name, message, [[] for _ in range(ENGINES)], clients_out,
                  awaited=bool(done))

    # ------------------------------------------------------------------ the walk

    def run(self, steps):
        for i in range(ENGINES):
            self.submit(i % CLIENTS)
        for _ in range(steps):
            r = self.rng.random()
            busy = [n for n in range(ENGINES) if self.pending[n]]
            if r < 0.3:
                self.submit(self.rng.randrange(CLIENTS))
            elif r < 0.85:
                if self.paused and self.rng.random() < 0.25:
                    self.paused = False
                    self.signal("UNPAUSE")
                elif busy and not self.paused:
                    self.engine_step(self.rng.choice(busy))
                else:
                    self.submit(self.rng.randrange(CLIENTS))
            elif r < 0.89:
                self.signal("STOP")
            else:
                self.paused = not self.paused
                self.signal("PAUSE" if self.paused else "UNPAUSE")
        self.finish()

    def finish(self):
        """Every request finished, then STOP to every engine."""
        if self.paused:
            self.paused = False
            self.signal("UNPAUSE")
        for name in range(ENGINES):
            while self.pending[name]:
                self.engine_step(name, everything=True)
        assert not self.coordinator and not self.client_of
        self.signal("STOP")


def walk(endpoint, seed, seconds, registered=lambda: None, check_predictions=False):
    """Runs the walk against the coordinator at `endpoint`; returns one record per step. With
    `check_predictions`, every step's frames must be those megatron_wire predicts."""
    run = Walk(endpoint, seed, time.monotonic() + seconds, registered)
    run.run(STEPS)
    if check_predictions:
        predicted = [dict(p, step=r["step"]) for r, p in zip(run.records, run.predicted)]
        w.compare_walk(run.records, predicted, "megatron_wire.Request015 predicted")
    return run.records



def main():
    w.walk_main(walk, "Megatron core_v0.15's coordinator sent")


if __name__ == "__main__":
    sys.exit(main())
