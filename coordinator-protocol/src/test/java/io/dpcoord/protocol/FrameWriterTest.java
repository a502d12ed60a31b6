package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** {@link FrameWriter#str}: bytes computed by hand from the msgpack spec and UTF-8. */
class FrameWriterTest {
  private static String hex(FrameWriter w) {
    return HexFormat.of().formatHex(w.toByteArray());
  }

  @Test
  void shortAsciiStringsAreFixstrs() {
    assertThat(hex(new FrameWriter(1).str(""))).isEqualTo("a0");
    assertThat(hex(new FrameWriter(1).str("key"))).isEqualTo("a36b6579");
    assertThat(hex(new FrameWriter(1).str("\u007f"))).isEqualTo("a17f");
    // after other bytes, in a buffer that must grow
    assertThat(hex(new FrameWriter(1).nil().str("ab").nil())).isEqualTo("c0a26162c0");
    assertThat(hex(new FrameWriter(1).str("x".repeat(31)))).isEqualTo("bf" + "78".repeat(31));
  }

  @Test
  void longerStringsTakeStr8() {
    assertThat(hex(new FrameWriter(1).str("x".repeat(32)))).isEqualTo("d920" + "78".repeat(32));
  }

  @Test
  void nonAsciiStringsAreEncodedAsUtf8() {
    assertThat(hex(new FrameWriter(1).str("\u00e9"))).isEqualTo("a2c3a9");
    // the ASCII bytes already copied are written over by the whole encoding
    assertThat(hex(new FrameWriter(1).nil().str("abc\u20ac"))).isEqualTo("c0a6616263e282ac");
    assertThat(hex(new FrameWriter(1).str("\ud83d\ude00"))).isEqualTo("a4f09f9880");
    assertThatThrownBy(() -> new FrameWriter(1).str("a\ud800"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lone surrogate");
  }
}
