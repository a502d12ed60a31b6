#!/usr/bin/python3
"""Writes vectors.json: golden frames for every message shape, as Python's msgpack packs them.

Run with Debian's interpreter (it has the msgpack module):

    /usr/bin/python3 generate_vectors.py

Each vector has a name, the direction of the frame (who receives it), the Java message type it
decodes to, and the frame's bytes as hex. Optional keys:
  dialect          "0.18" for Megatron core_v0.17/0.18's header numbering, "0.16" for core_v0.16's
                   (its own numbering and nested records), "0.15" for core_v0.15's (per-step
                   engine replies, headerless replies to clients); absent: "0.19", main
  other_dialect_hex  the same message as the other dialect frames it (translation, both ways)
  invalid_records  reply records the decoder must skip (missing or non-int request_id)
  reencoded_hex    the frame the encoder writes back when it differs (skipped records dropped)
  failed           inputs of the coordinator's FAILED record carried as element 2 of the frame
Two more lists check RawValue against Python: "without" (a map packed, then packed again without
some keys, as a 0.18 client gets a main engine's record) and "truthiness" (a value and Python's
bool() of what msgpack.unpackb(raw=False) makes of it). "core015": a core_v0.15 request's prompt
and its engine's steps (packed), and the record that release's coordinator builds from them.
It also writes acceptance.json: small msgpack values, most of them mutated, each labelled with
whether Python's msgpack.unpackb(raw=False) reads it. The coordinator forwards opaque values to
Python peers, so its decoder must accept exactly these.
The output is deterministic; the Java tests read it and never need Python.
"""

import json
import os
import random
import struct

import msgpack


def packb(obj):
    return msgpack.packb(obj, use_bin_type=True)


def array_header(n):
    if n < 16:
        return bytes([0x90 | n])
    if n < 0x10000:
        return b"\xdc" + struct.pack(">H", n)
    return b"\xdd" + struct.pack(">I", n)


def frame_of(*raw_elements):
    """An array frame whose elements are already-packed bytes (for hand-built opaque fields)."""
    return array_header(len(raw_elements)) + b"".join(raw_elements)


VECTORS = []


def add(name, direction, mtype, frame, **extra):
    entry = {"name": name, "direction": direction, "type": mtype, "hex": frame.hex()}
    entry.update(extra)
    VECTORS.append(entry)


# ---------------------------------------------------------------- realistic payloads

SAMPLING_PARAMS = {
    "temperature": 0.7,
    "top_k": 0,
    "top_p": 0.9,
    "return_log_probs": False,
    "return_segments": False,
    "num_tokens_to_generate": 64,
    "num_tokens_total": None,
    "termination_id": 2,
    "top_n_logprobs": 0,
    "return_prompt_top_n_logprobs": False,
    "add_BOS": False,
    "skip_prompt_log_probs": False,
    "stop_words": None,
    "detokenize_stop_sequence": False,
    "return_prompt_tokens": True,
}

# Unknown keys, nested maps and lists, bin, floats, big and negative ints, unicode, str8/str16.
NESTED_SAMPLING_PARAMS = {
    "temperature": 1.25,
    "top_p": 1e-300,
    "seed": 2**64 - 1,
    "offset": -(2**63),
    "small_negative": -33,
    "logit_bias": {"13": -100.0, "42": 5.5},
    "stop_words": ["\n\n", "User:", "</s>"],
    "blob": b"\x00\x01\xc1\xff binary",
    "nested": {"a": {"b": {"c": [1, [2, [3, {"d": None}]]]}}, "flag": True},
    "unicode": "na\u00efve \u65e5\u672c\u8a9e \U0001f600",
    "str8_text": "s" * 40,
    "str16_text": "t" * 300,
    "empty_map": {},
    "empty_list": [],
    "vendor_extension_key": {"unknown": [0.5, "x", b"y"]},
}


def nonminimal_sampling_params():
    """A map Python's packb would never write: non-minimal ints, float32, map16, str8, bin."""
    entries = [
        (packb("top_k"), b"\xcf" + struct.pack(">Q", 1)),            # uint64 holding 1
        (packb("termination_id"), b"\xd1" + struct.pack(">h", 2)),   # int16 holding 2
        (packb("temperature"), b"\xca" + struct.pack(">f", 0.5)),    # float32
        (b"\xd9\x05top_p", b"\xcb" + struct.pack(">d", 0.9)),        # str8 key of 5 bytes
        (packb("stop"), b"\xc4\x03abc"),                             # bin
        (packb("ext"), b"\xd6\x07\x00\x00\x00\x01"),                 # fixext4
    ]
    return b"\xde" + struct.pack(">H", len(entries)) + b"".join(k + v for k, v in entries)


PROMPT_TEXT = "Explain the difference between data parallelism and tensor parallelism."
PROMPT_TOKENS = [1, 2, 3, 127, 128, 255, 256, 65535, 65536, 2**31, 2**32, 50000, 0]
LONG_PROMPT_TOKENS = [(i * 7919) % 128000 for i in range(300)]

MULTI_MODAL = {
    "image": [b"\x89PNG\r\n\x1a\n" + bytes(range(64))],
    "media_cache_key": "9f" * 32,
}

KV_META = {"block_ids": [3, 4, 5], "num_layers": 32, "dtype": "bfloat16", "ssm": None}
SRC_BLOCK_IDS = [17, 18, 19, 20]


def events(t0, with_tokens):
    out = [
        {"timestamp": t0, "type": "ADD_ENGINE", "payload": None},
        {"timestamp": t0 + 0.001, "type": "ADD_CONTEXT", "payload": None},
    ]
    for i, tok in enumerate(with_tokens):
        out.append({"timestamp": t0 + 0.01 * (i + 1), "type": "GENERATED_TOKEN",
                    "payload": {"token_id": tok}})
    out.append({"timestamp": t0 + 0.5, "type": "FINISH", "payload": None})
    return out


def engine_record(rid, status="COMPLETED", n_generated=64):
    """A reply record shaped like DynamicInferenceRequest.serialize(): 36 fields."""
    generated = [(rid * 31 + i * 17) % 32000 for i in range(n_generated)]
    t0 = 1718000000.0 + rid / 1000.0
    record = {
        "request_id": rid,
        "prompt": PROMPT_TEXT,
        "sampling_params": SAMPLING_PARAMS,
        "inference_parameters": None,
        "prompt_tokens": ["tensor", LONG_PROMPT_TOKENS],
        "arrival_time": t0,
        "status": status,
        "encoder_prompt": None,
        "generated_text": None,
        "segments": None,
        "generated_segments": None,
        "generated_sequence_lengths": None,
        "generated_tokens": generated,
        "prompt_log_probs": None,
        "generated_log_probs": [-0.01 * (i + 1) for i in range(n_generated)],
        "prompt_top_n_logprobs": None,
        "generated_top_n_logprobs": None,
        "generated_length": n_generated,
        "tpot": [0.0123 + i * 1e-5 for i in range(min(n_generated, 8))],
        "uid": "chatcmpl-%032x" % (rid * 0x9E3779B97F4A7C15 % 2**128),
        "remaining_prompt_tokens": ["tensor", LONG_PROMPT_TOKENS],
        "policy_epoch": [[0, 0]],
        "kv_cache_epoch": [[0, 0]],
        "latency": 0.5123,
        "routing_indices": None,
        "finished_chunk_token_count": 0,
        "stop_word_ids": None,
        "cg_wait_iters": 0,
        "block_size_tokens": 256,
        "enable_prefix_caching": True,
        "num_cached_tokens": 256,
        "precomputed_block_hashes": [2305843009213693951 - rid, 1152921504606846976 + rid],
        "disaggregated_params": None,
        "ttft": 0.0456,
        "events": events(t0, generated[:3]),
        "acceptance_step_lengths": [],
    }
    assert len(record) == 36, len(record)
    return record


def partial_record(rid, n_generated):
    return {
        "request_id": rid,
        "status": "ACTIVE_AND_GENERATING_TOKENS",
        "generated_tokens": [(rid + i) % 32000 for i in range(n_generated)],
        "events": [{"timestamp": 1718000001.25, "type": "GENERATED_TOKEN",
                    "payload": {"token_id": 7}}],
    }


def failed_record(rid, prompt, sampling_params, timestamp, reason):
    """The coordinator's FAILED record, from the PROTOCOL.md template."""
    return {
        "request_id": rid,
        "status": "FAILED",
        "prompt": prompt,
        "sampling_params": sampling_params,
        "inference_parameters": None,
        "generated_tokens": [],
        "events": [
            {"timestamp": timestamp, "type": "ERROR_NONTRANSIENT",
             "payload": {"type": "ContextOverflowError", "request_id": rid,
                         "message": reason, "is_transient": False}},
            {"timestamp": timestamp, "type": "FAIL", "payload": None},
        ],
    }


# ---------------------------------------------------------------- client -> coordinator
C = "TO_COORDINATOR"
add("registration_empty_frame", C, "Registration", b"")
add("connect", C, "Connect", packb([0]))
add("submit_text_4", C, "SubmitRequest", packb([20, 7, PROMPT_TEXT, SAMPLING_PARAMS]))
add("submit_tokens_4", C, "SubmitRequest", packb([20, 8, PROMPT_TOKENS, SAMPLING_PARAMS]))
add("submit_text_5_nil", C, "SubmitRequest", packb([20, 9, "Hi", SAMPLING_PARAMS, None]))
add("submit_tokens_5_multimodal", C, "SubmitRequest",
    packb([20, 10, LONG_PROMPT_TOKENS, SAMPLING_PARAMS, MULTI_MODAL]))
add("submit_nested_sampling_params", C, "SubmitRequest",
    packb([20, 11, PROMPT_TOKENS, NESTED_SAMPLING_PARAMS]))
add("submit_nonminimal_sampling_params", C, "SubmitRequest",
    frame_of(packb(20), packb(12), packb("x"), nonminimal_sampling_params()))
add("submit_empty_prompt_and_params", C, "SubmitRequest", packb([20, 0, "", {}]))
add("submit_empty_token_prompt", C, "SubmitRequest", packb([20, 1, [], {}]))
add("submit_max_client_id", C, "SubmitRequest", packb([20, 2**63 - 1, [5], {"top_k": 1}]))
add("submit_negative_client_id", C, "SubmitRequest", packb([20, -5, "neg", {}]))
add("submit_unicode_prompt", C, "SubmitRequest",
    packb([20, 13, "\u00bfQu\u00e9 es \u65e5\u672c? \U0001f680" * 3, SAMPLING_PARAMS]))
add("submit_with_kv", C, "SubmitRequestWithKv",
    packb([24, 14, PROMPT_TOKENS, SAMPLING_PARAMS, KV_META, SRC_BLOCK_IDS]))
add("submit_with_kv_nil_fields", C, "SubmitRequestWithKv",
    packb([24, 15, "text", SAMPLING_PARAMS, None, None]))
add("abort_request", C, "AbortRequest", packb([23, 7]))
add("abort_request_uint32_id", C, "AbortRequest", packb([23, 2**32 - 1]))
add("release_kv", C, "ReleaseKv", packb([25, 12345]))
for wire, name in [(40, "pause"), (41, "unpause"), (42, "suspend"), (43, "resume"), (45, "stop"),
                   (46, "start_cuda_profiler"), (47, "stop_cuda_profiler")]:
    add("control_" + name, C, "ControlSignal", packb([wire]))
add("set_generation_epoch", C, "SetGenerationEpoch", packb([44, 3]))
add("set_generation_epoch_large", C, "SetGenerationEpoch", packb([44, 2**40 + 1]))
add("shutdown", C, "Shutdown", packb([61]))

# ---------------------------------------------------------------- engine -> coordinator
add("engine_disconnect", C, "Disconnect", packb([60]))
add("engine_reply_single_36_fields", C, "EngineReply", packb([21, [engine_record(1001)]]))
add("engine_reply_multi", C, "EngineReply",
    packb([21, [engine_record(1002), engine_record(1003, "FAILED", 0),
                engine_record(1004, n_generated=200)]]))
add("engine_reply_empty_batch", C, "EngineReply", packb([21, []]))
add("engine_reply_partial", C, "EngineReplyPartial",
    packb([22, [partial_record(1005, 1), partial_record(1006, 20)]]))
good = engine_record(1007)
add("engine_reply_with_invalid_records", C, "EngineReply",
    packb([21, [{"status": "COMPLETED"}, good, {"request_id": "1008"},
                {b"request_id": 1009}, {"request_id": 2**64 - 1}]]),
    invalid_records=4, reencoded_hex=packb([21, [good]]).hex())
add("engine_reply_partial_twenty_records", C, "EngineReplyPartial",
    packb([22, [partial_record(2000 + i, i) for i in range(20)]]))

# ---------------------------------------------------------------- coordinator -> engine
E = "TO_ENGINE"
add("engine_submit_text_nil_mm", E, "EngineSubmit", packb([20, 100, PROMPT_TEXT, SAMPLING_PARAMS, None]))
add("engine_submit_tokens_4", E, "EngineSubmit", packb([20, 105, PROMPT_TOKENS, SAMPLING_PARAMS]))
add("engine_submit_tokens_multimodal", E, "EngineSubmit",
    packb([20, 101, LONG_PROMPT_TOKENS, SAMPLING_PARAMS, MULTI_MODAL]))
add("engine_submit_nested_params", E, "EngineSubmit",
    packb([20, 2**40, PROMPT_TOKENS, NESTED_SAMPLING_PARAMS, None]))
add("engine_submit_nonminimal_params", E, "EngineSubmit",
    frame_of(packb(20), packb(103), packb([1, 2]), nonminimal_sampling_params(), packb(None)))
add("engine_submit_with_kv", E, "EngineSubmitWithKv",
    packb([24, 104, PROMPT_TOKENS, SAMPLING_PARAMS, KV_META, SRC_BLOCK_IDS]))
add("engine_abort", E, "AbortRequest", packb([23, 100]))
add("engine_release_kv", E, "ReleaseKv", packb([25, 100]))
for wire, name in [(40, "pause"), (41, "unpause"), (42, "suspend"), (43, "resume"), (45, "stop"),
                   (46, "start_cuda_profiler"), (47, "stop_cuda_profiler")]:
    add("engine_control_" + name, E, "ControlSignal", packb([wire]))
add("engine_set_generation_epoch", E, "SetGenerationEpoch", packb([44, 5]))

# ---------------------------------------------------------------- coordinator -> client
L = "TO_CLIENT"
add("connect_ack", L, "ConnectAck", packb([1]))
add("client_reply", L, "ClientReply", packb([21, 7, engine_record(1001)]))
add("client_reply_partial", L, "ClientReplyPartial", packb([22, 7, partial_record(1005, 3)]))
add("client_reply_large_cid", L, "ClientReply", packb([21, 2**33, engine_record(1010, "FAILED", 0)]))

FAILED_CASES = [
    # (name, cid, rid, prompt, sampling_params, timestamp, reason)
    ("client_reply_failed_text", 7, 1001, PROMPT_TEXT, SAMPLING_PARAMS, 1718000123.456789,
     "no engine available"),
    ("client_reply_failed_tokens", 8, 2**32 + 5, PROMPT_TOKENS, NESTED_SAMPLING_PARAMS,
     1718000999.0, "engine mp-coord-3 disconnected before replying"),
    ("client_reply_failed_small_ids_short_reason", 0, 0, "", {}, 0.5, "x"),
    ("client_reply_failed_long_reason", 9, 200, LONG_PROMPT_TOKENS, SAMPLING_PARAMS,
     1718001000.25, "coordinator shutting down: " + "r" * 300),
]
for name, cid, rid, prompt, sp, ts, reason in FAILED_CASES:
    add(name, L, "ClientReply", packb([21, cid, failed_record(rid, prompt, sp, ts, reason)]),
        failed={"request_id": rid, "timestamp": ts, "reason": reason})


# ---------------------------------------------------------------- Megatron 0.17/0.18: old numbering
# headers.py of core_v0.17.1/core_v0.18.2: `class Headers(Enum)` with auto(), so CONNECT 1 ...
# TP_BROADCAST 13; main numbers the same messages 0, 1, 20, 21, 40.. (see Header.java).
OLD_WIRE = {"CONNECT": 1, "CONNECT_ACK": 2, "SUBMIT_REQUEST": 3, "ENGINE_REPLY": 4, "PAUSE": 5,
            "UNPAUSE": 6, "SUSPEND": 7, "RESUME": 8, "SET_GENERATION_EPOCH": 9, "STOP": 10,
            "DISCONNECT": 11, "SHUTDOWN": 12}
NEW_WIRE = {"CONNECT": 0, "CONNECT_ACK": 1, "SUBMIT_REQUEST": 20, "ENGINE_REPLY": 21, "PAUSE": 40,
            "UNPAUSE": 41, "SUSPEND": 42, "RESUME": 43, "SET_GENERATION_EPOCH": 44, "STOP": 45,
            "DISCONNECT": 60, "SHUTDOWN": 61}
NOT_IN_0_18 = ["prompt_length", "uid", "cg_wait_iters", "num_cached_tokens", "disaggregated_params"]


def main_record(rid, prompt=None, status="COMPLETED"):
    """A record in main's key order (36 keys), five of which 0.18's DynamicInferenceRequest lacks."""
    generated = [(rid * 13 + i * 7) % 32000 for i in range(16)]
    t0 = 1719000000.0 + rid / 1000.0
    record = {
        "request_id": rid, "prompt": prompt, "sampling_params": SAMPLING_PARAMS,
        "inference_parameters": None, "prompt_tokens": None, "prompt_length": len(PROMPT_TOKENS),
        "arrival_time": t0, "status": status, "encoder_prompt": None, "generated_text": None,
        "segments": None, "generated_segments": None, "generated_sequence_lengths": None,
        "generated_tokens": generated, "prompt_log_probs": None, "generated_log_probs": None,
        "prompt_top_n_logprobs": None, "generated_top_n_logprobs": None,
        "generated_length": len(generated), "tpot": [0.011, 0.012],
        "uid": "chatcmpl-%032x" % (rid * 0x9E3779B97F4A7C15 % 2**128),
        "remaining_prompt_tokens": ["tensor", PROMPT_TOKENS], "policy_epoch": [[0, 1]],
        "kv_cache_epoch": [[0, 1]], "latency": 0.25, "routing_indices": None,
        "finished_chunk_token_count": 0, "stop_word_ids": None, "cg_wait_iters": 3,
        "block_size_tokens": 256, "enable_prefix_caching": True, "num_cached_tokens": 512,
        "precomputed_block_hashes": [2305843009213693951 - rid], "disaggregated_params":
            {"uid": "nested keys stay", "bootstrap_room": 7},
        "ttft": 0.0321, "events": events(t0, generated[:2]),
    }
    assert len(record) == 36, len(record)
    return record


def old_record(rid, prompt=None, status="COMPLETED"):
    """The same record as a 0.17/0.18 engine serializes it: 31 keys, in the same order."""
    record = {k: v for k, v in main_record(rid, prompt, status).items() if k not in NOT_IN_0_18}
    assert len(record) == 31, len(record)
    return record


def old(name):
    return "old_" + name


def add_old(name, direction, mtype, old_elements, new_elements, **extra):
    """A 0.18 frame and, as other_dialect_hex, the same message in main's numbering."""
    add(old(name), direction, mtype, frame_of(*old_elements), dialect="0.18",
        other_dialect_hex=frame_of(*new_elements).hex(), **extra)


def both(header, *fields):
    """(old elements, new elements) of one message: each field packed, or raw bytes as they are."""
    packed = [f if isinstance(f, bytes) else packb(f) for f in fields]
    return [packb(OLD_WIRE[header])] + packed, [packb(NEW_WIRE[header])] + packed


def add_both(name, direction, mtype, header, *fields, new_extra=(), **extra):
    o, n = both(header, *fields)
    add_old(name, direction, mtype, o, n + [packb(x) for x in new_extra], **extra)


SIGNALS = ["PAUSE", "UNPAUSE", "SUSPEND", "RESUME", "STOP"]

# client -> coordinator (a 0.18 client's SUBMIT has exactly three fields; main's may have four)
add_both("connect", C, "Connect", "CONNECT")
add_both("submit_text", C, "SubmitRequest", "SUBMIT_REQUEST", 7, PROMPT_TEXT, SAMPLING_PARAMS)
add_both("submit_tokens", C, "SubmitRequest", "SUBMIT_REQUEST", 8, PROMPT_TOKENS, SAMPLING_PARAMS)
add_both("submit_nested_sampling_params", C, "SubmitRequest", "SUBMIT_REQUEST", 11,
         LONG_PROMPT_TOKENS, NESTED_SAMPLING_PARAMS)
add_both("submit_nonminimal_sampling_params", C, "SubmitRequest", "SUBMIT_REQUEST", 12, "x",
         nonminimal_sampling_params())
add_both("submit_max_client_id", C, "SubmitRequest", "SUBMIT_REQUEST", 2**63 - 1, [5],
         {"top_k": 1})
add_both("submit_unicode_prompt", C, "SubmitRequest", "SUBMIT_REQUEST", 13,
         "\u00bfQu\u00e9 es \u65e5\u672c? \U0001f680" * 3, SAMPLING_PARAMS)
for signal in SIGNALS:
    add_both("control_" + signal.lower(), C, "ControlSignal", signal)
add_both("set_generation_epoch", C, "SetGenerationEpoch", "SET_GENERATION_EPOCH", 3)
add_both("set_generation_epoch_large", C, "SetGenerationEpoch", "SET_GENERATION_EPOCH", 2**40 + 1)
add_both("shutdown", C, "Shutdown", "SHUTDOWN")

# engine -> coordinator
add(old("registration_empty_frame"), C, "Registration", b"", dialect="0.18", other_dialect_hex="")
add_both("engine_disconnect", C, "Disconnect", "DISCONNECT")
add_both("engine_reply_single_31_fields", C, "EngineReply", "ENGINE_REPLY", [old_record(1001)])
add_both("engine_reply_multi", C, "EngineReply", "ENGINE_REPLY",
         [old_record(1002, PROMPT_TEXT), old_record(1003, None, "FAILED"), old_record(1004)])
add_both("engine_reply_empty_batch", C, "EngineReply", "ENGINE_REPLY", [])
good_old = old_record(1007)
o, _ = both("ENGINE_REPLY", [{"status": "COMPLETED"}, good_old, {"request_id": "1008"}])
add_old("engine_reply_with_invalid_records", C, "EngineReply", o,
        both("ENGINE_REPLY", [good_old])[1], invalid_records=2,
        reencoded_hex=frame_of(*both("ENGINE_REPLY", [good_old])[0]).hex())

# coordinator -> engine: a 0.18 SUBMIT has three fields, and so has its translation (main's
# engine reads three or four; main's coordinator adds a nil fourth, see engine_submit_text_nil_mm)
add_both("engine_submit_text", E, "EngineSubmit", "SUBMIT_REQUEST", 100, PROMPT_TEXT,
         SAMPLING_PARAMS)
add_both("engine_submit_tokens", E, "EngineSubmit", "SUBMIT_REQUEST", 101, LONG_PROMPT_TOKENS,
         SAMPLING_PARAMS)
add_both("engine_submit_nested_params", E, "EngineSubmit", "SUBMIT_REQUEST", 2**40, PROMPT_TOKENS,
         NESTED_SAMPLING_PARAMS)
add_both("engine_submit_nonminimal_params", E, "EngineSubmit", "SUBMIT_REQUEST", 103, [1, 2],
         nonminimal_sampling_params())
for signal in SIGNALS:
    add_both("engine_control_" + signal.lower(), E, "ControlSignal", signal)
add_both("engine_set_generation_epoch", E, "SetGenerationEpoch", "SET_GENERATION_EPOCH", 5)

# coordinator -> client
add_both("connect_ack", L, "ConnectAck", "CONNECT_ACK")
add_both("client_reply", L, "ClientReply", "ENGINE_REPLY", 7, old_record(1001, PROMPT_TEXT))
add_both("client_reply_large_cid", L, "ClientReply", "ENGINE_REPLY", 2**33,
         old_record(1010, None, "FAILED"))
for name, cid, rid, prompt, sp, ts, reason in FAILED_CASES[:2]:
    add_both(name, L, "ClientReply", "ENGINE_REPLY", cid,
             failed_record(rid, prompt, sp, ts, reason),
             failed={"request_id": rid, "timestamp": ts, "reason": reason})

# ---------------------------------------------------------------- Megatron core_v0.16
# headers.py of core_v0.16.0/0.16.1: auto() values CONNECT 1 ... STOP_ACK 11, two acknowledgements
# main does not have. data_parallel_inference_coordinator.py of core_v0.16.1: an engine sends
# [PAUSE_ACK] / [STOP_ACK]; once every engine has, clients get [ack, identity of the last engine]
# (bin) and engines [ack]. ENGINE_REPLY records are DynamicInferenceRequestRecord.serialize():
# {"requests": [DynamicInferenceRequest.serialize(), ...], "latency": ...}, the id being
# requests[0]["request_id"]. No other-dialect form: 0.18 shares 1..5 but not the record shape.
V016_WIRE = {"CONNECT": 1, "CONNECT_ACK": 2, "SUBMIT_REQUEST": 3, "ENGINE_REPLY": 4, "PAUSE": 5,
             "PAUSE_ACK": 6, "UNPAUSE": 7, "SUSPEND": 8, "RESUME": 9, "STOP": 10, "STOP_ACK": 11}


def v016_request(rid, prompt=None, status="COMPLETED"):
    """DynamicInferenceRequest.serialize() of core_v0.16: its __dict__, 24 keys in this order."""
    generated = [(rid * 11 + i * 5) % 32000 for i in range(12)]
    t0 = 1717000000.0 + rid / 1000.0
    request = {
        "request_id": rid, "prompt": prompt, "sampling_params": SAMPLING_PARAMS,
        "inference_parameters": None, "prompt_tokens": ["tensor", PROMPT_TOKENS],
        "arrival_time": t0, "status": status, "encoder_prompt": None, "generated_text": None,
        "segments": None, "generated_segments": None, "generated_sequence_lengths": None,
        "generated_tokens": generated, "prompt_log_probs": None, "generated_log_probs": None,
        "prompt_top_n_logprobs": None, "generated_top_n_logprobs": None,
        "generated_length": len(generated), "tpot": [0.013, 0.014],
        "remaining_prompt_tokens": ["tensor", PROMPT_TOKENS], "latency": 0.3,
        "finished_chunk_token_count": 0, "stop_word_ids": None, "events": events(t0, generated[:2]),
    }
    assert len(request) == 24, len(request)
    return request


def v016_record(*requests, latency=0.31):
    return {"requests": list(requests), "latency": latency}


def add_release(release, name, direction, mtype, header, *fields, **extra):
    """A vector of an older release (0.15 or 0.16), its header in that release's numbering."""
    wire = V015_WIRE if release == "0.15" else V016_WIRE
    add("v0%s_%s" % (release[2:], name), direction, mtype, packb([wire[header], *fields]),
        dialect=release, **extra)


def add_v016(name, direction, mtype, header, *fields, **extra):
    add_release("0.16", name, direction, mtype, header, *fields, **extra)


# client -> coordinator
add("v016_registration_empty_frame", C, "Registration", b"", dialect="0.16")
add_v016("connect", C, "Connect", "CONNECT")
add_v016("submit_text", C, "SubmitRequest", "SUBMIT_REQUEST", 7, PROMPT_TEXT, SAMPLING_PARAMS)
add_v016("submit_tokens", C, "SubmitRequest", "SUBMIT_REQUEST", 8, PROMPT_TOKENS,
         NESTED_SAMPLING_PARAMS)
for signal in SIGNALS:
    add_v016("control_" + signal.lower(), C, "ControlSignal", signal)

# engine -> coordinator
add_v016("engine_pause_ack", C, "ControlAck", "PAUSE_ACK")
add_v016("engine_stop_ack", C, "ControlAck", "STOP_ACK")
add_v016("engine_reply_single", C, "EngineReply", "ENGINE_REPLY",
         [v016_record(v016_request(1001))])
add_v016("engine_reply_multi", C, "EngineReply", "ENGINE_REPLY",
         [v016_record(v016_request(1002, PROMPT_TEXT)),
          v016_record(v016_request(1003, None, "FAILED"), latency=None),
          v016_record(v016_request(1004), v016_request(1005))])
add_v016("engine_reply_empty_batch", C, "EngineReply", "ENGINE_REPLY", [])
good16 = v016_record(v016_request(1007))
add_v016("engine_reply_with_invalid_records", C, "EngineReply", "ENGINE_REPLY",
         [v016_request(1006),                                  # a bare request: no "requests"
          good16,
          {"requests": [], "latency": None},                    # no first request
          {"requests": [{"request_id": "1008"}]},               # id not an int
          {"requests": "x", "latency": 1.0},                    # requests not a list
          {"requests": [{"status": "COMPLETED"}]}],             # first request without an id
         invalid_records=5,
         reencoded_hex=packb([V016_WIRE["ENGINE_REPLY"], [good16]]).hex())

# coordinator -> engine
add_v016("engine_submit_text", E, "EngineSubmit", "SUBMIT_REQUEST", 100, PROMPT_TEXT,
         SAMPLING_PARAMS)
add_v016("engine_submit_tokens", E, "EngineSubmit", "SUBMIT_REQUEST", 2**40, LONG_PROMPT_TOKENS,
         NESTED_SAMPLING_PARAMS)
for signal in SIGNALS:
    add_v016("engine_control_" + signal.lower(), E, "ControlSignal", signal)
add_v016("engine_pause_ack_relayed", E, "ControlAck", "PAUSE_ACK")
add_v016("engine_stop_ack_relayed", E, "ControlAck", "STOP_ACK")

# coordinator -> client
add_v016("connect_ack", L, "ConnectAck", "CONNECT_ACK")
add_v016("client_reply", L, "ClientReply", "ENGINE_REPLY", 7,
         v016_record(v016_request(1001, PROMPT_TEXT)))
add_v016("client_reply_two_requests", L, "ClientReply", "ENGINE_REPLY", 2**33,
         v016_record(v016_request(1010, None, "FAILED"), v016_request(1011)))
add_v016("client_pause_ack", L, "ControlAck", "PAUSE_ACK", b"mp-coord-0")
add_v016("client_stop_ack", L, "ControlAck", "STOP_ACK", bytes(range(5)) + b"\xff")
for name, cid, rid, prompt, sp, ts, reason in FAILED_CASES[:2]:
    add_v016(name, L, "ClientReply", "ENGINE_REPLY", cid,
             v016_record(failed_record(rid, prompt, sp, ts, reason), latency=None),
             failed={"request_id": rid, "timestamp": ts, "reason": reason})

# ---------------------------------------------------------------- Megatron core_v0.15
# headers.py of core_v0.15.0 .. 0.15.3: CONNECT 0, ACK 1, SUBMIT_REQUEST 2, ENGINE_REPLY 3, PAUSE 4,
# UNPAUSE 5, STOP 6 (values, not auto()). data_parallel_inference_coordinator.py: an engine sends
# one ENGINE_REPLY per step, [3, request_ids, finished_request_ids, tokens, logprobs,
# chunked_prefill_request_id, materialize_only_last_token_logits]; the coordinator sends the engine
# [2, request_id, prompt_tokens, sampling_params] and the client [client_request_id,
# asdict(DynamicInferenceRequest)], no header, for each finished request.
V015_WIRE = {"CONNECT": 0, "CONNECT_ACK": 1, "SUBMIT_REQUEST": 2, "ENGINE_REPLY": 3, "PAUSE": 4,
             "UNPAUSE": 5, "STOP": 6}
V015_SIGNALS = ["PAUSE", "UNPAUSE", "STOP"]


def v015_request(rid, prompt, prompt_tokens):
    """The coordinator's DynamicInferenceRequest(request_id, prompt, prompt_tokens) of
    core_v0.15.3 as asdict() orders it: InferenceRequest's fields, then remaining_prompt_tokens
    (its __post_init__ deep-copies prompt_tokens), latency and events."""
    request = {
        "request_id": rid, "prompt": prompt, "sampling_params": None,
        "inference_parameters": None, "prompt_tokens": prompt_tokens, "arrival_time": None,
        "status": None, "encoder_prompt": None, "generated_text": None, "segments": None,
        "generated_segments": None, "generated_sequence_lengths": None, "generated_tokens": [],
        "prompt_log_probs": None, "generated_log_probs": None, "prompt_top_n_logprobs": None,
        "generated_top_n_logprobs": None, "generated_length": None, "tpot": None,
        "remaining_prompt_tokens": None if prompt_tokens is None else list(prompt_tokens),
        "latency": None, "events": [],
    }
    assert len(request) == 22
    return request


def v015_postprocess(request, token, lp, chunked, materialize):
    """One request id of core_v0.15.3's DataParallelInferenceCoordinator.postprocess."""
    if not chunked:
        request["generated_tokens"].append(token)
        if lp is not None:
            if not request["prompt_log_probs"]:
                request["prompt_log_probs"] = []
            if not request["generated_log_probs"]:
                request["generated_log_probs"] = []
            if len(lp) > 1:
                request["prompt_log_probs"].extend(lp)
            elif (len(request["prompt_log_probs"]) > 0
                  and len(request["prompt_log_probs"]) < len(request["prompt_tokens"])
                  and not materialize):
                request["prompt_log_probs"].extend(lp)
            else:
                request["generated_log_probs"].extend(lp)
    elif lp is not None:
        if materialize:
            request["prompt_log_probs"] = []
            request["generated_log_probs"] = []
        else:
            if not request["prompt_log_probs"]:
                request["prompt_log_probs"] = []
            request["prompt_log_probs"].extend(lp)
            request["generated_log_probs"] = []


def v015_finished(rid, prompt, prompt_tokens, steps):
    """The record of a request after `steps` ([token, packed log probs or None, chunked,
    materialize]), finished: generated_length set, generated_text left None (the coordinator
    detokenizes it with its tokenizer)."""
    request = v015_request(rid, prompt, prompt_tokens)
    for token, lp, chunked, materialize in steps:
        v015_postprocess(request, token, None if lp is None else msgpack.unpackb(lp),
                         chunked, materialize)
    request["generated_length"] = len(request["generated_tokens"])
    return request


def f32s(*values):
    """A list of numbers packed by hand: floats as float32, which Python's packb never writes."""
    return array_header(len(values)) + b"".join(
        b"\xca" + struct.pack(">f", v) if isinstance(v, float) else packb(v) for v in values)


# Each case: a request's prompt and tokens, its engine's steps, and the record its coordinator
# then sends (core015.json; CoreV015RequestTest).
PROMPT6 = [11, 12, 13, 14, 15, 16]
CORE015_CASES = [
    ("tokens_no_log_probs", 0, PROMPT6, PROMPT6,
     [[101 + i, None, False, True] for i in range(5)]),
    ("text_prefill_then_one_per_step", 1, "11 12 13 14 15 16", PROMPT6,
     [[7, packb([-0.5, -1.25, -2.0, -0.125, -3.5, -0.75]), False, True]]
     + [[8 + i, packb([-0.01 * (i + 1)]), False, True] for i in range(4)]),
    ("chunked_prefill_gathered", 2, PROMPT6, PROMPT6,
     [[999, packb([-1.0, -2.0, -3.0]), True, False],
      [21, packb([-4.0, -5.0]), False, False],
      [22, packb([-6.0]), False, False],
      [23, packb([-0.25]), False, False]]),
    ("chunked_prefill_materialize_only_last", 3, PROMPT6, PROMPT6,
     [[999, packb([-1.0]), True, True],
      [31, packb([-2.0]), False, True],
      [32, packb([-3.0]), False, True]]),
    ("chunked_prefill_without_log_probs", 4, PROMPT6, PROMPT6,
     [[999, None, True, True], [41, None, False, True]]),
    ("float32_and_int_log_probs", 5, [1, 2], [1, 2],
     [[51, f32s(-0.5, 0, -1), False, True], [52, f32s(-0.1), False, True],
      [53, None, False, True], [54, f32s(2**40), False, True]]),
    ("finished_without_steps", 6, "", [], []),
    ("large_ids_and_tokens", 2**33, [2**32, 65535, 0], [2**32, 65535, 0],
     [[2**31 + i, None, False, True] for i in range(40)]),
]
CORE015 = []
for name, rid, prompt, prompt_tokens, steps in CORE015_CASES:
    case = {"request_id": rid, "prompt": prompt, "prompt_tokens": prompt_tokens,
            "steps": [[t, None if lp is None else lp, c, m] for t, lp, c, m in steps]}
    CORE015.append({"name": name, "case_hex": packb(case).hex(),
                    "record_hex": packb(v015_finished(rid, prompt, prompt_tokens, steps)).hex()})


def add_v015(name, direction, mtype, header, *fields, **extra):
    add_release("0.15", name, direction, mtype, header, *fields, **extra)


# client -> coordinator (an engine registers with the empty frame, as in every release)
add("v015_registration_empty_frame", C, "Registration", b"", dialect="0.15")
add_v015("connect", C, "Connect", "CONNECT")
add_v015("submit_text", C, "SubmitRequest", "SUBMIT_REQUEST", 7, PROMPT_TEXT, SAMPLING_PARAMS)
add_v015("submit_tokens", C, "SubmitRequest", "SUBMIT_REQUEST", 8, PROMPT_TOKENS,
         NESTED_SAMPLING_PARAMS)
for signal in V015_SIGNALS:
    add_v015("control_" + signal.lower(), C, "ControlSignal", signal)

# engine -> coordinator: one step
add_v015("engine_step", C, "EngineStep", "ENGINE_REPLY", [3, 4, 5], [4], [101, 102, 103], None,
         -1, True)
add_v015("engine_step_log_probs", C, "EngineStep", "ENGINE_REPLY", [7, 8], [], [9, 10],
         [[-0.5, -1.5, -2.5], None], 8, False)
add_v015("engine_step_empty", C, "EngineStep", "ENGINE_REPLY", [], [], [], [], -1, True,
         reencoded_hex=packb([3, [], [], [], None, -1, True]).hex())
add_v015("engine_step_nil_chunked_id", C, "EngineStep", "ENGINE_REPLY", [2**40], [2**40],
         [2**32], [[-0.25]], None, True,
         reencoded_hex=packb([3, [2**40], [2**40], [2**32], [[-0.25]], -1, True]).hex())
add("v015_engine_step_float32_log_probs", C, "EngineStep",
    frame_of(packb(3), packb([1]), packb([]), packb([5]), array_header(1) + f32s(-0.5, 3),
             packb(-1), packb(False)), dialect="0.15")

# coordinator -> engine: the prompt always as tokens
add_v015("engine_submit_tokens", E, "EngineSubmit", "SUBMIT_REQUEST", 0, PROMPT_TOKENS,
         SAMPLING_PARAMS)
add_v015("engine_submit_long_tokens", E, "EngineSubmit", "SUBMIT_REQUEST", 2**40,
         LONG_PROMPT_TOKENS, NESTED_SAMPLING_PARAMS)
for signal in V015_SIGNALS:
    add_v015("engine_control_" + signal.lower(), E, "ControlSignal", signal)

# coordinator -> client: the ACK, and each finished request without a header


def add_v015_reply(name, cid, record, **extra):
    add("v015_" + name, L, "ClientReply", packb([cid, record]), dialect="0.15", **extra)


add_v015("connect_ack", L, "ConnectAck", "CONNECT_ACK")
reply = v015_finished(12, PROMPT_TEXT, PROMPT_TOKENS, [[5, None, False, True]])
reply["generated_text"] = "5"
add_v015_reply("client_reply", 7, reply)
add_v015_reply("client_reply_large_cid", 2**33,
               v015_finished(13, PROMPT6, PROMPT6, CORE015_CASES[2][4]))


def v015_failed(rid, prompt, prompt_tokens, sampling_params, timestamp, reason):
    """What the coordinator answers a core_v0.15 client for a request it fails: the 22 keys,
    status "FAILED", the FAILED template's events (that release's coordinator fails none)."""
    record = v015_request(rid, prompt, prompt_tokens)
    template = failed_record(rid, prompt, sampling_params, timestamp, reason)
    record.update(sampling_params=sampling_params, status="FAILED", generated_length=0,
                  events=template["events"])
    if prompt_tokens is None:
        record["remaining_prompt_tokens"] = None
    return record


for name, cid, rid, prompt, sp, ts, reason in FAILED_CASES[:3]:
    tokens = prompt if isinstance(prompt, list) else None
    add_v015_reply(name, cid, v015_failed(rid, prompt, tokens, sp, ts, reason),
                   failed={"request_id": rid, "timestamp": ts, "reason": reason})

# ---------------------------------------------------------------- RawValue against Python

WITHOUT = []


def add_without(mapping, keys):
    WITHOUT.append({"hex": packb(mapping).hex(), "keys": keys,
                    "expected_hex": packb({k: v for k, v in mapping.items()
                                           if k not in keys}).hex()})


add_without(main_record(1001, PROMPT_TEXT), NOT_IN_0_18)          # map16 of 36 -> map16 of 31
add_without(old_record(1002), NOT_IN_0_18)                        # none present: unchanged
add_without({k: main_record(1003)[k] for k in list(main_record(1003))[:17]},
            NOT_IN_0_18)                                          # 17 keys, 1 dropped: map16
add_without({k: main_record(1004)[k] for k in list(main_record(1004))[:22]},
            NOT_IN_0_18)                                          # 22 keys, 2 dropped: map16 20
add_without({"a": 1, "uid": "x", "prompt_length": 2, **{"k%d" % i: i for i in range(14)}},
            NOT_IN_0_18)                                          # 17 -> 15: map16 -> fixmap
add_without({k: 0 for k in NOT_IN_0_18}, NOT_IN_0_18)             # all dropped: {}
add_without({"uid": 1, "nested": {"uid": 2}, "list": [{"uid": 3}]}, ["uid"])  # top level only
add_without({"a": b"\x00\xc1", "b": 2**64 - 1, "c": -(2**63), "d": 1.5, "e": [1, [2]]}, ["c"])
add_without({}, ["uid"])

TRUTHINESS = []


def add_truth(data):
    TRUTHINESS.append({"hex": data.hex(), "python_truthy": bool(msgpack.unpackb(data, raw=False))})


for value in [None, False, True, 0, 1, -1, 2**64 - 1, -(2**63), 0.0, -0.0, 1e-300, float("nan"),
              float("inf"), "", "x", "s" * 40, b"", b"\x00", [], [0], [None], {}, {"a": None},
              list(range(20)), {"k%d" % i: 0 for i in range(20)}]:
    add_truth(packb(value))
for raw in ["cc00", "cd0000", "ce00000000", "cf0000000000000000", "d000", "d10000", "d200000000",
            "d30000000000000000", "d3ffffffffffffffff", "cf0000000000000001",
            "ca00000000", "ca80000000", "ca3fc00000", "ca7fc00000",          # float32 0, -0, 1.5, nan
            "d900", "da0000", "db00000000", "d90161",                        # str8/16/32
            "c400", "c50000", "c600000000", "c50001ff",                      # bin8/16/32
            "dc0000", "dd00000000", "dc000100", "de0000", "df00000000", "de0001a161c0",
            "d40100", "c70005", "d6ff00000000", "c70000"]:                    # ext, timestamp
    add_truth(bytes.fromhex(raw))


# ---------------------------------------------------------------- what Python's unpacker accepts

INTERESTING_BYTES = [0xc0, 0xc1, 0xc4, 0xc7, 0xc8, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xdc,
                     0xde, 0x80, 0x81, 0x90, 0x91, 0xa1, 0xff, 0xfe, 0x01, 0xed, 0xa0, 0xc3,
                     0xe0, 0xf4]


def random_object(rnd, depth):
    kind = rnd.randrange(12 if depth > 0 else 9)
    if kind == 0:
        return None
    if kind == 1:
        return rnd.random() < 0.5
    if kind == 2:
        return rnd.randrange(-200, 70000)
    if kind == 3:
        return rnd.random()
    if kind == 4:
        return "".join(rnd.choice("ab\u00e9\u65e5\U0001f600") for _ in range(rnd.randrange(6)))
    if kind == 5:
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(5)))
    if kind == 6:
        return msgpack.ExtType(rnd.randrange(128), bytes(rnd.randrange(256)
                                                         for _ in range(rnd.choice([1, 2, 3]))))
    if kind == 7:
        return msgpack.Timestamp(rnd.randrange(2**34), rnd.randrange(10**9))
    if kind == 8:
        return rnd.choice([2**63, -(2**63), 2**64 - 1, 2**32])
    if kind == 9:
        return [random_object(rnd, depth - 1) for _ in range(rnd.randrange(4))]
    return {rnd.choice(["k", "request_id", "\u00e9"]) + str(i): random_object(rnd, depth - 1)
            for i in range(rnd.randrange(4))}


def mutated(rnd, data):
    b = bytearray(data)
    for _ in range(1 + rnd.randrange(2)):
        if not b:
            break
        at = rnd.randrange(len(b))
        op = rnd.randrange(4)
        if op == 0:
            del b[at + 1:]
        elif op == 1:
            b[at] ^= 1 << rnd.randrange(8)
        elif op == 2:
            b[at] = rnd.choice(INTERESTING_BYTES)
        else:
            b[at] = rnd.randrange(256)
    return bytes(b)


def acceptance_cases(count):
    rnd = random.Random(20240611)
    cases = []
    for i in range(count):
        data = packb(random_object(rnd, 3))
        if len(data) > 48:
            data = data[:48]
        if i % 8 != 0:
            data = mutated(rnd, data)
        try:
            msgpack.unpackb(data, raw=False)
            accepted = True
        except Exception:  # any refusal counts: the peer's loop would not read the frame
            accepted = False
        cases.append({"hex": data.hex(), "python_accepts": accepted})
    return cases


def main():
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names)), "duplicate vector name"
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"generator": "generate_vectors.py", "msgpack": msgpack.version,
                   "vectors": VECTORS, "without": WITHOUT, "truthiness": TRUTHINESS,
                   "core015": CORE015},
                  f, indent=1, ensure_ascii=True)
        f.write("\n")
    print("wrote %d vectors to %s" % (len(VECTORS), out))
    cases = acceptance_cases(3000)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "acceptance.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"generator": "generate_vectors.py", "msgpack": msgpack.version,
                   "cases": cases}, f, indent=0)
        f.write("\n")
    print("wrote %d acceptance cases (%d accepted) to %s"
          % (len(cases), sum(c["python_accepts"] for c in cases), out))


if __name__ == "__main__":
    main()
