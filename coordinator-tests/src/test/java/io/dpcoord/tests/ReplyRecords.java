package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.msgpack.value.Value;
import org.msgpack.value.ValueType;

/** Reply records as engines write them, and the FAILED record the coordinator must write. */
final class ReplyRecords {
  private ReplyRecords() {}

  /** A small COMPLETED record for {@code rid}. */
  static byte[] completed(long rid) {
    return Pack.value(
        Pack.map("request_id", rid, "status", "COMPLETED", "generated_tokens", new long[] {7, 8}));
  }

  /**
   * {@link #completed(long)} as a coordinator with Megatron's byte-level tokenizer forwards it:
   * {@code generated_text} appended, the bytes 7 and 8 as text (worked out by hand: neither is
   * white space, so nothing is stripped).
   */
  static byte[] completedWithBytesText(long rid) {
    return completedWith(rid, "generated_text", "\u0007\u0008");
  }

  /** A COMPLETED record that also says which prompt it answers. */
  static byte[] completed(long rid, String marker) {
    return completedWith(rid, "marker", marker);
  }

  /**
   * A COMPLETED record whose engine says it served {@code numCachedTokens} prompt tokens from its
   * prefix cache (Megatron main's {@code num_cached_tokens}; any value, to test bad ones too).
   */
  static byte[] completedWithCachedTokens(long rid, Object numCachedTokens) {
    return completedWith(rid, "num_cached_tokens", numCachedTokens);
  }

  /** {@link #completed(long)} with one more entry. */
  private static byte[] completedWith(long rid, String key, Object value) {
    return Pack.value(
        Pack.map(
            "request_id",
            rid,
            "status",
            "COMPLETED",
            "generated_tokens",
            new long[] {7, 8},
            key,
            value));
  }

  /** A partial reply for {@code rid} as main's engine streams it: {@code tokens} new tokens. */
  static byte[] partial(long rid, int tokens) {
    return Pack.value(Pack.map("request_id", rid, "new_tokens", new long[tokens]));
  }

  /**
   * A record shaped like Megatron's {@code DynamicInferenceRequest.serialize()}: 36 fields, some
   * unknown to the coordinator, with every msgpack type a record may carry (float32 and float64,
   * bin, nil, bool, negative and uint64 ints, long strings, nested maps, arrays of more than 15
   * elements) and {@code remaining_prompt_tokens} repeating the prompt as {@code ["tensor",
   * [...]]}.
   */
  static byte[] megatronShaped(long rid, long[] prompt) {
    Map<Object, Object> r =
        Pack.map(
            "request_id",
            rid,
            "prompt",
            "a prompt of some length that needs a str8 header, " + "x".repeat(40),
            "prompt_tokens",
            prompt,
            "generated_tokens",
            new long[] {11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24},
            "status",
            "COMPLETED",
            "sampling_params",
            Pack.map(
                "temperature",
                0.7f,
                "top_p",
                0.9,
                "num_tokens_to_generate",
                14,
                "detokenize_stop_sequence",
                true),
            "events",
            Pack.list(
                Pack.map("timestamp", 1.7e9, "type", "ADD", "payload", null),
                Pack.map("timestamp", 1.7e9 + 0.5, "type", "FINISH", "payload", null)),
            "remaining_prompt_tokens",
            Pack.list("tensor", prompt),
            "generated_text",
            "generated text with unicode: \u00e9\u4e2d",
            "generated_log_probs",
            Pack.list(-0.5, -1.25, -0.125),
            "prompt_log_probs",
            null,
            "generated_top_n_logprobs",
            null,
            "prompt_top_n_logprobs",
            null,
            "latency",
            0.0125,
            "ttft",
            0.5f,
            "tpot",
            Pack.list(0.01, 0.02),
            "arrival_time",
            1.7e9,
            "finished_time",
            1.7e9 + 1,
            "generated_length",
            14,
            "precision",
            "bf16",
            "block_ids",
            new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
            "routing_hint",
            Pack.map("nested", Pack.map("deeper", Pack.list(1, "two", 3.0))),
            "kv_transfer",
            new byte[] {0, 1, 2, (byte) 0xc1, (byte) 0xff},
            "is_streaming",
            false,
            "stop_word_ids",
            Pack.list(),
            "negative_offset",
            -129,
            "huge_counter",
            Long.MAX_VALUE,
            "tokenizer_name",
            "t".repeat(300),
            "policy",
            Pack.map(),
            "x_unknown_one",
            "unknown to every version of the coordinator",
            "x_unknown_two",
            Pack.list(Pack.map("a", 1), Pack.map("b", null)),
            "x_unknown_three",
            new byte[300],
            "x_unknown_four",
            -1.5f,
            "x_unknown_five",
            null,
            "x_unknown_six",
            Pack.map("float32", 1.0f, "float64", 1.0),
            "num_prompt_tokens",
            prompt.length);
    assertThat(r).hasSize(36);
    return Pack.value(r);
  }

  /**
   * The FAILED record of PROTOCOL.md, byte for byte as Python's msgpack writes it, for the given
   * reason text (the reason is free text, so a test takes it from the record it received).
   */
  static byte[] expectedFailed(
      long rid, byte[] prompt, byte[] samplingParams, double unixSeconds, String message) {
    return Pack.value(
        Pack.map(
            "request_id",
            rid,
            "status",
            "FAILED",
            "prompt",
            Pack.raw(prompt),
            "sampling_params",
            Pack.raw(samplingParams),
            "inference_parameters",
            null,
            "generated_tokens",
            Pack.list(),
            "events",
            Pack.list(
                Pack.map(
                    "timestamp",
                    unixSeconds,
                    "type",
                    "ERROR_NONTRANSIENT",
                    "payload",
                    Pack.map(
                        "type",
                        "ContextOverflowError",
                        "request_id",
                        rid,
                        "message",
                        message,
                        "is_transient",
                        false)),
                Pack.map("timestamp", unixSeconds, "type", "FAIL", "payload", null))));
  }

  /**
   * Fails unless {@code record} is exactly the FAILED record of PROTOCOL.md for {@code rid}: the
   * keys in order, status FAILED, ERROR_NONTRANSIENT then FAIL with a nil payload, the prompt and
   * sampling params as submitted, the fixture's timestamp, and Python's encoding throughout.
   */
  static void assertFailed(byte[] record, long rid, byte[] prompt, byte[] samplingParams) {
    Value v = Pack.unpack(record);
    assertThat(keys(v))
        .containsExactly(
            "request_id",
            "status",
            "prompt",
            "sampling_params",
            "inference_parameters",
            "generated_tokens",
            "events");
    assertThat(field(v, "request_id").asIntegerValue().asLong()).isEqualTo(rid);
    assertThat(field(v, "status").asStringValue().asString()).isEqualTo("FAILED");
    Value events = field(v, "events");
    assertThat(events.asArrayValue().size()).isEqualTo(2);
    Value error = events.asArrayValue().get(0);
    Value fail = events.asArrayValue().get(1);
    assertThat(keys(error)).containsExactly("timestamp", "type", "payload");
    assertThat(field(error, "type").asStringValue().asString()).isEqualTo("ERROR_NONTRANSIENT");
    Value payload = field(error, "payload");
    assertThat(keys(payload)).containsExactly("type", "request_id", "message", "is_transient");
    assertThat(field(payload, "type").asStringValue().asString()).isEqualTo("ContextOverflowError");
    assertThat(field(payload, "request_id").asIntegerValue().asLong()).isEqualTo(rid);
    assertThat(field(payload, "is_transient").asBooleanValue().getBoolean()).isFalse();
    String message = field(payload, "message").asStringValue().asString();
    assertThat(message).isNotBlank();
    assertThat(keys(fail)).containsExactly("timestamp", "type", "payload");
    assertThat(field(fail, "type").asStringValue().asString()).isEqualTo("FAIL");
    assertThat(field(fail, "payload").isNilValue()).isTrue();
    // and byte for byte: float64 timestamps, smallest ints, prompt and params as sent
    assertThat(Pack.describe(record))
        .isEqualTo(
            Pack.describe(
                expectedFailed(
                    rid, prompt, samplingParams, TestCoordinator.UNIX_SECONDS, message)));
  }

  /** The value under str key {@code key} of a decoded map, or null. */
  static Value field(Value map, String key) {
    for (Map.Entry<Value, Value> e : map.asMapValue().entrySet()) {
      if (e.getKey().isStringValue() && e.getKey().asStringValue().asString().equals(key)) {
        return e.getValue();
      }
    }
    return null;
  }

  /** The str keys of a decoded map, in wire order. */
  static List<String> keys(Value map) {
    Value[] kv = map.asMapValue().getKeyValueArray();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < kv.length; i += 2) {
      keys.add(kv[i].asStringValue().asString());
    }
    return keys;
  }

  /** The record's status string. */
  static String status(byte[] record) {
    Value v = field(Pack.unpack(record), "status");
    return v == null || v.getValueType() != ValueType.STRING ? null : v.asStringValue().asString();
  }

  /** The record's request_id. */
  static long requestId(byte[] record) {
    return field(Pack.unpack(record), "request_id").asIntegerValue().asLong();
  }

  /** The reason text of a FAILED record's ERROR_NONTRANSIENT event. */
  static String failureMessage(byte[] record) {
    Value events = field(Pack.unpack(record), "events");
    Value payload = field(events.asArrayValue().get(0), "payload");
    return field(payload, "message").asStringValue().asString();
  }
}
