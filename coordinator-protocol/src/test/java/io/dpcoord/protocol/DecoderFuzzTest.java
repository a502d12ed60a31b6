package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.dpcoord.protocol.ProtocolException.Reason;
import java.io.IOException;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;

/**
 * Throws 100,000 hostile frames at the decoder in every dialect and direction: each must decode or
 * be rejected with a ProtocolException, and nothing else may escape. Reproduce a failure with the
 * printed seed: {@code mvn -pl coordinator-protocol test -Dtest=DecoderFuzzTest -Dfuzz.seed=N}.
 */
class DecoderFuzzTest {
  private static final int FRAMES = 100_000;

  /** Type bytes that change how the following bytes are read. */
  private static final int[] TYPE_BYTES = {
    0xc0, 0xc1, 0xc2, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4,
    0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xff
  };

  /** Headers of types whose declared length is four bytes, for huge-length frames. */
  private static final int[] LENGTH32_TYPES = {0xdb, 0xc6, 0xdd, 0xdf, 0xc9};

  private final MessageCodec codec = new MessageCodec();
  private final Map<Reason, Integer> reasons = new EnumMap<>(Reason.class);
  private int decoded;

  @Test
  void everyFrameDecodesOrIsRejectedWithAProtocolException() throws IOException {
    long seed = Long.getLong("fuzz.seed", 0x5eed_c0de_2024L);
    Random rnd = new Random(seed);
    List<byte[]> valid =
        GoldenVectors.all().stream()
            .map(GoldenVectors.Vector::frame)
            .filter(f -> f.length > 0)
            .toList();
    for (int i = 0; i < FRAMES; i++) {
      byte[] frame = generate(rnd, i, valid);
      for (Dialect dialect : Dialect.values()) {
        for (Direction to : Direction.values()) {
          check(seed, i, dialect, to, frame);
        }
      }
    }
    assertThat(decoded).as("frames that decoded").isGreaterThan(FRAMES / 50);
    assertThat(reasons.keySet())
        .as("rejection reasons seen")
        .contains(
            Reason.MALFORMED_MSGPACK,
            Reason.NOT_AN_ARRAY,
            Reason.EMPTY_ARRAY,
            Reason.UNKNOWN_HEADER,
            Reason.UNEXPECTED_HEADER,
            Reason.WRONG_ARITY,
            Reason.WRONG_FIELD_TYPE,
            Reason.TRAILING_BYTES);
  }

  private void check(long seed, int index, Dialect dialect, Direction to, byte[] frame) {
    Message message;
    try {
      message = codec.decode(dialect, to, frame);
    } catch (ProtocolException e) {
      reasons.merge(e.reason(), 1, Integer::sum);
      assertThat(e.getMessage()).isNotBlank();
      return;
    } catch (RuntimeException | Error e) {
      String hex = HexFormat.of().formatHex(frame, 0, Math.min(frame.length, 256));
      fail(
          "seed " + seed + ", frame " + index + ", " + dialect + " " + to + ": " + e + " on " + hex,
          e);
      return;
    }
    decoded++;
    assertDecodedFrameIsSound(seed, index, dialect, to, frame, message);
  }

  /** A frame we accept is one msgpack value, and what we re-encode decodes to the same message. */
  private void assertDecodedFrameIsSound(
      long seed, int index, Dialect dialect, Direction to, byte[] frame, Message message) {
    String where = "seed " + seed + ", frame " + index + ", " + dialect + " " + to;
    try {
      Message again = codec.decode(dialect, to, codec.encode(dialect, message));
      if (message instanceof EngineReply r) {
        assertThat(((EngineReply) again).records()).as(where).isEqualTo(r.records());
      } else if (message instanceof EngineReplyPartial r) {
        assertThat(((EngineReplyPartial) again).records()).as(where).isEqualTo(r.records());
      } else {
        assertThat(again).as(where).isEqualTo(message);
      }
      if (frame.length > 0 && frame.length <= 2048) {
        MessageUnpacker reference = MessagePack.newDefaultUnpacker(frame);
        reference.unpackValue();
        assertThat(reference.hasNext()).as(where + ": msgpack-core sees trailing bytes").isFalse();
      }
    } catch (ProtocolException | IOException e) {
      fail(where + ": an accepted frame failed its re-check: " + e, e);
    }
  }

  private byte[] generate(Random rnd, int index, List<byte[]> valid) throws IOException {
    if (index % 2000 == 1999) {
      return deep(rnd);
    }
    int kind = rnd.nextInt(10);
    if (kind < 2) {
      return randomBytes(rnd);
    }
    if (kind < 6) {
      return mutate(rnd, valid.get(rnd.nextInt(valid.size())));
    }
    if (kind < 9) {
      return wrongTypes(rnd);
    }
    return hugeLength(rnd);
  }

  private static byte[] randomBytes(Random rnd) {
    byte[] b = new byte[rnd.nextInt(48)];
    rnd.nextBytes(b);
    if (b.length > 0 && rnd.nextBoolean()) {
      b[0] = (byte) (0x91 + rnd.nextInt(6)); // mostly arrays, so the header path is exercised
      if (b.length > 1 && rnd.nextBoolean()) {
        b[1] = (byte) (20 + rnd.nextInt(30));
      }
    }
    return b;
  }

  static byte[] mutate(Random rnd, byte[] original) {
    byte[] b = original.clone();
    int mutations = 1 + rnd.nextInt(3);
    for (int m = 0; m < mutations && b.length > 0; m++) {
      int at = rnd.nextInt(b.length);
      switch (rnd.nextInt(6)) {
        case 0 -> b = Arrays.copyOf(b, at); // truncate
        case 1 -> b[at] ^= (byte) (1 << rnd.nextInt(8)); // bit flip
        case 2 -> { // insert a byte
          byte[] out = new byte[b.length + 1];
          System.arraycopy(b, 0, out, 0, at);
          out[at] = (byte) rnd.nextInt();
          System.arraycopy(b, at, out, at + 1, b.length - at);
          b = out;
        }
        case 3 -> { // delete a byte
          byte[] out = new byte[b.length - 1];
          System.arraycopy(b, 0, out, 0, at);
          System.arraycopy(b, at + 1, out, at, b.length - at - 1);
          b = out;
        }
        case 4 -> b[at] = (byte) TYPE_BYTES[rnd.nextInt(TYPE_BYTES.length)]; // type byte swap
        default -> { // append garbage
          byte[] tail = new byte[1 + rnd.nextInt(4)];
          rnd.nextBytes(tail);
          byte[] out = Arrays.copyOf(b, b.length + tail.length);
          System.arraycopy(tail, 0, out, b.length, tail.length);
          b = out;
        }
      }
    }
    return b;
  }

  /** A known header with about the right number of fields, each of a random type. */
  private static byte[] wrongTypes(Random rnd) throws IOException {
    Header[] headers = Arrays.stream(Header.values()).filter(Header::inMain).toArray(Header[]::new);
    Header h = headers[rnd.nextInt(headers.length)];
    int arity =
        switch (h) {
          case SUBMIT_REQUEST -> 4 + rnd.nextInt(2);
          case SUBMIT_REQUEST_WITH_KV -> 6;
          case ENGINE_REPLY, ENGINE_REPLY_PARTIAL -> 2 + rnd.nextInt(2);
          case ABORT_REQUEST, RELEASE_KV, SET_GENERATION_EPOCH, SEND_KV -> 2;
          default -> 1;
        };
    if (rnd.nextInt(8) == 0) {
      arity += rnd.nextBoolean() ? 1 : -1;
    }
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packArrayHeader(Math.max(arity, 1));
      p.packInt(h.wire());
      for (int i = 1; i < arity; i++) {
        switch (rnd.nextInt(4)) {
          case 0 -> plausibleField(p, rnd, h, i);
          default -> RandomValues.write(p, rnd, 3);
        }
      }
      return p.toByteArray();
    }
  }

  /** A field of the type the header wants, so later fields get checked too. */
  private static void plausibleField(MessageBufferPacker p, Random rnd, Header h, int i)
      throws IOException {
    if (i == 1 && h != Header.ENGINE_REPLY && h != Header.ENGINE_REPLY_PARTIAL) {
      p.packLong(rnd.nextInt(1000));
    } else if (i == 1) {
      int n = rnd.nextInt(4);
      p.packArrayHeader(n);
      for (int k = 0; k < n; k++) {
        p.packMapHeader(2);
        p.packString(rnd.nextBoolean() ? "request_id" : "status");
        RandomValues.write(p, rnd, 1);
        p.packString("events");
        RandomValues.write(p, rnd, 2);
      }
    } else if (i == 2 && rnd.nextBoolean()) {
      p.packArrayHeader(3);
      for (int k = 0; k < 3; k++) {
        p.packLong(rnd.nextInt(50000));
      }
    } else {
      p.packMapHeader(1);
      p.packString("temperature");
      p.packDouble(rnd.nextDouble());
    }
  }

  /** A tiny frame declaring a 4 GiB str, bin, array, map or ext somewhere. */
  private static byte[] hugeLength(Random rnd) {
    int type = LENGTH32_TYPES[rnd.nextInt(LENGTH32_TYPES.length)];
    byte[] huge = {(byte) type, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x61, 0x01};
    byte[] prefix =
        switch (rnd.nextInt(6)) {
          case 0 -> new byte[0];
          case 1 -> new byte[] {(byte) 0x94, 20, 1};
          case 2 -> new byte[] {(byte) 0x94, 20, 1, (byte) 0xa1, 'a'};
          case 3 -> new byte[] {(byte) 0x92, 21};
          case 4 -> new byte[] {(byte) 0x92, 21, (byte) 0x91};
          default -> new byte[] {(byte) 0x93, 21, 7};
        };
    byte[] out = Arrays.copyOf(prefix, prefix.length + huge.length);
    System.arraycopy(huge, 0, out, prefix.length, huge.length);
    return out;
  }

  /** 100,000 nested arrays or maps, as a whole frame or inside a field. */
  private static byte[] deep(Random rnd) {
    int depth = 100_000;
    boolean maps = rnd.nextBoolean();
    int unit = maps ? 3 : 1;
    byte[] prefix =
        switch (rnd.nextInt(4)) {
          case 0 -> new byte[0];
          case 1 -> new byte[] {(byte) 0x94, 20, 1, (byte) 0xa1, 'a'};
          case 2 -> new byte[] {(byte) 0x92, 21, (byte) 0x91};
          default -> new byte[] {(byte) 0x96, 24, 1, (byte) 0x91, 1, (byte) 0x80};
        };
    byte[] out = new byte[prefix.length + depth * unit + 1];
    System.arraycopy(prefix, 0, out, 0, prefix.length);
    for (int i = 0; i < depth; i++) {
      int at = prefix.length + i * unit;
      if (maps) {
        out[at] = (byte) 0x81;
        out[at + 1] = (byte) 0xa1;
        out[at + 2] = 'k';
      } else {
        out[at] = (byte) 0x91;
      }
    }
    out[out.length - 1] = (byte) 0xc0;
    return out;
  }
}
