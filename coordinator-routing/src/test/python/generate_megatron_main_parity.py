#!/usr/bin/env python3
"""Routing traces and the decisions Megatron-LM main's own coordinator makes on them.

Writes, under OUT_DIR (coordinator-routing/src/test/resources/parity-main):

* cases.properties: one line per case, `<name>=policy,ranks,block_size,alpha,max_requests`;
* <name>-trace.jsonl.gz: a routing trace in the format of docs/spec/ROUTING.md ("Trace replay"):
  token prompts built from shared prefixes, multi-turn conversations whose turns extend the
  previous prompt, exact repeats, prompts shorter than one block, bursts that load engines past
  max_requests, completes, removals of engines and, in some cases, engines that join late (`add`
  of a new label) and removed engines that register again (`add` of a removed label);
* <name>-decisions.jsonl.gz: one line per submit, {"id":N,"rank":R,"hashes":H}: the engine (its
  label) that received the request and how many block hashes the coordinator recorded for it (its
  schedule's num_hashes).

The cases vary what the shared fixture keeps fixed (4 ranks, block size 16, alpha 0.5,
max_requests 16): 1 to 16 ranks, block sizes 1 to 64, alpha 0 to 1, max_requests 1 to 100, token
ids up to 2^40, for each of the three policies.

The decisions are not modelled: they are what Megatron-LM's DataParallelInferenceCoordinator
(megatron/core/inference/data_parallel_inference_coordinator/ at d98e8a64, main of 2026-08-22),
imported from MEGATRON_SOURCE and run unchanged, does over real ZMQ sockets on 127.0.0.1: its
constructor waits for the engines (DEALER sockets whose identities sort in label order), and each
op of the trace is one message that a client or an engine sends, after which one turn of the
coordinator's event loop (start()'s body: receive, unpack, dispatch to its handler) runs, so that
messages are handled in trace order. A submit is the client's SUBMIT_REQUEST; the decision is the
engine socket the SUBMIT arrives on. A complete is that engine's ENGINE_REPLY, a removal its
DISCONNECT, an add an empty frame (registration). Its tokenizer is Megatron's NullTokenizer (it
detokenizes every reply). The steps the coordinator cannot survive are never generated: a complete
of a request whose engine left and registered again (the new registration's pending count would
be decremented, and Megatron asserts it is at least 1), and a removal of the last engine.

Needs a Python with Megatron's requirements for this module: torch, numpy, pyzmq, msgpack.

Usage, from the repository root:
  PY coordinator-routing/src/test/python/generate_megatron_main_parity.py \\
      coordinator-routing/src/test/resources/parity-main MEGATRON_SOURCE [--core-v0.19.0]
  PY coordinator-routing/src/test/python/generate_megatron_main_parity.py \\
      OUT_DIR MEGATRON_SOURCE --random SEED [--core-v0.19.0]
MEGATRON_SOURCE: a Megatron-LM tree at d98e8a64 (the directory holding megatron/), for instance
`git -C MEGATRON_GIT archive d98e8a64 megatron | tar -x -C DIR`.
--core-v0.19.0: for a tree of that release, whose coordinator asserts that a reply comes from a
registered engine: the requests of an engine that left are never completed.
--random SEED: instead of CASES, CASES (an environment variable, default 100) cases whose
settings are drawn from SEED (random_cases), for a campaign beyond the committed ones; compare
with check_route_replay.py OUT_DIR.
The output is the same on every run (fixed seeds, gzip without a time stamp).
"""
import gzip
import io
import json
import logging
import os
import random
import sys
import warnings

COMMIT = "d98e8a64ddf34856e74b24714e3bedb2f5a39553"

# name, policy, ranks, block size, alpha, max_requests, submits, joins (add ops), token id bound
CASES = [
    ("lp-r1-b16", "longest_prefix", 1, 16, 0.5, 16, 300, False, 1 << 16),
    ("lp-r2-b4-a0", "longest_prefix", 2, 4, 0.0, 4, 700, False, 1 << 16),
    ("lp-r3-b1-a1", "longest_prefix", 3, 1, 1.0, 8, 600, True, 1 << 16),
    ("lp-r5-b8-a03", "longest_prefix", 5, 8, 0.3, 2, 900, True, 1 << 20),
    ("lp-r8-b32-a075", "longest_prefix", 8, 32, 0.75, 32, 900, True, 1 << 40),
    ("lp-r16-b16-a05", "longest_prefix", 16, 16, 0.5, 100, 900, True, 1 << 20),
    ("lp-r6-b64-a09", "longest_prefix", 6, 64, 0.9, 1, 500, False, 1 << 31),
    ("lp-r4-b16-a05", "longest_prefix", 4, 16, 0.5, 16, 900, True, 1 << 20),
    ("fpb-r2-b8-a05", "first_prefix_block", 2, 8, 0.5, 3, 700, False, 1 << 16),
    ("fpb-r5-b16-a025", "first_prefix_block", 5, 16, 0.25, 16, 900, True, 1 << 20),
    ("fpb-r8-b4-a1", "first_prefix_block", 8, 4, 1.0, 8, 900, True, 1 << 40),
    ("fpb-r3-b32-a0", "first_prefix_block", 3, 32, 0.0, 100, 600, False, 1 << 16),
    ("lb-r4-b16", "load_balanced", 4, 16, 0.5, 16, 600, True, 1 << 16),
    ("lb-r7-b8", "load_balanced", 7, 8, 0.5, 5, 600, True, 1 << 20),
]


def identity(label):
    """The engine's ZMQ identity, as Megatron names its engines: byte order is label order."""
    return b"mp-coord-%03d" % label


class Trace:
    """Draws the ops of one case; the coordinator under test answers each one at once."""

    def __init__(self, seed, ranks, block_size, token_bound, joins):
        self.rng = random.Random(seed)
        self.block_size = block_size
        self.token_bound = token_bound
        self.joins = joins
        self.active = list(range(ranks))
        self.removed = []
        self.next_label = ranks
        self.incarnation = {label: 0 for label in range(ranks)}  # registrations so far, less 1
        self.prefixes = [self.tokens(block_size * self.rng.randint(1, 6)) for _ in range(6)]
        self.conversations = []
        self.recent = []

    def tokens(self, n):
        return [self.rng.randrange(self.token_bound) for _ in range(n)]

    def prompt(self):
        r = self.rng.random()
        b = self.block_size
        if r < 0.10:  # shorter than a block: no hash at all
            return self.tokens(self.rng.randrange(1, b)) if b > 1 else self.tokens(1)
        if r < 0.25 and self.recent:  # an exact repeat
            return list(self.rng.choice(self.recent))
        if r < 0.50 and self.conversations:  # the next turn of a conversation
            i = self.rng.randrange(len(self.conversations))
            turn = self.conversations[i] + self.tokens(self.rng.randrange(1, 3 * b + 2))
            self.conversations[i] = turn
            return list(turn)
        prefix = self.rng.choice(self.prefixes)
        if r < 0.60:  # a prefix cut short, sometimes mid-block
            return list(prefix[: self.rng.randint(1, len(prefix))])
        p = prefix + self.tokens(self.rng.randrange(0, 4 * b + 3))
        if r < 0.75:
            self.conversations.append(list(p))
            if len(self.conversations) > 12:
                self.conversations.pop(0)
        return p


class Megatron:
    """Megatron main's coordinator behind real sockets, one loop turn per message sent."""

    def __init__(self, source, ranks, block_size, policy, alpha, max_requests):
        sys.path.insert(0, source)
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        import msgpack
        import zmq
        from megatron.core.inference.config import PrefixCachingCoordinatorPolicy
        from megatron.core.inference.data_parallel_inference_coordinator import (
            DataParallelInferenceCoordinator,
        )
        from megatron.core.inference.headers import Headers
        from megatron.core.tokenizers import MegatronTokenizer

        self.msgpack, self.zmq, self.headers = msgpack, zmq, Headers
        self.ctx = zmq.Context()
        self.engines = {}
        outer = self

        class Pipe:  # the constructor sends its endpoint to its parent, then waits for engines
            def send(self, endpoint):
                outer.endpoint = endpoint
                for label in range(ranks):
                    outer.join(label, step=False)

            def close(self):
                pass

        tokenizer = MegatronTokenizer.from_pretrained(
            metadata_path={"library": "null-text"}, vocab_size=1 << 20
        )
        self.coordinator = DataParallelInferenceCoordinator(
            Pipe(),
            ranks,
            tokenizer,
            max_requests,
            hostname="127.0.0.1",
            block_size_tokens=block_size,
            enable_prefix_caching=True,
            prefix_caching_coordinator_policy=PrefixCachingCoordinatorPolicy[policy.upper()],
            prefix_caching_routing_alpha=alpha,
            schedule_output_path=os.devnull,  # keeps schedule_records (written only at exit)
        )
        self.client = self.socket(b"client")
        self.send(self.client, [Headers.CONNECT.value])

    def socket(self, name):
        s = self.ctx.socket(self.zmq.DEALER)
        s.setsockopt(self.zmq.IDENTITY, name)
        s.setsockopt(self.zmq.LINGER, 0)
        s.connect(self.endpoint)
        return s

    def turn(self):
        """start()'s loop body, once."""
        c = self.coordinator
        if not c.router_socket.poll(10_000):
            raise RuntimeError("the coordinator received nothing in 10 s")
        sender, payload = c.router_socket.recv_multipart()
        if payload == b"":
            c._handle_rank_registration(sender)
            return
        message = self.msgpack.unpackb(payload, raw=False)
        if c._handlers[self.headers(message[0])](c, sender, message):
            raise RuntimeError("the coordinator stopped")

    def send(self, sock, message):
        sock.send(self.msgpack.packb(message, use_bin_type=True))
        self.turn()

    def join(self, label, step=True):
        """An engine registers: a new label, or a removed one coming back."""
        if label not in self.engines:
            self.engines[label] = self.socket(identity(label))
        self.engines[label].send(b"")
        if step:
            self.turn()

    def submit(self, rid, tokens):
        """Returns the label of the engine the SUBMIT reached and the hashes recorded."""
        self.send(self.client, [self.headers.SUBMIT_REQUEST.value, rid, tokens, {}])
        record = self.coordinator.schedule_records[-1]
        poller = self.zmq.Poller()
        for s in self.engines.values():
            poller.register(s, self.zmq.POLLIN)
        ready = dict(poller.poll(10_000))
        got = [label for label, s in self.engines.items() if s in ready]
        if len(got) != 1:
            raise RuntimeError(f"request {rid} reached engines {got}")
        message = self.msgpack.unpackb(self.engines[got[0]].recv(), raw=False)
        if message[2] != tokens:
            raise RuntimeError(f"request {rid}: the engine got another prompt")
        return got[0], message[1], record["num_hashes"]

    def complete(self, label, request_id):
        reply = {"request_id": request_id, "generated_tokens": [], "sampling_params": {}}
        self.send(self.engines[label], [self.headers.ENGINE_REPLY.value, [reply]])
        self.client.recv()  # the reply forwarded to the client

    def remove(self, label):
        self.send(self.engines[label], [self.headers.DISCONNECT.value])

    def close(self):
        self.coordinator.router_socket.close(linger=0)
        self.ctx.destroy(linger=0)


def run_case(source, case, seed, core_v0190):
    name, policy, ranks, block_size, alpha, max_requests, submits, joins, bound = case
    trace = Trace(seed, ranks, block_size, bound, joins)
    megatron = Megatron(source, ranks, block_size, policy, alpha, max_requests)
    ops, decisions = [], []
    in_flight = {}  # client request id -> (label, its incarnation, coordinator request id)
    rid = 0
    try:
        while rid < submits:
            r = trace.rng.random()
            if r < 0.46 or not in_flight:
                rid += 1
                tokens = trace.prompt()
                label, request_id, hashes = megatron.submit(rid, tokens)
                trace.recent = (trace.recent + [tokens])[-20:]
                in_flight[rid] = (label, trace.incarnation[label], request_id)
                ops.append({"op": "submit", "id": rid, "tokens": tokens})
                decisions.append({"id": rid, "rank": label, "hashes": hashes})
            elif r < 0.95:
                # usually the oldest, sometimes any; never one whose engine left and came back
                ids = [
                    i
                    for i, (lb, inc, _) in in_flight.items()
                    if (inc == trace.incarnation[lb] or lb in trace.removed)
                    and not (core_v0190 and lb in trace.removed)
                ]
                if not ids:
                    continue
                done = ids[0] if trace.rng.random() < 0.5 else trace.rng.choice(ids)
                label, _, request_id = in_flight.pop(done)
                megatron.complete(label, request_id)
                ops.append({"op": "complete", "id": done})
            elif r < 0.975 and len(trace.active) > 1:
                label = trace.rng.choice(trace.active)
                trace.active.remove(label)
                trace.removed.append(label)
                megatron.remove(label)
                ops.append({"op": "remove", "rank": label})
            elif joins:
                if trace.removed and trace.rng.random() < 0.5:
                    label = trace.rng.choice(trace.removed)
                    trace.removed.remove(label)
                    trace.incarnation[label] += 1
                else:
                    label = trace.next_label
                    trace.next_label += 1
                    trace.incarnation[label] = 0
                trace.active.append(label)
                megatron.join(label)
                ops.append({"op": "add", "rank": label})
    finally:
        megatron.close()
    return ops, decisions


def write_gz(path, rows):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        for row in rows:
            gz.write((json.dumps(row, separators=(",", ":")) + "\n").encode())
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def random_cases(count, seed):
    """count cases drawn from seed: the settings of CASES and their edges, and token ids from a
    handful of values (blocks repeat across prompts and engines tie) up to 2^62."""
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        policy = rng.choice(["longest_prefix"] * 3 + ["first_prefix_block"] * 2 + ["load_balanced"])
        ranks = rng.choice([1, 2, 3, 4, 5, 8, 16, 32, 64, 130, rng.randint(1, 16)])
        block_size = rng.choice([1, 2, 3, 4, 8, 16, 16, 32, 64, rng.randint(1, 64)])
        alpha = rng.choice([0.0, 1.0, 0.5, round(rng.random(), 3)])
        max_requests = rng.choice([1, 2, 4, 16, 100, rng.randint(1, 100)])
        bound = rng.choice([2, 4, 1 << 16, 1 << 20, 1 << 40, 1 << 62])
        name = f"random-{seed}-{i}"
        cases.append((name, policy, ranks, block_size, alpha, max_requests,
                      rng.randint(200, 900), rng.random() < 0.7, bound))
    return cases


def main():
    args = sys.argv[1:]
    core_v0190 = "--core-v0.19.0" in args
    args = [a for a in args if a != "--core-v0.19.0"]
    cases, first_seed = CASES, 1000
    if len(args) == 4 and args[2] == "--random" and args[3].isdigit():
        first_seed = int(args[3])
        cases = random_cases(int(os.environ.get("CASES", "100")), first_seed)
    elif len(args) != 2:
        sys.exit("usage: generate_megatron_main_parity.py OUT_DIR MEGATRON_SOURCE"
                 " [--random SEED] [--core-v0.19.0]")
    out, source = args[:2]
    os.makedirs(out, exist_ok=True)
    lines = [f"# written by coordinator-routing/src/test/python/{os.path.basename(__file__)}",
             f"# from Megatron-LM {COMMIT}; name=policy,ranks,block_size,alpha,max_requests"]
    for seed, case in enumerate(cases, first_seed):
        name, policy, ranks, block_size, alpha, max_requests = case[:6]
        ops, decisions = run_case(source, case, seed, core_v0190)
        write_gz(os.path.join(out, f"{name}-trace.jsonl.gz"), ops)
        write_gz(os.path.join(out, f"{name}-decisions.jsonl.gz"), decisions)
        lines.append(f"{name}={policy},{ranks},{block_size},{alpha},{max_requests}")
        counts = {op: sum(1 for o in ops if o["op"] == op) for op in ("submit", "complete",
                                                                       "remove", "add")}
        print(name, counts, file=sys.stderr)
    with open(os.path.join(out, "cases.properties"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
