package io.dpcoord.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Expected values are Python sentencepiece 0.2.2's on the committed test model. */
class SentencePieceTokenizerTest {
  static final Path MODEL = Path.of("src/test/resources/tokenizers/sentencepiece-tiny.model");

  @TempDir Path dir;

  @Test
  void encodesAndDecodesAsPython() {
    TextTokenizer t = SentencePieceTokenizer.load(MODEL);
    // NUL and an emoji through byte pieces: the native decoder would cut and garble these
    assertThat(t.tokenize("x😀\u0000y")).containsExactly(259, 302, 243, 162, 155, 131, 3, 280);
    assertThat(t.detokenize(new long[] {259, 302, 243, 162, 155, 131, 3, 280}))
        .isEqualTo("x😀\u0000y");
    assertThat(t.tokenize("  lead  and trail  "))
        .containsExactly(259, 269, 260, 365, 297, 290, 479, 338, 264, 269);
    assertThat(t.detokenize(new long[] {259, 259, 321})).isEqualTo("H");
    assertThat(t.detokenize(new long[] {0, 1, 2})).isEqualTo(" \u2047 ");
    assertThat(t.eod()).isEqualTo(2);
    assertThat(t.generatedText(new long[] {2, 321, 2}, true)).isEqualTo("H");
  }

  @Test
  void unigramTiesGoToTheFirstPathAsInPython() {
    // "000" is "0"+"00" or "00"+"0" with equal float sums; the binding alone gives the latter
    TextTokenizer t = SentencePieceTokenizer.load(MODEL);
    assertThat(t.tokenize("a000")).containsExactly(480, 275, 367);
    assertThat(t.tokenize("1,000,000")).containsExactly(350, 263, 275, 367, 263, 275, 367);
  }

  @Test
  void eachMalformedByteIsOneReplacementCharacter() {
    TextTokenizer t = SentencePieceTokenizer.load(MODEL);
    assertThat(t.detokenize(new long[] {243})).isEqualTo("\uFFFD");
    assertThat(t.detokenize(new long[] {243, 162})).isEqualTo("\uFFFD\uFFFD");
    assertThat(t.detokenize(new long[] {3, 100})).isEqualTo("\u0000a");
  }

  @Test
  void idsOutsideTheVocabularyAndLoneSurrogatesAreErrors() {
    TextTokenizer t = SentencePieceTokenizer.load(MODEL);
    assertThatThrownBy(() -> t.detokenize(new long[] {321, 500}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("id 500 is outside the vocabulary (size 500)");
    assertThatThrownBy(() -> t.detokenize(new long[] {-1}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> t.tokenize("a\uD800"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lone surrogate U+D800 at index 1");
  }

  @Test
  void rejectsFilesThatAreNotModels() throws Exception {
    Path json = Files.writeString(dir.resolve("tokenizer.json"), "[1, 2]");
    assertThatThrownBy(() -> SentencePieceTokenizer.load(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(json.toString())
        .hasMessageContaining("not a SentencePiece model");
    Path empty = Files.write(dir.resolve("empty.model"), new byte[0]);
    assertThatThrownBy(() -> SentencePieceTokenizer.load(empty))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a SentencePiece model (no pieces)");
    // a piece with no unknown piece: proto-valid, but SentencePiece would refuse it
    Path noUnk = Files.write(dir.resolve("nounk.model"), new byte[] {0x0a, 0x03, 0x0a, 0x01, 'a'});
    assertThatThrownBy(() -> SentencePieceTokenizer.load(noUnk))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unk is not defined");
  }

  @Test
  void refusesModelsWithADenormalizer() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.write(Files.readAllBytes(MODEL));
    // ModelProto.denormalizer_spec (5) { precompiled_charsmap (2): "x" }
    bytes.write(new byte[] {0x2a, 0x03, 0x12, 0x01, 'x'});
    Path model = Files.write(dir.resolve("denormalizer.model"), bytes.toByteArray());
    assertThatThrownBy(() -> SentencePieceTokenizer.load(model))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("denormalization rule");
  }

  @Test
  void staysOffline() {
    SentencePieceTokenizer.load(MODEL);
    if (System.getenv("DJL_OFFLINE") == null) {
      assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
    }
    if (System.getenv("OPT_OUT_TRACKING") == null) {
      assertThat(System.getProperty("OPT_OUT_TRACKING")).isEqualTo("true");
    }
  }

  @Test
  void severalThreadsGetWhatOneThreadGets() throws Exception {
    ConcurrencyCheck.sameIdsFromSeveralThreads(SentencePieceTokenizer.load(MODEL));
  }
}
