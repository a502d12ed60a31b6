#!/usr/bin/env python3
"""Routing traces and the decisions Megatron core_v0.18.2's coordinator makes on them.

Writes, under OUT_DIR (coordinator-routing/src/test/resources/parity-0.18), for each policy of
0.18 (longest_prefix, first_prefix_block, round_robin):

* trace-<policy>.jsonl.gz: a routing trace in the format of docs/spec/ROUTING.md ("Trace replay"):
  token prompts built from a few shared prefixes, prompts shorter than one block (0.18 routes them
  round-robin), exact repeats, completes, removals of engines, re-registrations of removed engines
  (`add` of a removed label), restarts of active engines (`add` of an active label) and engines
  that join late (`add` of a new label).
* decisions-<policy>.jsonl.gz: one line per submit, {"id":N,"rank":R,"match":D,"hashes":H}: the
  engine (its label) 0.18 chooses, the depth in blocks that 0.18's scan credits to it (the deepest
  hash with any owner, if the chosen engine is one of them; else 0) and how many block hashes 0.18
  records for the request (its schedule's num_hashes).

Settings: 4 start-up engines labelled 0..3, registered in label order with the 4-byte big-endian
identity of their label (so byte order = label order), block size 16, alpha 0.5, max_requests 8,
prefix caching on, deterministic_mode off.

The decisions come from Model018 below, a model of 0.18's rule written from the coordinator's code
(megatron/core/inference/data_parallel_inference_coordinator.py at core_v0.18.2) and nothing else;
block hashes are the hash-vector generator's (hashlib). Steps at which 0.18 fails are left out of
the trace: a submit whose best score belongs to an engine that was removed (0.18 still scores
removed engines; the send to the departed peer fails, and the removal that follows raises
ValueError), and a complete of a request whose engine is removed at that moment (0.18 asserts that
a reply comes from a connected engine). The generator draws a candidate op, asks the model, and
drops the op if 0.18 would fail there; the counts are printed.

Cross-check (when MEGATRON_GIT is given): the real 0.18.2 coordinator, read from the git directory
at the fixed commit, is constructed and its event loop start() run over each trace, with stubs
for zmq (a scripted socket), msgpack (values passed through), torch, the tokenizer and the block
hash function (hashlib again); engines register with empty frames, leave with DISCONNECT and
reply with ENGINE_REPLY, and a send to a departed engine fails with EHOSTUNREACH as ZMQ's
ROUTER_MANDATORY makes it. Its schedule records must equal the model's decisions, and every
dropped step, appended to the trace up to it, must make the real coordinator raise the error the
model predicted. Needs numpy.

Usage, from the repository root:
  python3 coordinator-routing/src/test/python/generate_megatron018_parity.py \\
      coordinator-routing/src/test/resources/parity-0.18 [MEGATRON_GIT]
MEGATRON_GIT: a Megatron-LM git directory, e.g. /work/.mirror/NVIDIA+Megatron-LM/repo.
The output is the same on every run (fixed seeds, gzip without a time stamp).

With `MEGATRON_GIT --random SEED` it writes instead CASES (default 100) cases whose settings
(engines, block size, alpha, max_requests, policy) are drawn from SEED, each checked against
core_v0.18.2's own coordinator as above, and a cases.properties for check_route_replay.py.
"""
import enum
import functools
import gzip
import io
import json
import logging
import os
import random
import runpy
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
HASHES = os.path.join(HERE, "..", "resources", "hash-vectors", "generate.py")
COMMIT = "571370c829ca768fe37244f4e2e7f28d8accc4ab"  # core_v0.18.2
COORDINATOR = "megatron/core/inference/data_parallel_inference_coordinator.py"
HEADERS = "megatron/core/inference/headers.py"

POLICIES = ["longest_prefix", "first_prefix_block", "round_robin"]
RANKS = 4
BLOCK_SIZE = 16
ALPHA = 0.5
MAX_REQUESTS = 8
MAX_LABELS = 7
OPS = 4000


block_hashes = runpy.run_path(HASHES)["block_hashes"]


def identity(label):
    return label.to_bytes(4, "big")


# ---------------------------------------------------------------- the model of 0.18's rule

class Fails(Exception):
    """0.18 fails at this step; `kind` names how."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


class Model018:
    """DataParallelInferenceCoordinator's routing state at core_v0.18.2, kept in plain lists.

    `deque`: the connected engines in registration order (what round-robin walks; removal takes
    an engine out of it and nothing else). `ranked`: every identity ever registered, the start-up
    ones sorted by bytes, later ones appended (the rank index is the position, and never changes).
    `pending` and `table` (hash -> {rank index: stamp}) are by rank index and never forget an
    engine.
    """

    def __init__(self, identities, policy):
        self.policy = policy
        self.deque = list(identities)
        self.cursor = 0
        self.ranked = sorted(identities)
        self.pending = [0] * len(self.ranked)
        self.table = {}
        self.counter = 0

    def request_hashes(self, tokens):
        hashes = block_hashes(tokens, BLOCK_SIZE)
        return hashes[:1] if self.policy == "first_prefix_block" else hashes

    def round_robin(self):
        idx = self.cursor % len(self.deque)
        self.cursor = idx + 1
        return self.deque[idx]

    def deepest(self, hashes, connected_only=False):
        """({rank index: stamp}, depth) of the deepest hash with owners; ({}, 0) if none."""
        for i in range(len(hashes) - 1, -1, -1):
            row = self.table.get(hashes[i], {})
            if connected_only:
                row = {r: t for r, t in row.items() if self.ranked[r] in self.deque}
            if row:
                return row, i + 1
        return {}, 0

    def choose(self, hashes):
        """(identity, credited depth); moves the cursor only on a round-robin pick."""
        if self.policy == "round_robin" or not hashes:
            return self.round_robin(), 0
        n = len(hashes)
        owners, depth = self.deepest(hashes)

        def key(r):
            match = (depth + 0.0) / n if r in owners else 0.0
            free = max(0, MAX_REQUESTS - self.pending[r]) / MAX_REQUESTS
            score = ALPHA * match + (1.0 - ALPHA) * free
            return (-score, -owners.get(r, 0), r)

        best = min(range(len(self.ranked)), key=key)
        return self.ranked[best], depth if best in owners else 0

    def submit(self, tokens):
        """Routes and records a request: (identity, depth, hashes recorded); raises Fails."""
        hashes = self.request_hashes(tokens)
        chosen, depth = self.choose(hashes)
        if chosen not in self.deque:
            raise Fails("submit: a removed engine scores best")
        r = self.ranked.index(chosen)
        self.pending[r] += 1
        if hashes:
            self.counter += 1
            for h in hashes:
                self.table.setdefault(h, {})[r] = self.counter
        return chosen, depth, len(hashes)

    def complete(self, engine):
        if engine not in self.deque:
            raise Fails("complete: the reply comes from a removed engine")
        r = self.ranked.index(engine)
        assert self.pending[r] >= 1
        self.pending[r] -= 1

    def register(self, engine):
        if engine not in self.deque:
            self.deque.append(engine)
            if engine not in self.ranked:
                self.ranked.append(engine)
                self.pending.append(0)

    def remove(self, engine):
        self.deque.remove(engine)


# ---------------------------------------------------------------- the workload

class Prompts:
    """Token prompts: shared prefixes of up to 6 blocks with tails, short ones, repeats."""

    def __init__(self, rng):
        self.rng = rng
        self.families = [[rng.randrange(1, 32000) for _ in range(6 * BLOCK_SIZE)]
                         for _ in range(6)]
        self.seen = []

    def next(self):
        rng = self.rng
        kind = rng.random()
        if kind < 0.08:
            tokens = [rng.randrange(1, 32000) for _ in range(rng.randrange(0, BLOCK_SIZE))]
        elif kind < 0.22 and self.seen:
            tokens = list(rng.choice(self.seen))
        else:
            family = rng.choice(self.families)
            shared = rng.randrange(0, len(family) + 1)
            if rng.random() < 0.7:
                shared -= shared % BLOCK_SIZE
            tail = rng.randrange(0, 2 * BLOCK_SIZE + 8)
            tokens = family[:shared] + [rng.randrange(1, 32000) for _ in range(tail)]
        self.seen.append(tokens)
        return tokens


def generate(policy, seed):
    """(trace ops, decisions, counts of dropped steps by kind, the dropped steps)."""
    rng = random.Random(seed)
    model = Model018([identity(label) for label in range(RANKS)], policy)
    prompts = Prompts(rng)
    labels = list(range(RANKS))
    ops, decisions, dropped, dropped_ops = [], [], {}, []
    # decisions at which the deepest hash with owners is owned by removed engines only, so that
    # a connected owner of a shallower hash gets no credit
    hidden = 0
    engine_of, open_ids = {}, []
    next_id = 0

    def drop(op, kind):
        dropped[kind] = dropped.get(kind, 0) + 1
        dropped_ops.append((len(ops), op, kind))

    while len(ops) < OPS:
        active = [label for label in labels if identity(label) in model.deque]
        roll = rng.random()
        if roll < 0.50 or not open_ids:
            tokens = prompts.next()
            op = {"op": "submit", "id": next_id, "tokens": tokens}
            saved = model.cursor
            hashes = model.request_hashes(tokens)
            owners, depth = model.deepest(hashes)
            hiding = policy != "round_robin" and depth > 0 \
                and all(model.ranked[r] not in model.deque for r in owners) \
                and model.deepest(hashes, connected_only=True)[1] > 0
            try:
                engine, depth, recorded = model.submit(tokens)
            except Fails as e:
                assert model.cursor == saved
                drop(op, e.kind)
                continue
            next_id += 1
            hidden += hiding
            label = int.from_bytes(engine, "big")
            engine_of[op["id"]] = engine
            open_ids.append(op["id"])
            decisions.append({"id": op["id"], "rank": label, "match": depth,
                              "hashes": recorded})
            ops.append(op)
        elif roll < 0.92:
            # mostly replies from connected engines; now and then one from a removed engine
            live = [i for i in open_ids if engine_of[i] in model.deque]
            request = rng.choice(live if live and rng.random() < 0.9 else open_ids)
            op = {"op": "complete", "id": request}
            try:
                model.complete(engine_of[request])
            except Fails as e:
                drop(op, e.kind)
                continue
            open_ids.remove(request)
            ops.append(op)
        elif roll < 0.94:
            if len(active) <= 2:
                continue
            label = rng.choice(active)
            model.remove(identity(label))
            ops.append({"op": "remove", "rank": label})
        else:
            removed = [label for label in labels if label not in active]
            pick = rng.random()
            if pick < 0.5 and removed:
                label = rng.choice(removed)          # rejoins: old rank index, frozen pending
            elif pick < 0.8 or len(labels) >= MAX_LABELS:
                label = rng.choice(active)           # restarts: 0.18 changes nothing
            else:
                label = len(labels)                  # joins late: appended
                labels.append(label)
            model.register(identity(label))
            ops.append({"op": "add", "rank": label})
    return ops, decisions, dropped, dropped_ops, hidden


# ---------------------------------------------------------------- Megatron's own code

def git_show(git_dir, path):
    return subprocess.check_output(["git", "--git-dir", git_dir, "show", COMMIT + ":" + path])


class Packed:
    """What the msgpack stub makes of a value: the value itself, never equal to b""."""

    def __init__(self, value):
        self.value = value


@functools.lru_cache(maxsize=None)
def megatron_coordinator_class(git_dir):
    """DataParallelInferenceCoordinator at core_v0.18.2, its imports other than numpy stubbed."""
    headers = types.ModuleType("megatron.core.inference.headers")
    exec(compile(git_show(git_dir, HEADERS), HEADERS, "exec"), headers.__dict__)

    class ZMQError(Exception):
        def __init__(self, errno):
            super().__init__("errno %d" % errno)
            self.errno = errno

    class TorchTensor:
        pass

    class Policy(str, enum.Enum):
        LONGEST_PREFIX = "longest_prefix"
        FIRST_PREFIX_BLOCK = "first_prefix_block"
        ROUND_ROBIN = "round_robin"

    package = "megatron.core.inference"
    stubs = {
        "zmq": {"Context": None, "ROUTER": 6, "ROUTER_MANDATORY": 33, "LAST_ENDPOINT": 32,
                "EHOSTUNREACH": 113, "error": types.SimpleNamespace(ZMQError=ZMQError)},
        "msgpack": {"packb": lambda value, use_bin_type: Packed(value),
                    "unpackb": lambda packed, raw: packed.value},
        "torch": {"Tensor": TorchTensor, "int64": "int64",
                  "tensor": lambda data, dtype: list(data)},
        "megatron": {}, "megatron.core": {}, package: {},
        package + ".config": {"PrefixCachingCoordinatorPolicy": Policy},
        package + ".inference_request": {
            "compute_block_hashes_batched": lambda tokens, size: block_hashes(tokens, size)},
        package + ".text_generation_controllers": {},
        package + ".text_generation_controllers.text_generation_controller": {
            "TextGenerationController": types.SimpleNamespace(
                detokenize=lambda tokenizer, tokens, remove_EOD: "")},
    }
    for name, attributes in stubs.items():
        stub = types.ModuleType(name)
        stub.__path__ = []
        stub.__dict__.update(attributes)
        sys.modules[name] = stub
    sys.modules[package + ".headers"] = headers
    module = types.ModuleType("megatron.core.inference.data_parallel_inference_coordinator")
    exec(compile(git_show(git_dir, COORDINATOR), COORDINATOR, "exec"), module.__dict__)
    return module.DataParallelInferenceCoordinator, Policy, headers.Headers, ZMQError


class ScriptedSocket:
    """A ROUTER socket whose incoming messages come from `feed`; sends to departed peers fail."""

    def __init__(self, zmq_error):
        self.feed = None
        self.departed = set()
        self.sent_to = {}  # server request id -> engine identity
        self.zmq_error = zmq_error

    def setsockopt(self, *args):
        pass

    def bind_to_random_port(self, address):
        return 5555

    def getsockopt_string(self, option):
        return "tcp://scripted:5555"

    def recv_multipart(self):
        return next(self.feed)

    def send_multipart(self, frames):
        peer, payload = frames
        if peer in self.departed:
            raise self.zmq_error(113)
        if isinstance(payload.value, list) and payload.value[0] == 3:  # SUBMIT_REQUEST
            self.sent_to[payload.value[1]] = peer


def run_megatron(git_dir, policy, ops):
    """Runs 0.18.2's coordinator over `ops`; returns its schedule records as model decisions."""
    import numpy  # noqa: F401  (the coordinator's own import, checked here for a clear error)
    cls, policies, headers, zmq_error = megatron_coordinator_class(git_dir)
    socket = ScriptedSocket(zmq_error)
    sys.modules["zmq"].Context = lambda: types.SimpleNamespace(socket=lambda kind: socket)
    client = b"client"
    server_id = {}

    def feed():
        for label in range(RANKS):
            yield [identity(label), b""]
        yield [client, Packed([headers.CONNECT.value])]
        for op in ops:
            if op["op"] == "submit":
                server_id[op["id"]] = len(server_id)
                yield [client, Packed([headers.SUBMIT_REQUEST.value, op["id"], op["tokens"], {}])]
            elif op["op"] == "complete":
                sid = server_id[op["id"]]
                record = {"request_id": sid, "prompt": "", "generated_tokens": [],
                          "sampling_params": {}}
                yield [socket.sent_to[sid], Packed([headers.ENGINE_REPLY.value, [record]])]
            elif op["op"] == "remove":
                yield [identity(op["rank"]), Packed([headers.DISCONNECT.value])]
                socket.departed.add(identity(op["rank"]))
            else:
                socket.departed.discard(identity(op["rank"]))
                yield [identity(op["rank"]), b""]
        yield [client, Packed([headers.SHUTDOWN.value])]

    socket.feed = feed()
    pipe = types.SimpleNamespace(send=lambda address: None, close=lambda: None)
    coordinator = cls(pipe, RANKS, tokenizer=None, max_requests=MAX_REQUESTS,
                      block_size_tokens=BLOCK_SIZE, enable_prefix_caching=True,
                      prefix_caching_coordinator_policy=policies(policy),
                      prefix_caching_routing_alpha=ALPHA, schedule_output_path="unused")
    coordinator.start()
    ids = [op["id"] for op in ops if op["op"] == "submit"]
    return [(i, int.from_bytes(coordinator._identities_list[r["rank_index"]], "big"),
             r["num_hashes"]) for i, r in zip(ids, coordinator.schedule_records)]


EXPECTED_FAILURE = {"submit: a removed engine scores best": ValueError,
                    "complete: the reply comes from a removed engine": AssertionError}


def check_with_megatron(git_dir, policy, ops, decisions, dropped_ops):
    got = run_megatron(git_dir, policy, ops)
    expected = [(d["id"], d["rank"], d["hashes"]) for d in decisions]
    assert got == expected, "core_v0.18.2 decides otherwise under %s" % policy
    for at, op, kind in dropped_ops:
        try:
            run_megatron(git_dir, policy, ops[:at] + [op])
        except EXPECTED_FAILURE[kind]:
            continue
        raise AssertionError("core_v0.18.2 does not fail at dropped step %r (%s)" % (op, kind))


# ---------------------------------------------------------------- output

def write_gzip(path, lines):
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
        for line in lines:
            f.write((json.dumps(line, separators=(",", ":")) + "\n").encode("utf-8"))
    with open(path, "wb") as f:
        f.write(raw.getvalue())


def random_campaign(out_dir, git_dir, seed, count):
    """count cases with settings drawn from seed (the module's constants set per case), each
    checked against core_v0.18.2's own coordinator, and cases.properties as parity-main has it
    (for check_route_replay.py --megatron 0.18)."""
    global RANKS, BLOCK_SIZE, ALPHA, MAX_REQUESTS, MAX_LABELS, OPS
    rng = random.Random(seed)
    os.makedirs(out_dir, exist_ok=True)
    lines = ["# random cases from generate_megatron018_parity.py, checked against " + COMMIT]
    for i in range(count):
        policy = rng.choice(POLICIES)
        RANKS = rng.choice([3, 4, 5, 8, 16, rng.randint(3, 16)])
        BLOCK_SIZE = rng.choice([1, 2, 4, 8, 16, 32, 64, rng.randint(1, 64)])
        ALPHA = rng.choice([0.0, 1.0, 0.5, round(rng.random(), 3)])
        MAX_REQUESTS = rng.choice([1, 2, 4, 16, 100, rng.randint(1, 100)])
        MAX_LABELS = RANKS + rng.randint(0, 4)
        OPS = rng.randint(500, 2000)
        name = "random-%d-%d" % (seed, i)
        ops, decisions, dropped, dropped_ops, _ = generate(policy, seed * 100000 + i)
        check_with_megatron(git_dir, policy, ops, decisions, dropped_ops)
        write_gzip(os.path.join(out_dir, "%s-trace.jsonl.gz" % name), ops)
        write_gzip(os.path.join(out_dir, "%s-decisions.jsonl.gz" % name), decisions)
        lines.append("%s=%s,%d,%d,%s,%d" % (name, policy, RANKS, BLOCK_SIZE, ALPHA, MAX_REQUESTS))
        print("%s: %d ops, %d decisions, dropped %s, checked against core_v0.18.2"
              % (name, len(ops), len(decisions), dropped or "nothing"), flush=True)
    with open(os.path.join(out_dir, "cases.properties"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    out_dir = sys.argv[1]
    git_dir = sys.argv[2] if len(sys.argv) > 2 else None
    logging.disable(logging.CRITICAL)  # the coordinator's warnings about removed engines
    if len(sys.argv) == 5 and sys.argv[3] == "--random" and sys.argv[4].isdigit():
        random_campaign(out_dir, git_dir, int(sys.argv[4]), int(os.environ.get("CASES", "100")))
        return
    for seed, policy in enumerate(POLICIES, start=20261130):
        ops, decisions, dropped, dropped_ops, hidden = generate(policy, seed)
        if git_dir:
            check_with_megatron(git_dir, policy, ops, decisions, dropped_ops)
        write_gzip(os.path.join(out_dir, "trace-%s.jsonl.gz" % policy), ops)
        write_gzip(os.path.join(out_dir, "decisions-%s.jsonl.gz" % policy), decisions)
        kinds = {}
        for op in ops:
            kinds[op["op"]] = kinds.get(op["op"], 0) + 1
        no_block = sum(1 for d in decisions if d["hashes"] == 0)
        matched = sum(1 for d in decisions if d["match"] > 0)
        print("%s: %d ops %s, %d decisions (%d without a complete block, %d with a match, %d"
              " where only removed engines own the deepest shared hash and a connected one a"
              " shallower), dropped %s%s"
              % (policy, len(ops), kinds, len(decisions), no_block, matched, hidden,
                 dropped or "nothing", ", checked against core_v0.18.2" if git_dir else ""))


if __name__ == "__main__":
    main()
