"""Megatron-LM's coordinator wire format, as its own peers speak it (libzmq + msgpack).

Shared by the interop client, engine and parity driver. Everything here is a fact about the
format in docs/spec/PROTOCOL.md: header values, how frames are packed and unpacked, what a
DynamicInferenceRequest record looks like, and what Megatron's deserialization accepts.

Output to the Java test is one line per event on stdout: an event name, then key=value pairs
without spaces (values are ints, plain words or hex digests), e.g.
    reply cid=3 rid=17 status=COMPLETED sha256=ab12...
"""

import dataclasses
import hashlib
import os
import random
import sys
import time

import msgpack
import zmq

# Header wire values (docs/spec/PROTOCOL.md).
CONNECT = 0
CONNECT_ACK = 1
SUBMIT_REQUEST = 20
ENGINE_REPLY = 21
ENGINE_REPLY_PARTIAL = 22
PAUSE = 40
UNPAUSE = 41
SUSPEND = 42
RESUME = 43
SET_GENERATION_EPOCH = 44
STOP = 45
START_CUDA_PROFILER = 46
STOP_CUDA_PROFILER = 47
DISCONNECT = 60
SHUTDOWN = 61
CONTROL_SIGNALS = range(PAUSE, STOP_CUDA_PROFILER + 1)

# DynamicInferenceRequest.serialize() keys: the 36 fields of a real engine's reply record.
RECORD_FIELDS = (
    "request_id", "prompt", "sampling_params", "inference_parameters", "prompt_tokens",
    "arrival_time", "status", "encoder_prompt", "generated_text", "segments",
    "generated_segments", "generated_sequence_lengths", "generated_tokens", "prompt_log_probs",
    "generated_log_probs", "prompt_top_n_logprobs", "generated_top_n_logprobs",
    "generated_length", "tpot", "uid", "remaining_prompt_tokens", "policy_epoch",
    "kv_cache_epoch", "latency", "routing_indices", "finished_chunk_token_count",
    "stop_word_ids", "cg_wait_iters", "block_size_tokens", "enable_prefix_caching",
    "num_cached_tokens", "precomputed_block_hashes", "disaggregated_params", "ttft", "events",
    "acceptance_step_lengths",
)
assert len(RECORD_FIELDS) == 36

# The coordinator's own FAILED record (PROTOCOL.md, "Nothing lost"): exactly these keys.
FAILED_RECORD_KEYS = frozenset((
    "request_id", "status", "prompt", "sampling_params", "inference_parameters",
    "generated_tokens", "events",
))

STATUS_NAMES = frozenset((
    "WAITING_IN_QUEUE", "ACTIVE_AND_GENERATING_TOKENS", "ACTIVE_BUT_NOT_GENERATING_TOKENS",
    "COMPLETED", "FAILED",
))
EVENT_TYPES = frozenset((
    "ADD_ENGINE", "ADD_CONTEXT", "GENERATED_TOKEN", "PAUSE", "EVICT", "FINISH", "FAIL",
    "ERROR_TRANSIENT", "ERROR_NONTRANSIENT",
))
ERROR_PAYLOAD_KEYS = frozenset(("type", "request_id", "message", "is_transient"))

BLOCK_SIZE = 16
VOCABULARY = 32000


class WireError(Exception):
    """A frame or record that a Megatron peer would choke on."""


def pack(value):
    """Packs like every Megatron peer: msgpack.packb(value, use_bin_type=True)."""
    return msgpack.packb(value, use_bin_type=True)


def unpack(frame):
    """Unpacks like every Megatron peer: msgpack.unpackb(frame, raw=False)."""
    return msgpack.unpackb(frame, raw=False)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def elements(frame):
    """The raw bytes of each element of the frame's top-level array (no re-encoding)."""
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(frame)
    count = unpacker.read_array_header()
    out = []
    start = unpacker.tell()
    for _ in range(count):
        unpacker.skip()
        end = unpacker.tell()
        out.append(frame[start:end])
        start = end
    if start != len(frame):
        raise WireError("%d trailing bytes after the frame's array" % (len(frame) - start))
    return out


def map_entries(raw):
    """The entries of a packed map as (key, raw bytes of the value), in wire order."""
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(raw)
    count = unpacker.read_map_header()
    out = []
    for _ in range(count):
        key = unpacker.unpack()
        start = unpacker.tell()
        unpacker.skip()
        out.append((key, raw[start:unpacker.tell()]))
    if unpacker.tell() != len(raw):
        raise WireError("%d trailing bytes after the map" % (len(raw) - unpacker.tell()))
    return out


def emit(event, **fields):
    """One line for the Java side: `event key=value ...`, flushed at once."""
    parts = [event] + ["%s=%s" % (k, v) for k, v in fields.items()]
    line = " ".join(str(p) for p in parts)
    if "\n" in line:
        raise ValueError("a value holds a line break: " + line)
    print(line, flush=True)


def die(message):
    """Reports a failure on stderr and exits 1 (the Java test shows stderr)."""
    print("FAILED: " + message, file=sys.stderr, flush=True)
    os._exit(1)


def dealer(context, endpoint, identity=None):
    """A DEALER as Megatron peers open one: no high-water marks, optional identity."""
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.SNDHWM, 0)
    socket.setsockopt(zmq.RCVHWM, 0)
    socket.setsockopt(zmq.LINGER, 2000)
    if identity is not None:
        socket.setsockopt(zmq.IDENTITY, identity.encode("utf-8"))
    socket.connect(endpoint)
    return socket


def connected_client(context, endpoint, deadline):
    """A client DEALER that has sent CONNECT [0] and received CONNECT_ACK [1]."""
    socket = dealer(context, endpoint)
    socket.send(pack([CONNECT]))
    if unpack(recv_within(socket, deadline, "CONNECT_ACK")) != [CONNECT_ACK]:
        die("expected CONNECT_ACK")
    return socket


class EngineSockets:
    """Engine DEALERs held by one driver process: registered in the given order, polled together."""

    def __init__(self, context, endpoint, identities):
        self.sockets = {}
        self.poller = zmq.Poller()
        for identity in identities:
            socket = dealer(context, endpoint, identity)
            socket.send(b"")  # registration: an empty frame
            self.sockets[identity] = socket
            self.poller.register(socket, zmq.POLLIN)

    def next_frame(self, deadline):
        """(identity, unpacked message) of the next frame an engine receives, or dies."""
        left = deadline - time.monotonic()
        events = dict(self.poller.poll(max(1, int(left * 1000)))) if left > 0 else {}
        if not events:
            die("no engine received the request before the deadline")
        for identity, socket in self.sockets.items():
            if socket in events:
                return identity, unpack(socket.recv())
        raise AssertionError("poller reported an unknown socket")


def recv_within(socket, deadline, what):
    """Receives one frame, or dies if none arrives before the monotonic `deadline`."""
    left = deadline - time.monotonic()
    if left <= 0 or not socket.poll(int(left * 1000) + 1):
        die("no %s before the deadline" % what)
    return socket.recv()


def tokenize(prompt):
    """The peers' toy tokenizer: token lists stay as they are, text becomes its UTF-8 bytes."""
    return list(prompt) if isinstance(prompt, list) else list(prompt.encode("utf-8"))


def block_hashes(tokens):
    """Megatron's chained SHA-256 block hashes (compute_block_hashes_batched)."""
    digest = bytes(32)
    out = []
    for i in range(len(tokens) // BLOCK_SIZE):
        block = b"".join(
            t.to_bytes(8, "little", signed=True) for t in tokens[i * BLOCK_SIZE:(i + 1) * BLOCK_SIZE]
        )
        digest = hashlib.sha256(digest + block).digest()
        out.append(int.from_bytes(digest[:8], "little") % (2**63 - 1) + 1)
    return out


def engine_record(rid, prompt, sampling_params, status, generated, arrival, rng):
    """A reply record shaped like DynamicInferenceRequest.serialize(): all 36 fields.

    `generated` is the list of generated token ids so far; `status` a Status name. Floats are
    real wall-clock times and per-token latencies, as a GPU engine would report them.
    """
    tokens = tokenize(prompt)
    now = time.time()
    finished = status in ("COMPLETED", "FAILED")
    events = [
        {"timestamp": arrival, "type": "ADD_ENGINE", "payload": None},
        {"timestamp": arrival + 0.0004, "type": "ADD_CONTEXT", "payload": None},
    ]
    for i, token in enumerate(generated):
        events.append({
            "timestamp": arrival + 0.001 * (i + 1), "type": "GENERATED_TOKEN",
            "payload": {"token_id": token},
        })
    if finished:
        events.append({"timestamp": now, "type": "FINISH", "payload": None})
    record = {
        "request_id": rid,
        "prompt": prompt,
        "sampling_params": sampling_params,
        "inference_parameters": None,
        "prompt_tokens": ["tensor", tokens],
        "arrival_time": arrival,
        "status": status,
        "encoder_prompt": None,
        "generated_text": None,
        "segments": None,
        "generated_segments": None,
        "generated_sequence_lengths": None,
        "generated_tokens": list(generated),
        "prompt_log_probs": None,
        "generated_log_probs": [-rng.random() * 3 for _ in generated],
        "prompt_top_n_logprobs": None,
        "generated_top_n_logprobs": None,
        "generated_length": len(generated),
        "tpot": [0.001 + rng.random() * 1e-4 for _ in generated],
        "uid": "chatcmpl-%032x" % rng.getrandbits(128),
        "remaining_prompt_tokens": ["tensor", tokens],
        "policy_epoch": [[0, 0]],
        "kv_cache_epoch": [[0, 0]],
        "latency": (now - arrival) if finished else None,
        "routing_indices": None,
        "finished_chunk_token_count": 0,
        "stop_word_ids": None,
        "cg_wait_iters": 0,
        "block_size_tokens": BLOCK_SIZE,
        "enable_prefix_caching": True,
        "num_cached_tokens": 0,
        "precomputed_block_hashes": block_hashes(tokens),
        "disaggregated_params": None,
        "ttft": 0.0004 + rng.random() * 1e-3,
        "events": events,
        "acceptance_step_lengths": [],
    }
    assert len(record) == 36
    return record


def generated_tokens(rid, count):
    """A deterministic stand-in for the tokens a model samples."""
    return [(rid * 7919 + i * 31) % VOCABULARY for i in range(count)]


def deserialize(record):
    """Checks a reply record the way DynamicInferenceRequest.deserialize reads it.

    Its constructor takes keyword arguments only for known fields (an unknown key raises), reads
    status, sampling_params and inference_parameters by key (a missing one raises), rebuilds every
    ["tensor", list] value and every event (type by enum name; ERROR_* events need a payload,
    GENERATED_TOKEN a {"token_id"} payload, every other type a nil payload).
    """
    if not isinstance(record, dict):
        raise WireError("record is a %s, not a map" % type(record).__name__)
    unknown = sorted(k for k in record if k not in RECORD_FIELDS)
    if unknown:
        raise WireError("unexpected keyword argument(s) %s" % unknown)
    for key in ("request_id", "status", "sampling_params", "inference_parameters"):
        if key not in record:
            raise WireError("missing key %r" % key)
    rid = record["request_id"]
    if not isinstance(rid, int) or isinstance(rid, bool):
        raise WireError("request_id is a %s, not an int" % type(rid).__name__)
    status = record["status"]
    if status is not None and status not in STATUS_NAMES:
        raise WireError("status %r is not a Status name" % (status,))
    for key in ("sampling_params", "inference_parameters"):
        if record[key] is not None and not isinstance(record[key], dict):
            raise WireError("%s is a %s, not a map" % (key, type(record[key]).__name__))
    for key, value in record.items():
        if isinstance(value, list) and len(value) == 2 and value[0] == "tensor":
            if not isinstance(value[1], list) or not all(
                isinstance(t, int) and not isinstance(t, bool) for t in value[1]
            ):
                raise WireError("%s is not a tensor of ints" % key)
    events = record.get("events", [])
    if not isinstance(events, list):
        raise WireError("events is not a list")
    for event in events:
        check_event(event)


# DynamicInferenceRequest as a deserializing client builds it: keyword arguments of its fields only.
DynamicInferenceRequest = dataclasses.make_dataclass(
    "DynamicInferenceRequest",
    [(f, object, dataclasses.field(default=None)) for f in RECORD_FIELDS])


def deserialize_request(record):
    """InferenceClient(deserialize=True): DynamicInferenceRequest.deserialize(record), which is
    cls(**record) after the checks of deserialize(); an unknown key raises TypeError there."""
    deserialize(record)
    return DynamicInferenceRequest(**record)


def check_event(event):
    if not isinstance(event, dict):
        raise WireError("event is not a map: %r" % (event,))
    unknown = sorted(k for k in event if k not in ("timestamp", "type", "payload"))
    if unknown:
        raise WireError("event has unexpected key(s) %s" % unknown)
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        raise WireError("event type %r is not a DynamicInferenceEventType name" % (kind,))
    if "payload" not in event:
        raise WireError("event %s has no payload key" % kind)
    timestamp = event.get("timestamp")
    if timestamp is not None and not isinstance(timestamp, float):
        raise WireError("event %s timestamp is a %s" % (kind, type(timestamp).__name__))
    payload = event["payload"]
    if kind in ("ERROR_TRANSIENT", "ERROR_NONTRANSIENT"):
        if not isinstance(payload, dict) or set(payload) != ERROR_PAYLOAD_KEYS:
            raise WireError("%s payload must be a map of %s, got %r"
                            % (kind, sorted(ERROR_PAYLOAD_KEYS), payload))
    elif kind == "GENERATED_TOKEN":
        if not isinstance(payload, dict) or "token_id" not in payload:
            raise WireError("GENERATED_TOKEN payload must hold token_id, got %r" % (payload,))
    elif payload is not None:
        raise WireError("%s event must have a nil payload, got %r" % (kind, payload))


def check_failed(record, prompt, sampling_params):
    """Checks a coordinator-written FAILED record against PROTOCOL.md's template, strictly."""
    deserialize(record)
    if set(record) != FAILED_RECORD_KEYS:
        raise WireError("FAILED record keys %s, expected exactly %s"
                        % (sorted(record), sorted(FAILED_RECORD_KEYS)))
    rid = record["request_id"]
    if record["status"] != "FAILED":
        raise WireError("status %r, expected FAILED" % (record["status"],))
    if record["prompt"] != prompt or type(record["prompt"]) is not type(prompt):
        raise WireError("the FAILED record's prompt is not the prompt as submitted")
    if record["sampling_params"] != sampling_params:
        raise WireError("the FAILED record's sampling_params are not those submitted")
    if record["inference_parameters"] is not None:
        raise WireError("inference_parameters must be nil")
    if record["generated_tokens"] != []:
        raise WireError("generated_tokens must be empty")
    events = record["events"]
    if len(events) != 2:
        raise WireError("expected 2 events, got %d" % len(events))
    error, fail = events
    if error["type"] != "ERROR_NONTRANSIENT" or fail["type"] != "FAIL":
        raise WireError("events %s, %s; expected ERROR_NONTRANSIENT then FAIL"
                        % (error["type"], fail["type"]))
    if fail["payload"] is not None:
        raise WireError("the FAIL event's payload must be nil")
    if not isinstance(error["timestamp"], float) or error["timestamp"] != fail["timestamp"]:
        raise WireError("both events must carry the same float timestamp")
    if abs(error["timestamp"] - time.time()) > 600:
        raise WireError("timestamp %r is not the current unix time" % error["timestamp"])
    payload = error["payload"]
    if payload["type"] != "ContextOverflowError" or payload["request_id"] != rid:
        raise WireError("error payload %r does not name ContextOverflowError for request %d"
                        % (payload, rid))
    if not isinstance(payload["message"], str) or not payload["message"]:
        raise WireError("error payload needs a human-readable message")
    if payload["is_transient"] is not False:
        raise WireError("is_transient must be false")


def shared_prefix_prompts(count, seed):
    """Prompts that share prefixes: token lists on a few system prompts, and some text ones."""
    rng = random.Random(seed)
    systems = [[rng.randrange(VOCABULARY) for _ in range(3 * BLOCK_SIZE)] for _ in range(3)]
    prompts = []
    for i in range(count):
        if i % 4 == 3:
            prompts.append("You are a helpful assistant. Question %d: what is %d + %d?"
                           % (i, rng.randrange(100), rng.randrange(100)))
        else:
            suffix = [rng.randrange(VOCABULARY) for _ in range(rng.randrange(1, 2 * BLOCK_SIZE))]
            prompts.append(systems[i % 3] + suffix)
    return prompts


def sampling_params(tokens_to_generate, stream):
    """A SamplingParams.serialize()-like map."""
    return {
        "temperature": 1.0,
        "top_k": 1,
        "top_p": 0.0,
        "return_log_probs": False,
        "skip_prompt_log_probs": True,
        "return_segments": False,
        "num_tokens_to_generate": tokens_to_generate,
        "termination_id": None,
        "top_n_logprobs": 0,
        "return_prompt_top_n_logprobs": False,
        "add_BOS": False,
        "stop_words": None,
        "detokenize_stop_sequence": False,
        "stream": stream,
    }
