package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

class RawValueTest {

  private static RawValue raw(String spacedHex) throws ProtocolException {
    return RawValue.of(bytes(spacedHex));
  }

  private static byte[] bytes(String spacedHex) {
    return HexFormat.of().parseHex(spacedHex.replace(" ", ""));
  }

  private static String hex(RawValue v) {
    return HexFormat.of().formatHex(v.toByteArray());
  }

  // {"a": 1, "b": [2, 3], "c": "x"}
  private static final String ABC = "83 a1 61 01 a1 62 92 02 03 a1 63 a1 78";

  @Test
  void getReturnsTheRawValueUnderAStrKey() throws ProtocolException {
    RawValue m = raw(ABC);
    assertThat(hex(m.get("b"))).isEqualTo("920203");
    assertThat(m.get("c").asString()).isEqualTo("x");
    assertThat(m.get("a").asLong()).isEqualTo(1);
    assertThat(m.get("missing")).isNull();
  }

  @Test
  void getIgnoresBinKeysAndLetsTheLastDuplicateWin() throws ProtocolException {
    // {b"a": 1, "a": 2, "a": 3}
    RawValue m = raw("83 c4 01 61 01 a1 61 02 a1 61 03");
    assertThat(m.get("a").asLong()).isEqualTo(3);
    assertThat(raw("81 c4 01 61 01").get("a")).isNull();
  }

  @Test
  void withReplacesInPlaceAndKeepsEveryOtherByte() throws ProtocolException {
    RawValue m = raw(ABC);
    RawValue replaced = m.with("b", RawValue.ofString("new"));
    assertThat(hex(replaced))
        .isEqualTo("83 a1 61 01 a1 62 a3 6e 65 77 a1 63 a1 78".replace(" ", ""));
    assertThat(replaced.get("b").asString()).isEqualTo("new");
    // the original is untouched
    assertThat(hex(m)).isEqualTo(ABC.replace(" ", ""));
  }

  @Test
  void withAppendsAMissingKeyAndBumpsTheCount() throws ProtocolException {
    RawValue m = raw(ABC);
    RawValue appended = m.with("generated_text", RawValue.ofString("hi"));
    assertThat(hex(appended))
        .isEqualTo(
            ("84" + ABC.replace(" ", "").substring(2))
                + "ae67656e6572617465645f74657874"
                + "a26869");
    assertThat(appended.get("generated_text").asString()).isEqualTo("hi");
  }

  @Test
  void withKeepsANonMinimalHeaderAndWidensAFullFixmap() throws ProtocolException {
    // map16 holding one entry stays map16
    RawValue wide = raw("de 00 01 a1 61 01").with("b", RawValue.ofLong(2));
    assertThat(hex(wide)).isEqualTo("de0002a16101a16202");
    // a fixmap of 15 entries becomes a map16 of 16
    StringBuilder fifteen = new StringBuilder("8f");
    for (int i = 0; i < 15; i++) {
      fifteen.append("a1").append(String.format("%02x", 'a' + i)).append("c0");
    }
    RawValue sixteen = raw(fifteen.toString()).with("z", RawValue.nil());
    assertThat(hex(sixteen)).startsWith("de0010" + fifteen.substring(2)).endsWith("a17ac0");
    assertThat(sixteen.get("z").isNil()).isTrue();
  }

  @Test
  void withReplacesOnlyTheLastDuplicate() throws ProtocolException {
    RawValue m = raw("82 a1 61 01 a1 61 02").with("a", RawValue.ofLong(9));
    assertThat(hex(m)).isEqualTo("82a16101a16109");
  }

  @Test
  void nonMapsAreRejectedByGetAndWith() throws ProtocolException {
    RawValue array = raw("92 01 02");
    assertThatThrownBy(() -> array.get("a"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs a map, got array");
    assertThatThrownBy(() -> RawValue.nil().with("a", RawValue.nil()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs a map, got nil");
  }

  @Test
  void withoutDropsTheKeysAndKeepsEveryOtherEntryByteForByteInOrder() throws ProtocolException {
    assertThat(hex(raw(ABC).without(Set.of("b")))).isEqualTo("82a16101a163a178");
    assertThat(hex(raw(ABC).without(Set.of("a", "c", "absent")))).isEqualTo("81a162920203");
    // non-minimal encodings inside the kept entries stay as they are
    RawValue m = raw("83 a1 61 cf 00 00 00 00 00 00 00 01 a3 75 69 64 c0 d9 01 62 ca 3f c0 00 00");
    assertThat(hex(m.without(Set.of("uid")))).isEqualTo("82a161cf0000000000000001d90162ca3fc00000");
  }

  @Test
  void withoutIsTheValueItselfWhenNoKeyIsPresent() throws ProtocolException {
    RawValue wide = raw("de 00 02 a1 61 01 a1 62 02"); // a map16 Python would not write
    assertThat(wide.without(Set.of("c"))).isSameAs(wide);
    assertThat(wide.without(Set.of())).isSameAs(wide);
    assertThat(RawValue.of(bytes("80")).without(Set.of("a"))).isEqualTo(raw("80"));
  }

  @Test
  void withoutWritesTheSmallestMapHeaderForWhatIsLeft() throws ProtocolException {
    assertThat(hex(raw("de 00 02 a1 61 01 a1 62 02").without(Set.of("a")))).isEqualTo("81a16202");
    assertThat(hex(raw("df 00 00 00 02 a1 61 01 a1 62 02").without(Set.of("b"))))
        .isEqualTo("81a16101");
    assertThat(hex(raw(ABC).without(Set.of("a", "b", "c")))).isEqualTo("80");
  }

  @Test
  void withoutDropsEveryDuplicateButNeitherBinKeysNorNestedOnes() throws ProtocolException {
    // {"a": 1, b"a": 2, "a": 3, "m": {"a": 4}}
    RawValue m = raw("84 a1 61 01 c4 01 61 02 a1 61 03 a1 6d 81 a1 61 04");
    assertThat(hex(m.without(Set.of("a")))).isEqualTo("82c4016102a16d81a16104");
  }

  @Test
  void withoutWorksOnAValueInsideAFrame() throws ProtocolException {
    // {"pad": "xx", "inner": {"a": 1, "b": 2}}: the inner map is a slice at an offset
    RawValue inner =
        raw("82 a3 70 61 64 a2 78 78 a5 69 6e 6e 65 72 82 a1 61 01 a1 62 02").get("inner");
    assertThat(hex(inner.without(Set.of("a")))).isEqualTo("81a16202");
    assertThat(hex(inner)).isEqualTo("82a16101a16202");
  }

  @Test
  void withoutNeedsAMap() {
    assertThatThrownBy(() -> raw("92 01 02").without(Set.of("a")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("RawValue.without([a]) needs a map, got array");
    assertThatThrownBy(() -> RawValue.nil().without(Set.of("a")))
        .hasMessageContaining("needs a map, got nil");
  }

  @Test
  void isArrayIsTrueForEveryArrayHeaderAndNothingElse() throws ProtocolException {
    for (String array :
        new String[] {"90", "92 01 02", "dc 00 00", "dc 00 01 c0", "dd 00 00 00 00"}) {
      assertThat(raw(array).isArray()).as(array).isTrue();
    }
    for (String other :
        new String[] {"80", "81 a1 61 90", "de 00 00", "a0", "c0", "c4 00", "01", "d4 01 00"}) {
      assertThat(raw(other).isArray()).as(other).isFalse();
    }
    // {"a": 1, "t": [7]}: a slice
    RawValue m = raw("82 a1 61 01 a1 74 91 07");
    assertThat(m.get("t").isArray()).isTrue();
    assertThat(m.get("a").isArray()).isFalse();
  }

  @Test
  void isTruthyReadsAValueInsideAFrameAtItsOffset() throws ProtocolException {
    // {"f": false, "z": 0.0f32, "h": 1.5f32, "d": 0.0f64, "n": NaN f64, "b": b"", "c": b"\0"}
    RawValue m =
        raw(
            "87 a1 66 c2 a1 7a ca 00 00 00 00 a1 68 ca 3f c0 00 00 a1 64 cb 00 00 00 00 00 00 00 00"
                + " a1 6e cb 7f f8 00 00 00 00 00 00 a1 62 c4 00 a1 63 c4 01 00");
    assertThat(m.get("f").isTruthy()).isFalse();
    assertThat(m.get("z").isTruthy()).isFalse();
    assertThat(m.get("h").isTruthy()).isTrue();
    assertThat(m.get("d").isTruthy()).isFalse();
    assertThat(m.get("n").isTruthy()).isTrue();
    assertThat(m.get("b").isTruthy()).isFalse();
    assertThat(m.get("c").isTruthy()).isTrue();
    assertThat(m.isTruthy()).isTrue();
  }

  @Test
  void ofAcceptsExactlyOneWellFormedValue() throws ProtocolException {
    assertThat(hex(raw("92 01 02"))).isEqualTo("920102");
    assertThatThrownBy(() -> raw("92 01 02 03"))
        .isInstanceOfSatisfying(
            ProtocolException.class,
            e -> assertThat(e.reason()).isEqualTo(ProtocolException.Reason.TRAILING_BYTES));
    assertThatThrownBy(() -> raw("92 01"))
        .isInstanceOfSatisfying(
            ProtocolException.class,
            e -> assertThat(e.reason()).isEqualTo(ProtocolException.Reason.MALFORMED_MSGPACK));
    assertThatThrownBy(() -> RawValue.of(new byte[0]))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("unexpected end of input");
  }

  @Test
  void ofCopiesItsInput() throws ProtocolException {
    byte[] input = bytes("a1 61");
    RawValue v = RawValue.of(input);
    input[1] = 'b';
    assertThat(v.asString()).isEqualTo("a");
  }

  @Test
  void equalityIsByContentWhateverTheSlice() throws ProtocolException {
    byte[] frame = bytes("93 01 a1 61 02");
    RawValue slice = RawValue.slice(frame, 2, 2);
    RawValue copy = raw("a1 61");
    assertThat(slice).isEqualTo(copy).hasSameHashCodeAs(copy);
    assertThat(slice).isNotEqualTo(raw("a1 62"));
    assertThat(slice.length()).isEqualTo(2);
  }

  @Test
  void typedAccessorsRejectOtherTypes() throws ProtocolException {
    assertThat(raw("93 01 d0 80 cf 00 00 00 01 00 00 00 00").asLongArray())
        .containsExactly(1, -128, 1L << 32);
    assertThatThrownBy(() -> raw("a1 61").asLong())
        .isInstanceOf(ProtocolException.class)
        .hasMessage("value must be an int64, got str");
    assertThatThrownBy(() -> raw("cf ff ff ff ff ff ff ff ff").asLong())
        .hasMessage("value must be an int64, got uint64 18446744073709551615");
    assertThatThrownBy(() -> raw("92 01 c0").asLongArray())
        .hasMessage("value element 1 must be an int64, got nil");
    assertThatThrownBy(() -> raw("01").asString()).hasMessage("value must be a str, got int");
    assertThat(RawValue.nil().isNil()).isTrue();
    assertThat(RawValue.nil().isMap()).isFalse();
    assertThat(raw("df 00 00 00 00").isMap()).isTrue();
  }

  @Test
  void factoriesWriteWhatPythonWrites() throws IOException {
    // msgpack-core's packer agrees with Python's packb on ints (checked by the golden vectors)
    long[] values = {
      0,
      1,
      127,
      128,
      255,
      256,
      65535,
      65536,
      4294967295L,
      4294967296L,
      Long.MAX_VALUE,
      -1,
      -32,
      -33,
      -128,
      -129,
      -32768,
      -32769,
      Integer.MIN_VALUE,
      Integer.MIN_VALUE - 1L,
      Long.MIN_VALUE
    };
    for (long v : values) {
      try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
        p.packLong(v);
        assertThat(RawValue.ofLong(v).toByteArray()).as("%d", v).isEqualTo(p.toByteArray());
      }
    }
    assertThat(RawValue.ofString("a".repeat(31)).toByteArray()[0] & 0xff).isEqualTo(0xbf);
    assertThat(RawValue.ofString("a".repeat(32)).toByteArray()).startsWith(0xd9, 32);
    assertThat(RawValue.ofString("a".repeat(255)).toByteArray()).startsWith(0xd9, 255);
    assertThat(RawValue.ofString("a".repeat(256)).toByteArray()).startsWith(0xda, 1, 0);
    assertThat(RawValue.ofString("a".repeat(65536)).toByteArray()).startsWith(0xdb, 0, 1, 0, 0);
    // the header counts UTF-8 bytes, not chars: 11 chars of 3 bytes = 33 bytes
    assertThat(RawValue.ofString("\u65e5".repeat(11)).toByteArray()).startsWith(0xd9, 33);
  }

  @Test
  void writeToCopiesTheBytesAsTheyAre() throws IOException, ProtocolException {
    RawValue nonMinimal = raw("cf 00 00 00 00 00 00 00 01");
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      nonMinimal.writeTo(p);
      assertThat(p.toByteArray()).isEqualTo(nonMinimal.toByteArray());
    }
    assertThat(Arrays.equals(nonMinimal.toByteArray(), nonMinimal.toByteArray())).isTrue();
    assertThat(nonMinimal.toByteArray()).isNotSameAs(nonMinimal.toByteArray());
  }
}
