#!/usr/bin/env python3
"""Text-prompt routing traces and the decisions Megatron's coordinator makes on them.

For each tokenizer kind below this writes, under OUT_DIR (coordinator-tests/src/test/resources/
text-parity):

* <kind>-trace.jsonl.gz: a routing trace in the format of docs/spec/ROUTING.md ("Trace replay")
  whose submits carry text prompts ({"op":"submit","id":N,"text":"..."}): multi-turn chats in
  which every turn extends the previous prompt, system prompts shared across chats, one-shot
  questions on those system prompts, prompts shorter than one block, repeated prompts, bursts on
  one system prompt that load an engine past max_requests, completes interleaved (a chat's next
  turn only after its previous one completed), and one engine removal while it holds requests.
  For `null` the texts are integers separated by single spaces, the only text NullTokenizer reads.
* <kind>-decisions.jsonl.gz: one line per submit, {"id":N,"rank":R,"match":D,"blocks":B}: the
  engine (original index) Megatron's coordinator chooses, the chosen engine's match depth in
  blocks (0: none) and the number of complete blocks of the prompt.
* kinds.properties: <kind>.spec = the coordinator's --tokenizer SPEC for the kind, with {repo}
  standing for the repository root.

Every text is tokenized as Megatron's coordinator does it (compute_request_hashes:
MegatronTokenizerText.tokenize(text) = the library's text_to_ids(text)) with Megatron's own
tokenizer library classes, loaded from a Megatron-LM checkout by generate_golden.py's loader. The
decisions come from the small model of the routing rule below, written from docs/spec/ROUTING.md
(parity mode, LONGEST_PREFIX, alpha 0.5, max_requests 16, block size 16, 4 engines whose rank order
is the unsigned byte order of their identities; removing an engine drops its index entries and
renumbers the others), with the block hashes of the hash-vector generator (hashlib). Nothing here
comes from the Java code. Two checks run before anything is written: the model must reproduce the
Megatron decisions recorded in coordinator-routing's parity fixture, and Megatron's own routing
methods (DataParallelInferenceCoordinator.get_best_data_parallel_rank, _update_rank_hashes,
_remove_engine, loaded from the checkout; needs numpy) must make the model's decisions on every
text trace.

Usage, from the repository root (pip install tokenizers transformers tiktoken sentencepiece numpy):
  python3 coordinator-tests/src/test/python/generate_text_parity.py \\
      /work/.mirror/NVIDIA+Megatron-LM/repo .cache/tokenizers \\
      coordinator-tests/src/test/resources/text-parity
MEGATRON_CHECKOUT: a Megatron-LM working tree, or a git directory (its HEAD is read).
TOKENIZER_CACHE: .cache/tokenizers (scripts/fetch-tokenizers.sh).
The output is the same on every run (fixed seeds, gzip without a time stamp).
"""
import collections
import enum
import gzip
import hashlib
import importlib.util
import io
import json
import os
import random
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
GOLDEN = os.path.join(REPO, "coordinator-tokenizers", "src", "test", "python", "generate_golden.py")
HASHES = os.path.join(REPO, "coordinator-routing", "src", "test", "resources", "hash-vectors",
                      "generate.py")
COMMITTED = "coordinator-tokenizers/src/test/resources/tokenizers"
ROUTING_FIXTURE = os.path.join(REPO, "coordinator-routing", "src", "test", "resources", "parity")
COORDINATOR = "megatron/core/inference/data_parallel_inference_coordinator/coordinator.py"

RANKS = 4
BLOCK_SIZE = 16
ALPHA = 0.5
MAX_REQUESTS = 16
NULL_VOCABULARY = 131072


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = load("generate_golden", GOLDEN)
block_hashes = load("hash_vectors", HASHES).block_hashes


# ---------------------------------------------------------------- the routing rule (ROUTING.md)

class MegatronRouting:
    """Megatron's prefix-cache routing decision, LONGEST_PREFIX, as docs/spec/ROUTING.md states it.

    Engines are named by their original index (label); `order` lists the active ones in rank
    order. The index maps a block hash to {label: timestamp}; the timestamp is the assignment
    counter, which moves only for requests that have hashes.
    """

    def __init__(self, ranks, alpha, max_requests):
        self.order = list(range(ranks))
        self.pending = {label: 0 for label in self.order}
        self.index = {}
        self.counter = 0
        self.alpha = alpha
        self.max_requests = max_requests

    def route(self, hashes):
        """Chooses an engine for a request with these block hashes; returns (label, depth)."""
        if not hashes:  # no complete block: the least loaded engine, ties to the lowest rank
            label = min(self.order, key=lambda r: (self.pending[r], self.order.index(r)))
            self.pending[label] += 1
            return label, 0
        n = len(hashes)
        match = {label: 0.0 for label in self.order}
        recency = {label: 0 for label in self.order}
        depth = 0
        for i in range(n - 1, -1, -1):
            owners = self.index.get(hashes[i])
            if owners:
                for label, timestamp in owners.items():
                    match[label] = (i + 1.0) / n
                    recency[label] = timestamp
                depth = i + 1
                break
        best, best_key = None, None
        for position, label in enumerate(self.order):
            free = max(0, self.max_requests - self.pending[label]) / self.max_requests
            score = self.alpha * match[label] + (1.0 - self.alpha) * free
            key = (score, recency[label], -position)
            if best_key is None or key > best_key:
                best, best_key = label, key
        self.pending[best] += 1
        self.counter += 1
        for h in hashes:
            self.index.setdefault(h, {})[best] = self.counter
        return best, depth if match[best] > 0 else 0

    def complete(self, label):
        if label in self.pending:  # a removed engine's requests no longer count
            self.pending[label] -= 1

    def remove(self, label):
        self.order.remove(label)
        del self.pending[label]
        for h in list(self.index):
            self.index[h].pop(label, None)
            if not self.index[h]:
                del self.index[h]


# ---------------------------------------------------------------- the workload

WORDS = (
    "the a an of to in on for with and or but not is are was be can will should could would "
    "request engine cache prefix block token model answer question system user assistant "
    "please explain summarize translate write list compare describe why how what when where "
    "data center network latency throughput memory GPU kernel batch queue schedule policy "
    "history science music river mountain city travel recipe garden weather market contract "
    "report letter email poem story code function error test build deploy server client "
    "quickly carefully briefly simply exactly first second third next last every each "
    "small large fast slow new old good better best bad worse early late open closed "
    "café naïve résumé Straße Größe Übung façade coöperate "
    "協調器 引擎 東京 日本語 한국어 Привет мир مرحبا नमस्ते 😀 👍🏽 🎉 ✓ → ½ € "
).split()

SEPARATORS = {"system": "System: ", "first-user": "User: ", "user": "\n\nUser: ",
              "assistant": "\nAssistant: "}
SHORT = ["Hi", "Hello!", "Thanks", "OK?", "Yes.", "No", "Why?", "Go on", "café", "東京?", "😀",
         "2+2?"]


def words(rng, count):
    out = [rng.choice(WORDS) for _ in range(count)]
    out[0] = out[0].capitalize()
    out[-1] += rng.choice([".", "?", "!", ".", ":"])
    return out


class Prompt:
    """A prompt as pieces: separators (by name) and words, rendered per tokenizer kind."""

    def __init__(self, pieces):
        self.pieces = pieces

    def extended(self, *pieces):
        return Prompt(self.pieces + list(pieces))

    def natural(self):
        out = []
        for kind, value in self.pieces:
            if kind == "sep":
                out.append(SEPARATORS[value])
            elif kind == "short":
                out.append(value)
            else:
                out.append(" ".join(value))
        return "".join(out)

    def integers(self):
        ids = []
        for kind, value in self.pieces:
            for word in ([value] if kind != "words" else value):
                digest = hashlib.sha256(("%s:%s" % (kind, word)).encode("utf-8")).digest()
                ids.append(int.from_bytes(digest[:8], "little") % (NULL_VOCABULARY - 1))
        return " ".join(str(i) for i in ids)


def sep(name):
    return ("sep", name)


def text(rng, count):
    return ("words", words(rng, count))


def workload(seed=20261129):
    """The trace as a list of ops, prompts as Prompt objects; 'remove' has no rank yet."""
    rng = random.Random(seed)
    systems = [Prompt([sep("system"), text(rng, rng.randint(50, 90))]) for _ in range(3)]
    chats = []
    for _ in range(45):
        if rng.random() < 0.8:
            start = rng.choice(systems).extended(sep("user"))
        else:
            start = Prompt([sep("first-user")])
        chats.append({"prompt": start.extended(text(rng, rng.randint(4, 20))),
                      "turns": rng.randint(2, 6), "waiting": None})
    ops = []
    outstanding = []  # request ids submitted, not completed
    submitted = []  # every prompt submitted so far
    next_id = 0
    target = 300
    removed = False
    while next_id < target:
        if next_id >= target * 0.55 and not removed:
            ops.append({"op": "remove"})
            removed = True
        if outstanding and (len(outstanding) > rng.randint(6, 40) or rng.random() < 0.35):
            cid = outstanding.pop(rng.randrange(min(len(outstanding), 8)))  # mostly the oldest
            ops.append({"op": "complete", "id": cid})
            for chat in chats:
                if chat["waiting"] == cid:
                    chat["waiting"] = None
            continue
        roll = rng.random()
        ready = [c for c in chats if c["waiting"] is None and c["turns"] > 0]
        if roll < 0.55 and ready:
            chat = rng.choice(ready)
            prompt = chat["prompt"]
            chat["turns"] -= 1
            chat["waiting"] = next_id
            chat["prompt"] = prompt.extended(sep("assistant"), text(rng, rng.randint(8, 40)),
                                             sep("user"), text(rng, rng.randint(4, 20)))
            batch = [prompt]
        elif roll < 0.70:
            batch = [rng.choice(systems).extended(sep("user"), text(rng, rng.randint(3, 25)))]
        elif roll < 0.80:
            batch = [Prompt([("short", rng.choice(SHORT))])]
        elif roll < 0.88 and submitted:
            batch = [rng.choice(submitted)]  # a retry of an earlier prompt
        elif roll < 0.92:  # a burst of one-shot questions on one system prompt
            system = rng.choice(systems)
            batch = [system.extended(sep("user"), text(rng, rng.randint(3, 12)))
                     for _ in range(rng.randint(12, 24))]
        else:
            continue
        for prompt in batch:
            ops.append({"op": "submit", "id": next_id, "prompt": prompt})
            outstanding.append(next_id)
            submitted.append(prompt)
            next_id += 1
    while outstanding:
        ops.append({"op": "complete", "id": outstanding.pop(0)})
    return ops


# ---------------------------------------------------------------- checks of the model

def route_trace(ops, hashes_of):
    """The model's decisions on trace ops (dicts of ROUTING.md's format): [(id, label, depth)]."""
    routing = MegatronRouting(RANKS, ALPHA, MAX_REQUESTS)
    engine_of, out = {}, []
    for op in ops:
        if op["op"] == "submit":
            label, depth = routing.route(hashes_of(op))
            engine_of[op["id"]] = label
            out.append((op["id"], label, depth))
        elif op["op"] == "complete":
            routing.complete(engine_of[op["id"]])
        else:
            routing.remove(op["rank"])
    return out


def check_model_on_routing_fixture():
    """The model must give the Megatron decisions recorded in the routing parity fixture."""
    def read(name):
        with gzip.open(os.path.join(ROUTING_FIXTURE, name), "rt", encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    ops = read("trace.jsonl.gz")
    recorded = [(d["id"], d["rank"]) for d in read("decisions-longest_prefix.jsonl.gz")]
    decided = [(i, label) for i, label, _ in
               route_trace(ops, lambda op: block_hashes(op["tokens"], BLOCK_SIZE))]
    assert decided == recorded, "the routing model does not reproduce the parity fixture"


def megatron_coordinator_class(checkout):
    """DataParallelInferenceCoordinator from the checkout, its imports other than numpy stubbed."""
    if os.path.isdir(os.path.join(checkout, "megatron")):
        with open(os.path.join(checkout, COORDINATOR), "rb") as f:
            source = f.read()
    else:
        source = subprocess.check_output(["git", "--git-dir", checkout, "show",
                                          "HEAD:" + COORDINATOR])
    policy = enum.Enum("PrefixCachingCoordinatorPolicy", {
        "LONGEST_PREFIX": "longest_prefix", "FIRST_PREFIX_BLOCK": "first_prefix_block",
        "LOAD_BALANCED": "load_balanced"})
    package = "megatron.core.inference"
    stubs = {
        package + ".config": {"PrefixCachingCoordinatorPolicy": policy},
        package + ".headers": {"Headers": None, "UnknownHeaderError": None},
        package + ".inference_request": {"compute_block_hashes_batched": None},
        package + ".text_generation_controllers": {},
        package + ".text_generation_controllers.text_generation_controller":
            {"TextGenerationController": None},
        package + ".data_parallel_inference_coordinator": {},
        package + ".data_parallel_inference_coordinator.handlers": {"HANDLERS": {}},
        package + ".data_parallel_inference_coordinator.state": {"CoordinatorState": None},
        package: {},
    }
    for name, attributes in stubs.items():
        stub = types.ModuleType(name)
        stub.__path__ = []
        stub.__dict__.update(attributes)
        sys.modules.setdefault(name, stub)
    module = types.ModuleType(package + ".data_parallel_inference_coordinator.coordinator")
    exec(compile(source, COORDINATOR, "exec"), module.__dict__)
    return module.DataParallelInferenceCoordinator, policy


def check_with_megatron_routing(checkout, trace, tokenize, decisions):
    """Megatron's own routing methods, driven as its SUBMIT, ENGINE_REPLY and removal paths drive
    them, must choose the engines of `decisions` on `trace`."""
    import numpy as np
    cls, policy = megatron_coordinator_class(checkout)
    identities = sorted(b"mp-coord-%d" % i for i in range(RANKS))
    coordinator = object.__new__(cls)
    coordinator.identities_of_data_parallel_ranks = collections.deque(identities)
    coordinator.removed_engine_identities = set()
    coordinator.identity_to_rank_index = {identity: i for i, identity in enumerate(identities)}
    coordinator._identities_list = list(identities)
    coordinator._pending_counts = np.zeros(RANKS, dtype=np.int32)
    coordinator._hash_table = {}
    coordinator._hash_assignment_counter = 0
    coordinator.prefix_caching_coordinator_policy = policy.LONGEST_PREFIX
    coordinator.enable_prefix_caching = True
    coordinator.prefix_caching_routing_alpha = ALPHA
    coordinator.max_requests = MAX_REQUESTS
    owner, chosen = {}, []
    for op in trace:
        if op["op"] == "submit":
            hashes = block_hashes(tokenize(op["text"]), BLOCK_SIZE)
            identity = coordinator.get_best_data_parallel_rank(hashes)
            coordinator._pending_counts[coordinator.identity_to_rank_index[identity]] += 1
            if hashes:
                coordinator._update_rank_hashes(identity, hashes)
            owner[op["id"]] = identity
            chosen.append(identities.index(identity))
        elif op["op"] == "complete":
            index = coordinator.identity_to_rank_index.get(owner[op["id"]])
            if index is not None:
                coordinator._pending_counts[index] -= 1
        else:
            coordinator._remove_engine(identities[op["rank"]])
    assert chosen == [d["rank"] for d in decisions], "Megatron's routing code decides otherwise"


# ---------------------------------------------------------------- kinds and output

def kinds(libraries, cache):
    tiktoken_file = os.path.join(REPO, COMMITTED, "tiktoken-gpt2-5k.json")
    sentencepiece_file = os.path.join(REPO, COMMITTED, "sentencepiece-tiny.model")
    out = [
        ("null", "null", libraries["null"](vocab_size=NULL_VOCABULARY)),
        ("bytes", "bytes", libraries["bytes"]()),
    ]
    for name in ["gpt2", "qwen3", "llama3"]:
        out.append(("huggingface-" + name, "huggingface:{repo}/.cache/tokenizers/" + name,
                    libraries["huggingface"](os.path.join(cache, name))))
    out.append(("tiktoken", "tiktoken:{repo}/%s/tiktoken-gpt2-5k.json,vocab-size=6000" % COMMITTED,
                libraries["tiktoken"](tiktoken_file, vocab_size=6000)))
    out.append(("sentencepiece", "sentencepiece:{repo}/%s/sentencepiece-tiny.model" % COMMITTED,
                libraries["sentencepiece"](sentencepiece_file)))
    return out


def replay(ops, library, render):
    """Tokenizes and routes the workload; returns (trace lines, decision lines, statistics).

    The workload's removal takes out the engine holding the most requests at that point (the
    wire replay can only confirm a removal through the FAILED replies of its requests).
    """
    routing = MegatronRouting(RANKS, ALPHA, MAX_REQUESTS)
    engine_of = {}
    trace, decisions = [], []
    stats = {"submits": 0, "hits": 0, "no_block": 0, "saturated": 0, "removed_pending": 0}
    for op in ops:
        if op["op"] == "submit":
            text_prompt = render(op["prompt"])
            tokens = golden.megatron_tokenize(library, text_prompt)
            hashes = block_hashes(tokens, BLOCK_SIZE)
            label, depth = routing.route(hashes)
            engine_of[op["id"]] = label
            trace.append({"op": "submit", "id": op["id"], "text": text_prompt})
            decisions.append({"id": op["id"], "rank": label, "match": depth,
                              "blocks": len(hashes)})
            stats["submits"] += 1
            stats["hits"] += depth > 0
            stats["no_block"] += not hashes
            stats["saturated"] += routing.pending[label] > MAX_REQUESTS
        elif op["op"] == "complete":
            routing.complete(engine_of[op["id"]])
            trace.append(op)
        else:
            label = max(routing.order, key=lambda r: (routing.pending[r], -r))
            stats["removed_pending"] = routing.pending[label]
            assert routing.pending[label] > 0
            routing.remove(label)
            trace.append({"op": "remove", "rank": label})
    return trace, decisions, stats


def write_gzip(path, lines):
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
        for line in lines:
            f.write((json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                    .encode("utf-8"))
    with open(path, "wb") as f:
        f.write(raw.getvalue())


def main():
    checkout, cache, out_dir = sys.argv[1:4]
    # imported before Megatron's modules, so that transformers sees no torch (golden's stub)
    import tokenizers  # noqa: F401
    import transformers  # noqa: F401
    import transformers.utils.chat_template_utils  # noqa: F401
    import tiktoken  # noqa: F401
    import sentencepiece  # noqa: F401
    libraries, revision = golden.load_megatron_libraries(checkout)
    check_model_on_routing_fixture()
    ops = workload()
    os.makedirs(out_dir, exist_ok=True)
    properties = [
        "# --tokenizer SPEC of each text-parity kind ({repo}: the repository root).",
        "# Written by coordinator-tests/src/test/python/generate_text_parity.py from Megatron-LM "
        + revision + ".",
    ]
    for name, spec, library in kinds(libraries, cache):
        render = Prompt.integers if name == "null" else Prompt.natural
        trace, decisions, stats = replay(ops, library, render)
        check_with_megatron_routing(
            checkout, trace, lambda t, lib=library: golden.megatron_tokenize(lib, t), decisions)
        write_gzip(os.path.join(out_dir, name + "-trace.jsonl.gz"), trace)
        write_gzip(os.path.join(out_dir, name + "-decisions.jsonl.gz"), decisions)
        properties.append("%s.spec=%s" % (name, spec))
        print(name, json.dumps(stats), file=sys.stderr)
    with open(os.path.join(out_dir, "kinds.properties"), "w", encoding="utf-8") as f:
        f.write("\n".join(properties) + "\n")


if __name__ == "__main__":
    main()
