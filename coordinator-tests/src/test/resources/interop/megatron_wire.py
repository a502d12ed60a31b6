"""Megatron-LM's coordinator wire format, as its own peers speak it (libzmq + msgpack).

Shared by the interop client, engine and drivers. Everything here is a fact about the format in
docs/spec/PROTOCOL.md and about Megatron's releases: the header values of each dialect (0.19,
main, and 0.18, core_v0.17/0.18; 0.16 and 0.15 for the core016*/core015* scripts), how frames
are packed and unpacked, what a DynamicInferenceRequest record looks like in each, what each
release's deserialization accepts, and what Megatron's coordinator does to a record before a
client gets it (core_v0.15's builds the record itself: Request015).

Output to the Java test is one line per event on stdout: an event name, then key=value pairs
without spaces (values are ints, plain words or hex digests), e.g.
    reply cid=3 rid=17 status=COMPLETED sha256=ab12...
"""

import dataclasses
import hashlib
import json
import os
import random
import sys
import time

import msgpack
import zmq

# Header names of each release (docs/spec/PROTOCOL.md; core_v0.18.2 inference/headers.py).
CONTROL_NAMES = (
    "PAUSE", "UNPAUSE", "SUSPEND", "RESUME", "SET_GENERATION_EPOCH", "STOP",
    "START_CUDA_PROFILER", "STOP_CUDA_PROFILER",
)

# DynamicInferenceRequest.serialize() keys of Megatron main (core_v0.19 and later): 36 fields.
RECORD_FIELDS = (
    "request_id", "prompt", "sampling_params", "inference_parameters", "prompt_tokens",
    "prompt_length", "arrival_time", "status", "encoder_prompt", "generated_text", "segments",
    "generated_segments", "generated_sequence_lengths", "generated_tokens", "prompt_log_probs",
    "generated_log_probs", "prompt_top_n_logprobs", "generated_top_n_logprobs",
    "generated_length", "tpot", "uid", "remaining_prompt_tokens", "policy_epoch",
    "kv_cache_epoch", "latency", "routing_indices", "finished_chunk_token_count",
    "stop_word_ids", "cg_wait_iters", "block_size_tokens", "enable_prefix_caching",
    "num_cached_tokens", "precomputed_block_hashes", "disaggregated_params", "ttft", "events",
)
assert len(RECORD_FIELDS) == 36

# The keys main added; core_v0.17/0.18's DynamicInferenceRequest(**record) raises TypeError on each.
NEW_IN_0_19 = ("prompt_length", "uid", "cg_wait_iters", "num_cached_tokens",
               "disaggregated_params")

# core_v0.17.1 / core_v0.18.2: the same order without main's five keys, 31 fields.
RECORD_FIELDS_0_18 = tuple(f for f in RECORD_FIELDS if f not in NEW_IN_0_19)
assert len(RECORD_FIELDS_0_18) == 31


class Dialect:
    """One release's wire: header values (as attributes, e.g. `d.SUBMIT_REQUEST`), the fields of
    its reply record, and the DynamicInferenceRequest a deserializing client builds from one."""

    def __init__(self, name, headers, record_fields):
        self.name = name
        self.headers = dict(headers)  # name -> wire value
        self.names = {value: key for key, value in headers.items()}  # wire value -> name
        self.record_fields = record_fields
        self.control_signals = frozenset(v for k, v in headers.items() if k in CONTROL_NAMES)
        # InferenceClient(deserialize=True) builds cls(**record): keyword arguments of its fields
        self.request_class = dataclasses.make_dataclass(
            "DynamicInferenceRequest",
            [(f, object, dataclasses.field(default=None)) for f in record_fields])
        for key, value in headers.items():
            setattr(self, key, value)

    def value(self, token):
        """A header given as its wire value ("40") or its name ("PAUSE"), as this release's int."""
        if token.isdigit():
            return int(token)
        if token not in self.headers:
            die("Megatron %s has no header %s" % (self.name, token))
        return self.headers[token]

    def __repr__(self):
        return "Megatron " + self.name


# core_v0.17.x / core_v0.18.x: `class Headers(Enum)` with auto() (TP_BROADCAST is 0.18's only).
V0_18 = Dialect("0.18", {
    name: i + 1 for i, name in enumerate((
        "CONNECT", "CONNECT_ACK", "SUBMIT_REQUEST", "ENGINE_REPLY", "PAUSE", "UNPAUSE",
        "SUSPEND", "RESUME", "SET_GENERATION_EPOCH", "STOP", "DISCONNECT", "SHUTDOWN",
        "TP_BROADCAST"))
}, RECORD_FIELDS_0_18)

# core_v0.19 and main: category IntEnums in disjoint ranges.
V0_19 = Dialect("0.19", {
    "CONNECT": 0, "CONNECT_ACK": 1,
    "SUBMIT_REQUEST": 20, "ENGINE_REPLY": 21, "ENGINE_REPLY_PARTIAL": 22, "ABORT_REQUEST": 23,
    "SUBMIT_REQUEST_WITH_KV": 24, "RELEASE_KV": 25, "SEND_KV": 26,
    "PAUSE": 40, "UNPAUSE": 41, "SUSPEND": 42, "RESUME": 43, "SET_GENERATION_EPOCH": 44,
    "STOP": 45, "START_CUDA_PROFILER": 46, "STOP_CUDA_PROFILER": 47,
    "DISCONNECT": 60, "SHUTDOWN": 61,
    "TP_BROADCAST": 80, "KV_HANDOFF_COMPLETE": 81,
}, RECORD_FIELDS)

# core_v0.16.x: auto() values, with the two acknowledgements only that release has
# (core_v0.16.1 inference/headers.py). Its records are DynamicInferenceRequestRecords, whose
# requests have these 24 fields (InferenceRequest's and DynamicInferenceRequest's, in __dict__
# order), and its events other types (EVENT_TYPES_0_16). Spoken by core016.py only.
RECORD_FIELDS_0_16 = (
    "request_id", "prompt", "sampling_params", "inference_parameters", "prompt_tokens",
    "arrival_time", "status", "encoder_prompt", "generated_text", "segments",
    "generated_segments", "generated_sequence_lengths", "generated_tokens", "prompt_log_probs",
    "generated_log_probs", "prompt_top_n_logprobs", "generated_top_n_logprobs",
    "generated_length", "tpot", "remaining_prompt_tokens", "latency",
    "finished_chunk_token_count", "stop_word_ids", "events",
)
assert len(RECORD_FIELDS_0_16) == 24
V0_16 = Dialect("0.16", {
    name: i + 1 for i, name in enumerate((
        "CONNECT", "CONNECT_ACK", "SUBMIT_REQUEST", "ENGINE_REPLY", "PAUSE", "PAUSE_ACK",
        "UNPAUSE", "SUSPEND", "RESUME", "STOP", "STOP_ACK"))
}, RECORD_FIELDS_0_16)

# core_v0.15.x: `class Headers(Enum)` numbered from 0, seven headers (core_v0.15.3
# inference/headers.py, where CONNECT_ACK is named ACK). There, the coordinator builds the reply
# record itself, from its engines' per-step ENGINE_REPLYs ([3, request_ids, finished_request_ids,
# tokens, logprobs, chunked_prefill_request_id, materialize_only_last_token_logits]): asdict() of
# its DynamicInferenceRequest, these 22 fields (InferenceRequest's, then DynamicInferenceRequest's
# own, in dataclass order), sent to the client as [client_request_id, record] without a header
# (Request015). Spoken by core015*.py only.
RECORD_FIELDS_0_15 = (
    "request_id", "prompt", "sampling_params", "inference_parameters", "prompt_tokens",
    "arrival_time", "status", "encoder_prompt", "generated_text", "segments",
    "generated_segments", "generated_sequence_lengths", "generated_tokens", "prompt_log_probs",
    "generated_log_probs", "prompt_top_n_logprobs", "generated_top_n_logprobs",
    "generated_length", "tpot", "remaining_prompt_tokens", "latency", "events",
)
assert len(RECORD_FIELDS_0_15) == 22
V0_15 = Dialect("0.15", {
    "CONNECT": 0, "CONNECT_ACK": 1, "SUBMIT_REQUEST": 2, "ENGINE_REPLY": 3,
    "PAUSE": 4, "UNPAUSE": 5, "STOP": 6,
}, RECORD_FIELDS_0_15)

DIALECTS = {d.name: d for d in (V0_18, V0_19)}

# The 0.19 values under their plain names, as the 0.19-only drivers (parity, detokenize) use them.
SUBMIT_REQUEST = V0_19.SUBMIT_REQUEST
ENGINE_REPLY = V0_19.ENGINE_REPLY
ENGINE_REPLY_PARTIAL = V0_19.ENGINE_REPLY_PARTIAL
DISCONNECT = V0_19.DISCONNECT

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
# core_v0.16's DynamicInferenceEventType.
EVENT_TYPES_0_16 = frozenset((
    "ADD", "PAUSE", "EVICT", "FINISH", "FAIL", "ERROR_TRANSIENT", "ERROR_NONTRANSIENT",
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


# (server public key, own public key, own secret key) as Z85 bytes when peers use CurveZMQ.
CURVE = None


def add_curve_options(parser):
    """--curve-server-key FILE --curve-key FILE: connect with CurveZMQ (key files of zmq.auth)."""
    parser.add_argument("--curve-server-key", help="the coordinator's public key file")
    parser.add_argument("--curve-key", help="this peer's secret key file")


def use_curve(args):
    """Makes every DEALER opened from now on a CURVE client, if the options ask for it."""
    global CURVE
    if args.curve_server_key:
        import zmq.auth
        server, _ = zmq.auth.load_certificate(args.curve_server_key)
        public, secret = zmq.auth.load_certificate(args.curve_key)
        CURVE = (server, public, secret)


def dealer(context, endpoint, identity=None):
    """A DEALER as Megatron peers open one: no high-water marks, optional identity."""
    socket = context.socket(zmq.DEALER)
    if CURVE is not None:
        socket.curve_serverkey, socket.curve_publickey, socket.curve_secretkey = CURVE
    socket.setsockopt(zmq.SNDHWM, 0)
    socket.setsockopt(zmq.RCVHWM, 0)
    socket.setsockopt(zmq.LINGER, 2000)
    if identity is not None:
        socket.setsockopt(zmq.IDENTITY, identity.encode("utf-8"))
    socket.connect(endpoint)
    return socket


def connected_client(context, endpoint, deadline, dialect=V0_19):
    """A client DEALER that has sent CONNECT ([0]; [1] in 0.18) and got CONNECT_ACK ([1]; [2])."""
    socket = dealer(context, endpoint)
    socket.send(pack([dialect.CONNECT]))
    reply = unpack(recv_within(socket, deadline, "CONNECT_ACK"))
    if reply != [dialect.CONNECT_ACK]:
        die("%r client: expected CONNECT_ACK [%d], got %r" % (dialect, dialect.CONNECT_ACK, reply))
    return socket


class EngineSockets:
    """Engine DEALERs held by one driver process: registered in the given order, polled together."""

    def __init__(self, context, endpoint, identities):
        self.sockets = {}
        self.poller = zmq.Poller()
        for identity in identities:
            self.add(context, endpoint, identity)

    def add(self, context, endpoint, identity):
        """One more engine, which registers at once."""
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


def request_0_16(rid, prompt, sampling_params, generated, log_probs, tpot, arrival, latency):
    """A finished request as core_v0.16's DynamicInferenceRequest.serialize() writes it: its
    __dict__, the 24 keys of RECORD_FIELDS_0_16, `prompt` nil for a token prompt (as that
    release's engine sets it), tensors as ["tensor", list], an ADD and a FINISH event."""
    tokens = tokenize(prompt)
    request = {
        "request_id": rid, "prompt": prompt if isinstance(prompt, str) else None,
        "sampling_params": sampling_params, "inference_parameters": None,
        "prompt_tokens": ["tensor", tokens], "arrival_time": arrival, "status": "COMPLETED",
        "encoder_prompt": None, "generated_text": None, "segments": None,
        "generated_segments": None, "generated_sequence_lengths": None,
        "generated_tokens": generated, "prompt_log_probs": None, "generated_log_probs": log_probs,
        "prompt_top_n_logprobs": None, "generated_top_n_logprobs": None,
        "generated_length": len(generated), "tpot": tpot,
        "remaining_prompt_tokens": ["tensor", tokens], "latency": latency,
        "finished_chunk_token_count": 0, "stop_word_ids": None,
        "events": [{"timestamp": arrival, "type": "ADD", "payload": None},
                   {"timestamp": arrival + latency, "type": "FINISH", "payload": None}],
    }
    assert tuple(request) == RECORD_FIELDS_0_16
    return request


def engine_record(rid, prompt, sampling_params, status, generated, arrival, rng, dialect=V0_19):
    """A reply record shaped like DynamicInferenceRequest.merge().serialize() in `dialect`: main's
    36 fields, or 0.18's 31.

    `generated` is the list of generated token ids so far; `status` a Status name. Floats are
    real wall-clock times and per-token latencies, as a GPU engine would report them. As both
    releases' add_request does, `prompt` is nil when the prompt was a token list. main sends
    `prompt_tokens` nil unless sampling_params["return_prompt_tokens"], with `prompt_length`;
    0.18 always sends the tokens.
    """
    tokens = tokenize(prompt)
    with_tokens = dialect is V0_18 or bool(sampling_params.get("return_prompt_tokens"))
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
        "prompt": prompt if isinstance(prompt, str) else None,
        "sampling_params": sampling_params,
        "inference_parameters": None,
        "prompt_tokens": ["tensor", tokens] if with_tokens else None,
        "prompt_length": len(tokens),
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
    }
    if dialect is V0_18:
        record = {key: record[key] for key in RECORD_FIELDS_0_18}
    assert tuple(record) == dialect.record_fields
    return record


def generated_tokens(rid, count):
    """A deterministic stand-in for the tokens a model samples."""
    return [(rid * 7919 + i * 31) % VOCABULARY for i in range(count)]


def deserialize(record, dialect=V0_19):
    """Checks a reply record the way `dialect`'s DynamicInferenceRequest.deserialize reads it.

    Its constructor takes keyword arguments only for known fields (an unknown key raises), reads
    status, sampling_params and inference_parameters by key (a missing one raises), rebuilds every
    ["tensor", list] value and every event (type by enum name; ERROR_* events need a payload,
    GENERATED_TOKEN a {"token_id"} payload, every other type a nil payload).
    """
    if not isinstance(record, dict):
        raise WireError("record is a %s, not a map" % type(record).__name__)
    unknown = sorted(k for k in record if k not in dialect.record_fields)
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
        check_event(event, EVENT_TYPES_0_16 if dialect.name == "0.16" else EVENT_TYPES)


def deserialize_request(record, dialect=V0_19):
    """InferenceClient(deserialize=True): DynamicInferenceRequest.deserialize(record), which is
    cls(**record) after the checks of deserialize(); an unknown key raises TypeError there."""
    deserialize(record, dialect)
    return dialect.request_class(**record)


def check_event(event, types=EVENT_TYPES):
    if not isinstance(event, dict):
        raise WireError("event is not a map: %r" % (event,))
    unknown = sorted(k for k in event if k not in ("timestamp", "type", "payload"))
    if unknown:
        raise WireError("event has unexpected key(s) %s" % unknown)
    kind = event.get("type")
    if kind not in types:
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


def check_failed(record, prompt, sampling_params, dialect=V0_19):
    """Checks a coordinator-written FAILED record against PROTOCOL.md's template, strictly."""
    deserialize_request(record, dialect)
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


# NullTokenizer as `--tokenizer null` builds it: vocab_size 131072, eod = vocab_size - 1.
NULL_VOCAB = 131072
NULL_EOD = NULL_VOCAB - 1


def null_ids_to_text(ids):
    """NullTokenizer.ids_to_text (it takes no remove_special_tokens)."""
    return " ".join(str(x) for x in ids)


# core_v0.15's NullTokenizer as its coordinator is given one (vocab_size 2^20): eod = vocab_size.
NULL_EOD_0_15 = 1 << 20


def null_text_to_ids(text):
    """NullTokenizer.text_to_ids (core_v0.15.3): `[int(x) for x in text.split(' ')]`, so an empty
    piece (a double, leading or trailing space) raises, as int() does on anything not a number."""
    return [int(x) for x in text.split(" ")]


class Request015:
    """A request as core_v0.15's DataParallelInferenceCoordinator keeps it between its engine's
    steps: DynamicInferenceRequest(request_id=rid, prompt=prompt, prompt_tokens=tokens), which its
    `postprocess` fills one ENGINE_REPLY at a time, and whose asdict() it sends the client.

    `prompt` is the client's prompt as unpacked (a str, or a list of ints: then it is also the
    prompt's tokens); `tokens` what the coordinator sent the engine (the str tokenized).
    """

    def __init__(self, rid, prompt, tokens):
        self.rid = rid
        self.prompt = prompt
        self.prompt_tokens = list(tokens)
        self.generated_tokens = []
        self.prompt_log_probs = None
        self.generated_log_probs = None

    def step(self, token, log_probs, chunked, materialize_only_last_token_logits):
        """One (request id, token, log probs) of an engine step, rule for rule as `postprocess`:
        `chunked` when the id is the step's chunked_prefill_request_id. Raises AssertionError
        where that coordinator's assertion fails (which ends its loop)."""
        if not chunked:
            self.generated_tokens.append(token)
            if log_probs is not None:
                if not self.prompt_log_probs:
                    self.prompt_log_probs = []
                if not self.generated_log_probs:
                    self.generated_log_probs = []
                if len(log_probs) > 1:  # prefill
                    self.prompt_log_probs.extend(log_probs)
                elif (len(self.prompt_log_probs) > 0
                      and len(self.prompt_log_probs) < len(self.prompt_tokens)
                      and not materialize_only_last_token_logits):
                    # the prompt's last token of a chunked prefill that tracks every log prob
                    if len(self.prompt_log_probs) != len(self.prompt_tokens) - 1:
                        raise AssertionError(
                            "Prompt log probs length is not equal to prompt tokens length - 1")
                    self.prompt_log_probs.extend(log_probs)
                else:
                    self.generated_log_probs.extend(log_probs)
        elif log_probs is not None:
            if materialize_only_last_token_logits:
                self.prompt_log_probs = []
                self.generated_log_probs = []
            else:
                if not self.prompt_log_probs:
                    self.prompt_log_probs = []
                self.prompt_log_probs.extend(log_probs)
                self.generated_log_probs = []

    def record(self, detokenize=null_ids_to_text):
        """asdict(request) once finished: generated_length and generated_text set (the text is
        the tokenizer's detokenize of every generated token, EOD kept; nil: no tokenizer)."""
        tokens = list(self.prompt_tokens)
        record = {
            "request_id": self.rid,
            "prompt": list(self.prompt) if isinstance(self.prompt, list) else self.prompt,
            "sampling_params": None,
            "inference_parameters": None,
            "prompt_tokens": tokens,
            "arrival_time": None,
            "status": None,
            "encoder_prompt": None,
            "generated_text": (detokenize(self.generated_tokens) if detokenize is not None
                               else None),
            "segments": None,
            "generated_segments": None,
            "generated_sequence_lengths": None,
            "generated_tokens": list(self.generated_tokens),
            "prompt_log_probs": _copy(self.prompt_log_probs),
            "generated_log_probs": _copy(self.generated_log_probs),
            "prompt_top_n_logprobs": None,
            "generated_top_n_logprobs": None,
            "generated_length": len(self.generated_tokens),
            "tpot": None,
            "remaining_prompt_tokens": list(tokens),  # __post_init__'s deepcopy of prompt_tokens
            "latency": None,
            "events": [],
        }
        assert tuple(record) == RECORD_FIELDS_0_15
        return record


def _copy(values):
    return None if values is None else list(values)


def postprocess_0_15(requests, message, detokenize=null_ids_to_text):
    """core_v0.15's coordinator on one ENGINE_REPLY `message` (unpacked): applies it to
    `requests` (rid -> Request015) and returns [(rid, record), ...] of the requests it finishes,
    removed from `requests`, in the order the coordinator sends them. As there, request ids, tokens
    and log probs are paired by zip() (the shortest ends it), a nil or empty `logprobs` gives every
    request None, and a finished id that is the chunked-prefill request's is skipped."""
    _, ids, finished, tokens, log_probs, chunked, materialize = message
    per_request = log_probs if log_probs else [None] * len(ids)
    for rid, token, request_log_probs in zip(ids, tokens, per_request):
        requests[rid].step(token, request_log_probs, chunked != -1 and rid == chunked,
                           materialize)
    out = []
    for fid in finished or ():
        if fid == chunked:
            continue
        out.append((fid, requests.pop(fid).record(detokenize)))
    return out


def controller_detokenize(eod, ids_to_text, tokens, remove_eod):
    """TextGenerationController.detokenize(tokenizer, tokens, remove_EOD)."""
    if remove_eod and eod is not None:
        while tokens and tokens[-1] == eod:
            tokens = tokens[:-1]
    return ids_to_text(tokens)


def coordinator_detokenize(finished_request, eod):
    """main's DataParallelInferenceCoordinator.detokenize (NullTokenizer): fills the record in
    place, the generated text only."""
    detokenize_stop_sequence = (finished_request.get("sampling_params", {}) or {}).get(
        "detokenize_stop_sequence", False
    )
    finished_request["generated_text"] = controller_detokenize(
        eod, null_ids_to_text, finished_request["generated_tokens"],
        remove_eod=not detokenize_stop_sequence,
    )


def prompt_ids(record):
    """The prompt's token ids in a record: `prompt_tokens[1]` (0.18 always sends it), else
    `remaining_prompt_tokens[1]` (main sends `prompt_tokens` nil unless return_prompt_tokens)."""
    for key in ("prompt_tokens", "remaining_prompt_tokens"):
        value = record.get(key)
        if value is not None:
            return value[1]
    raise WireError("the record carries no prompt token ids")


def as_client_gets_it(record, client, eod):
    """A terminal record as the coordinator sends it to a client speaking `client`, the engine
    having sent `record` (eod None: the coordinator has no tokenizer).

    A 0.18 client gets what its own coordinator sent (core_v0.18.2 coord.py detokenize) and what
    its DynamicInferenceRequest takes: main's five keys removed, a nil `prompt` filled with the
    prompt's ids detokenized (EOD kept); then, with a tokenizer, every client gets the
    generated_text (trailing EODs removed unless detokenize_stop_sequence).
    """
    out = dict(record)
    if client is V0_18:
        for key in NEW_IN_0_19:
            out.pop(key, None)
        if eod is not None and out.get("prompt") is None:
            out["prompt"] = controller_detokenize(eod, null_ids_to_text, prompt_ids(out), False)
    if eod is not None:
        coordinator_detokenize(out, eod)
    return out


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
        "streaming": stream,
        "streaming_interval": 1,
    }


# ---------------------------------------------------------------- the parity walks


def jsonable(value):
    """A msgpack value as JSON holds it: bytes as {"bin": hex}."""
    if isinstance(value, bytes):
        return {"bin": value.hex()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def compare_walk(records, expected, source):
    """Every step of a walk against its recording (`core016_parity.py`, `core015_parity.py`):
    each engine's frames in order, each client's as a multiset (replies to different requests
    may overtake one another while their text is filled, TOKENIZERS.md); exits 1 at the first
    difference, naming `source` ("Megatron core_v0.16's coordinator sent")."""
    if len(records) != len(expected):
        die("%d steps, expected %d" % (len(records), len(expected)))
    for i, (got, want) in enumerate(zip(records, expected)):
        if got["step"] != want["step"]:
            die("step %d is %r, the recording's %r: the walks differ" % (i, got["step"],
                                                                        want["step"]))
        for peer in ("engines", "clients"):
            for n, (g, x) in enumerate(zip(got[peer], want[peer])):
                order = (lambda f: f) if peer == "engines" else sorted
                if order([f["sha256"] for f in g]) != order([f["sha256"] for f in x]):
                    die("step %d (%r): %s %d got %s, %s %s"
                        % (i, got["step"], peer, n, json.dumps([f["frame"] for f in g]),
                           source, json.dumps([f["frame"] for f in x])))


def walk_main(walk, source):
    """A parity walk's command line: --endpoint E --expected FILE [--seed N] [--seconds S]; the
    walk's steps compared with the recording (compare_walk), then `done steps= clients= engines=`
    (how many steps each kind of peer sent)."""
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with open(args.expected) as f:
        expected = [json.loads(line) for line in f if line.strip()]
    records = walk(args.endpoint, args.seed, args.seconds)
    compare_walk(records, expected, source)
    kinds = {}
    for r in records:
        kinds[r["step"][0][0]] = kinds.get(r["step"][0][0], 0) + 1
    emit("done", steps=len(records), clients=kinds.get("c", 0), engines=kinds.get("E", 0))


# ---------------------------------------------------------------- an older release's peers


def header_in(dialect, message):
    """Headers(data[0]) of a core_v0.15 or core_v0.16 peer: a value outside its release's headers
    is the ValueError that ends such a peer."""
    if not isinstance(message, list) or not message or message[0] not in dialect.names:
        die("Megatron %s has no such frame: %r" % (dialect.name, message))
    return message[0]


def release_peer_main(dialect, engine, client, add_options):
    """The command line of an older release's peers (core015.py, core016.py): `engine` or
    `client` with the options both releases share, and those `add_options(parser)` adds; then
    `engine(context, args).run(deadline)`, or a connected client's
    `client(socket, null_tokenizer, deadline).run(args)`."""
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=("engine", "client"))
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--null-tokenizer", action="store_true")
    parser.add_argument("--rank", type=int, default=0)
    parser.add_argument("--die-after", type=int, default=0)
    parser.add_argument("scenario", nargs="?", choices=("requests", "control", "listen"))
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--signals", default="")
    add_options(parser)
    args = parser.parse_intermixed_args()
    deadline = time.monotonic() + args.seconds
    context = zmq.Context()
    if args.role == "engine":
        engine(context, args).run(deadline)
    else:
        socket = connected_client(context, args.endpoint, deadline, dialect)
        emit("connected", wire=dialect.name)
        client(socket, args.null_tokenizer, deadline).run(args)
        socket.close()
    context.term()
