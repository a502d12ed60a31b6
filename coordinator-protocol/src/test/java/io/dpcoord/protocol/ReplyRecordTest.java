package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/** A reply record's num_cached_tokens: read while decoding, known only for a COMPLETED record. */
class ReplyRecordTest {
  private static final long UNKNOWN = ReplyRecord.CACHED_TOKENS_UNKNOWN;

  private final MessageCodec codec = new MessageCodec();

  /** A record map of {@code keysAndValues}: str keys, values long, double, String, null. */
  private static RawValue record(Object... keysAndValues) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packMapHeader(keysAndValues.length / 2);
      for (int i = 0; i < keysAndValues.length; i += 2) {
        p.packString((String) keysAndValues[i]);
        Object v = keysAndValues[i + 1];
        if (v == null) {
          p.packNil();
        } else if (v instanceof Long l) {
          p.packLong(l);
        } else if (v instanceof Integer n) {
          p.packInt(n);
        } else if (v instanceof Double d) {
          p.packDouble(d);
        } else if (v instanceof long[] list) {
          p.packArrayHeader(list.length);
          for (long x : list) {
            p.packLong(x);
          }
        } else {
          p.packString((String) v);
        }
      }
      return RawValue.of(p.toByteArray());
    } catch (IOException | ProtocolException e) {
      throw new AssertionError(e);
    }
  }

  /** What the codec reads from an ENGINE_REPLY carrying {@code record}. */
  private long decoded(RawValue record) throws ProtocolException {
    byte[] frame = codec.encode(new EngineReply(List.of(new ReplyRecord(1, record)), 0));
    EngineReply reply = (EngineReply) codec.decode(Direction.TO_COORDINATOR, frame);
    return reply.records().get(0).cachedTokens();
  }

  @Test
  void aCompletedRecordSaysWhatItsEngineServedFromItsCache() throws ProtocolException {
    RawValue r =
        record(
            "request_id",
            1,
            "generated_tokens",
            new long[] {1, 2, 3},
            "status",
            "COMPLETED",
            "num_cached_tokens",
            48);
    // the key may come before the status too, as in Megatron's dataclass order
    RawValue first = record("num_cached_tokens", 1L << 40, "request_id", 1, "status", "COMPLETED");

    assertThat(decoded(r)).isEqualTo(48);
    assertThat(decoded(first)).isEqualTo(1L << 40);
    assertThat(new ReplyRecord(1, r).cachedTokens()).isEqualTo(48);
    assertThat(decoded(record("request_id", 1, "status", "COMPLETED", "num_cached_tokens", 0)))
        .isZero();
  }

  @Test
  void withoutAnIntCountOrACompletedStatusItIsUnknown() throws ProtocolException {
    List<RawValue> unknown =
        List.of(
            record("request_id", 1, "status", "COMPLETED"), // Megatron 0.18: no such key
            record("request_id", 1, "status", "COMPLETED", "num_cached_tokens", 16.0),
            record("request_id", 1, "status", "COMPLETED", "num_cached_tokens", null),
            record("request_id", 1, "status", "COMPLETED", "num_cached_tokens", "16"),
            record("request_id", 1, "status", "COMPLETED", "num_cached_tokens", -16),
            // failed or aborted before its prefill: its 0 says nothing about the cache
            record("request_id", 1, "status", "FAILED", "num_cached_tokens", 0),
            record(
                "request_id", 1, "status", "ACTIVE_AND_GENERATING_TOKENS", "num_cached_tokens", 32),
            record("request_id", 1, "num_cached_tokens", 32),
            record("request_id", 1, "status", null, "num_cached_tokens", 32));
    for (RawValue r : unknown) {
      assertThat(decoded(r)).as(r.toString()).isEqualTo(UNKNOWN);
      assertThat(new ReplyRecord(1, r).cachedTokens()).as(r.toString()).isEqualTo(UNKNOWN);
    }
  }

  @Test
  void aUint64CountBeyondInt64IsUnknownNotAnError() throws ProtocolException {
    // {"request_id": 1, "status": "COMPLETED", "num_cached_tokens": 2^64 - 1}
    String hex =
        "83 aa726571756573745f6964 01 a6737461747573 a9434f4d504c45544544"
            + " b16e756d5f6361636865645f746f6b656e73 cfffffffffffffffff";
    RawValue r = RawValue.of(HexFormat.of().parseHex(hex.replace(" ", "")));

    assertThat(decoded(r)).isEqualTo(UNKNOWN);
  }

  @Test
  void repeatedKeysFollowPythonLastWins() throws ProtocolException {
    RawValue r =
        record(
            "request_id",
            1,
            "num_cached_tokens",
            16,
            "status",
            "FAILED",
            "num_cached_tokens",
            32,
            "status",
            "COMPLETED");

    assertThat(decoded(r)).isEqualTo(32);
  }

  @Test
  void partialRecordsAndClientRepliesCarryTheSameReading() throws ProtocolException {
    RawValue r = record("request_id", 3, "status", "COMPLETED", "num_cached_tokens", 64);
    byte[] partial = codec.encode(new EngineReplyPartial(List.of(new ReplyRecord(3, r)), 0));

    EngineReplyPartial decoded =
        (EngineReplyPartial) codec.decode(Direction.TO_COORDINATOR, partial);

    assertThat(decoded.records()).containsExactly(new ReplyRecord(3, r, 64));
  }

  @Test
  void aCountBelowUnknownIsAMisuse() {
    RawValue r = record("request_id", 1);

    assertThatThrownBy(() -> new ReplyRecord(1, r, -2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-2");
    assertThatThrownBy(() -> new ReplyRecord(1, null)).isInstanceOf(IllegalArgumentException.class);
  }
}
