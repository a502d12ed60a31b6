package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;

class MsgpackReaderTest {

  private static byte[] bytes(String spacedHex) {
    return HexFormat.of().parseHex(spacedHex.replace(" ", ""));
  }

  private static int skip(byte[] b) throws ProtocolException {
    MsgpackReader r = new MsgpackReader();
    r.reset(b, 0, b.length, null);
    r.skipValue();
    return r.position();
  }

  @Test
  void skipEndsWhereMsgpackCoreEndsOnRandomValidValues() throws IOException, ProtocolException {
    Random rnd = new Random(42);
    for (int i = 0; i < 3_000; i++) {
      byte[] value;
      try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
        RandomValues.write(p, rnd, 4);
        value = p.toByteArray();
      }
      byte[] withTail = Arrays.copyOf(value, value.length + 3);
      MessageUnpacker reference = MessagePack.newDefaultUnpacker(withTail);
      reference.unpackValue();
      assertThat(skip(withTail)).as("value %d", i).isEqualTo(reference.getTotalReadBytes());
      assertThat(skip(withTail)).isEqualTo(value.length);
    }
  }

  /**
   * Token ids in every int encoding, including the non-minimal ones other packers may write (a
   * small id as int32), in long runs of one encoding, in short runs of uint16 (enough of them to
   * leave the loop for runs) and mixed at random, with 0 to 9 bytes after the array (an id near the
   * end of the buffer takes the checked path): the values msgpack-core reads, and the cursor after
   * the last id.
   */
  @Test
  void readInt64sAgreesWithMsgpackCoreOnEveryIntEncoding() throws IOException, ProtocolException {
    Random rnd = new Random(7);
    for (int round = 0; round < 2_000; round++) {
      int count = idCount(rnd);
      ByteBuffer ids = ByteBuffer.allocate(9 * count + 10);
      writeIds(ids, count, rnd);
      int idsEnd = ids.position();
      int tail = rnd.nextInt(10);
      for (int i = 0; i < tail; i++) {
        ids.put((byte) 0xc0); // nil: not an id
      }
      byte[] frame = Arrays.copyOf(ids.array(), ids.position());
      MessageUnpacker reference = MessagePack.newDefaultUnpacker(frame);
      long[] expected = new long[count];
      for (int i = 0; i < count; i++) {
        expected[i] = reference.unpackLong();
      }
      MsgpackReader r = new MsgpackReader();
      r.reset(frame, 0, frame.length, null);
      long[] got = new long[count];
      assertThat(r.readInt64s(got)).as("round %d", round).isEqualTo(-1);
      assertThat(got).as("round %d", round).isEqualTo(expected);
      assertThat(r.position()).as("round %d", round).isEqualTo(idsEnd);
    }
  }

  /** The same arrays of ids, as array values: skipped to where msgpack-core's skip ends. */
  @Test
  void skipEndsWhereMsgpackCoreEndsOnArraysOfIds() throws IOException, ProtocolException {
    Random rnd = new Random(8);
    for (int round = 0; round < 2_000; round++) {
      int count = idCount(rnd);
      ByteBuffer array = ByteBuffer.allocate(9 * count + 10);
      array.put((byte) 0xdd).putInt(count); // array32
      writeIds(array, count, rnd);
      int arrayEnd = array.position();
      array.put((byte) 0xcd).putShort((short) 258); // a value after it: one more uint16
      byte[] frame = Arrays.copyOf(array.array(), array.position());
      MessageUnpacker reference = MessagePack.newDefaultUnpacker(frame);
      reference.skipValue();
      assertThat(reference.getTotalReadBytes()).isEqualTo(arrayEnd);
      assertThat(skip(frame)).as("round %d", round).isEqualTo(arrayEnd);
      byte[] cut = Arrays.copyOf(frame, arrayEnd - 1); // its last id cut short
      if (count > 0) {
        assertThatThrownBy(() -> skip(cut))
            .as("round %d", round)
            .isInstanceOf(ProtocolException.class);
      }
    }
  }

  /** How many ids an array of the two tests above holds: often under 80, sometimes hundreds. */
  private static int idCount(Random rnd) {
    return rnd.nextInt(4) == 0 ? 200 + rnd.nextInt(400) : rnd.nextInt(80);
  }

  /** {@code count} ids: each in a random encoding, in runs of one, or half of them uint16. */
  private static void writeIds(ByteBuffer out, int count, Random rnd) {
    int mix = rnd.nextInt(3); // 0: every id at random, 1: runs, 2: half uint16 (short runs)
    int encoding = rnd.nextInt(INT_ENCODINGS);
    for (int i = 0; i < count; i++) {
      if (mix == 0 || mix == 1 && rnd.nextInt(16) == 0) {
        encoding = rnd.nextInt(INT_ENCODINGS);
      } else if (mix == 2) {
        encoding = rnd.nextBoolean() ? UINT16 : rnd.nextInt(INT_ENCODINGS);
      }
      writeInt(out, encoding, rnd);
    }
  }

  @Test
  void readInt64sStopsAtTheFirstIdThatIsNotAnInt64() throws ProtocolException {
    // 3 uint16 ids, then a uint64 above int64's range, then a str
    byte[] frame = bytes("cd0102 cd0304 cd0506 cf8000000000000000 a178 c0c0c0c0c0c0c0c0");
    MsgpackReader r = new MsgpackReader();
    r.reset(frame, 0, frame.length, null);
    assertThat(r.readInt64s(new long[5])).isEqualTo(3);
    assertThat(r.position()).isEqualTo(9);
    r.reset(frame, 18, frame.length - 18, null);
    assertThat(r.readInt64s(new long[1])).isEqualTo(0);
    assertThat(r.position()).isEqualTo(18);
    byte[] cut = Arrays.copyOf(frame, 8); // the third id cut short
    r.reset(cut, 0, cut.length, null);
    assertThatThrownBy(() -> r.readInt64s(new long[3])).isInstanceOf(ProtocolException.class);
  }

  private static final int INT_ENCODINGS = 11;
  private static final int UINT16 = 3;

  /**
   * One int in encoding {@code e}: fixint +, fixint -, uint8..64, int8..64, with a value it holds.
   */
  private static void writeInt(ByteBuffer out, int e, Random rnd) {
    switch (e) {
      case 0 -> out.put((byte) rnd.nextInt(0x80));
      case 1 -> out.put((byte) (0xe0 + rnd.nextInt(32)));
      case 2 -> out.put((byte) 0xcc).put((byte) rnd.nextInt());
      case 3 -> out.put((byte) 0xcd).putShort((short) rnd.nextInt());
      case 4 -> out.put((byte) 0xce).putInt(rnd.nextInt());
      case 5 -> out.put((byte) 0xcf).putLong(rnd.nextLong() >>> 1); // within int64
      case 6 -> out.put((byte) 0xd0).put((byte) rnd.nextInt());
      case 7 -> out.put((byte) 0xd1).putShort((short) rnd.nextInt());
      case 8 -> out.put((byte) 0xd2).putInt(rnd.nextInt());
      case 9 -> out.put((byte) 0xd3).putLong(rnd.nextLong());
      default -> out.put((byte) 0xd2).putInt(rnd.nextInt(100)); // a small id, not minimal
    }
  }

  @Test
  void deepNestingIsRejectedPastPythonsLimitWithoutRecursion() throws ProtocolException {
    byte[] deep = new byte[100_001];
    Arrays.fill(deep, (byte) 0x91);
    deep[100_000] = (byte) 0xc0;
    assertThatThrownBy(() -> skip(deep))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("at byte 1024: containers nested deeper than 1024 levels");
    // exactly 1024 levels is what Python reads: accepted
    byte[] limit = new byte[1025];
    Arrays.fill(limit, (byte) 0x91);
    limit[1024] = (byte) 0xc0;
    assertThat(skip(limit)).isEqualTo(1025);
    byte[] maps = new byte[3 * 1024 + 1];
    for (int i = 0; i < 1024; i++) {
      maps[3 * i] = (byte) 0x81;
      maps[3 * i + 1] = (byte) 0xa1;
      maps[3 * i + 2] = 'k';
    }
    maps[3 * 1024] = 0x01;
    assertThat(skip(maps)).isEqualTo(maps.length);
  }

  @Test
  void hugeDeclaredLengthsFailFastWithoutAllocating() {
    for (String hex :
        new String[] {
          "db ff ff ff ff 61", // str32
          "c6 ff ff ff ff 61", // bin32
          "dd ff ff ff ff 01", // array32
          "df ff ff ff ff a1 61 01", // map32
          "c9 ff ff ff ff 05 00", // ext32
          "df 40 00 00 00", // map32 whose doubled count overflows an int
          "dd 7f ff ff ff 01",
        }) {
      assertThatThrownBy(() -> skip(bytes(hex)))
          .as(hex)
          .isInstanceOfSatisfying(
              ProtocolException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(ProtocolException.Reason.MALFORMED_MSGPACK);
                assertThat(e.getMessage()).contains("remain");
              });
    }
  }

  @Test
  void msgpackCoreSkipValueReturnsNormallyOnAnOverflowingMapCount() throws IOException {
    // Why MsgpackReader has its own skip: msgpack-core 0.9.x counts pending values in an int and
    // adds 2 * count for map32, so 2^30 entries overflow it and the skip "succeeds" after the
    // five header bytes. If this starts failing, msgpack-core has fixed it; our skip stays.
    byte[] truncated = bytes("df 40 00 00 00");
    MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(truncated);
    unpacker.skipValue();
    assertThat(unpacker.getTotalReadBytes()).isEqualTo(5);
    assertThatThrownBy(() -> skip(truncated)).isInstanceOf(ProtocolException.class);
  }

  @Test
  void utf8CheckAgreesWithJavasStrictDecoder() {
    Random rnd = new Random(7);
    var decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    byte[] interesting = {
      0x00,
      0x41,
      0x7f,
      (byte) 0x80,
      (byte) 0xbf,
      (byte) 0xc0,
      (byte) 0xc1,
      (byte) 0xc2,
      (byte) 0xdf,
      (byte) 0xe0,
      (byte) 0xed,
      (byte) 0xa0,
      (byte) 0x9f,
      (byte) 0xef,
      (byte) 0xf0,
      (byte) 0x90,
      (byte) 0x8f,
      (byte) 0xf4,
      (byte) 0xf5,
      (byte) 0xff
    };
    for (int i = 0; i < 200_000; i++) {
      byte[] b = new byte[rnd.nextInt(6)];
      for (int k = 0; k < b.length; k++) {
        b[k] =
            rnd.nextBoolean() ? interesting[rnd.nextInt(interesting.length)] : (byte) rnd.nextInt();
      }
      boolean strict;
      try {
        decoder.reset().decode(ByteBuffer.wrap(b));
        strict = true;
      } catch (CharacterCodingException e) {
        strict = false;
      }
      assertThat(MsgpackReader.isUtf8(b, 0, b.length))
          .as(HexFormat.of().formatHex(b))
          .isEqualTo(strict);
    }
  }

  @Test
  void pythonUnreadableValuesAreRejected() {
    String[] rejected = {
      "81 01 02", // int key
      "81 c0 02", // nil key
      "81 90 02", // array key
      "81 c3 01", // bool key
      "a2 c3 28", // invalid UTF-8
      "a3 ed a0 80", // an encoded surrogate
      "c7 03 ff 00 00 00", // timestamp of 3 bytes
      "d4 80 00", // ext code -128
      "c1", // reserved
    };
    for (String hex : rejected) {
      assertThatThrownBy(() -> skip(bytes(hex))).as(hex).isInstanceOf(ProtocolException.class);
    }
  }

  @Test
  void pythonReadableValuesAreAccepted() throws ProtocolException {
    String[] accepted = {
      "81 c4 00 01", // bin key
      "d4 7f 00", // ext code 127
      "d6 ff 00 00 00 01", // timestamp32
      "d7 ff ee 6b 27 fc 00 00 00 05", // timestamp64 with 999999999 ns
      "c7 0c ff 00 00 00 00 ff ff ff ff ff ff ff ff", // timestamp96
      "c4 02 c3 28", // bin need not be UTF-8
      "82 a1 61 01 a1 61 02", // duplicate keys: Python keeps the last
    };
    for (String hex : accepted) {
      assertThat(skip(bytes(hex))).as(hex).isEqualTo(bytes(hex).length);
    }
  }
}
