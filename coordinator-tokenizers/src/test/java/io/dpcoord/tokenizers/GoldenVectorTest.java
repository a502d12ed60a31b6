package io.dpcoord.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every tokenizer kind against the golden vectors of {@code src/test/python/generate_golden.py}:
 * Megatron-LM's own tokenizer libraries on Python's tokenizers, transformers, tiktoken and
 * sentencepiece, a few hundred texts each (Unicode, emoji, white-space runs, special tokens, the
 * empty string) and id lists to detokenize (random ids, special ids, trailing and inner eods).
 */
class GoldenVectorTest {
  static final String[] GOLDEN = {
    "null",
    "null-100-eod-3",
    "bytes",
    "tiktoken-v2",
    "tiktoken-v1",
    "sentencepiece",
    "huggingface-gpt2",
    "huggingface-qwen3",
    "huggingface-llama3",
  };

  static Stream<String> golden() {
    return Stream.of(GOLDEN);
  }

  @ParameterizedTest
  @MethodSource("golden")
  void tokenizesAsMegatron(String name) throws IOException {
    JsonNode golden = load(name);
    TextTokenizer tokenizer = TestTokenizers.fromGoldenSpec(golden.get("spec").asText());
    List<String> mismatches = new ArrayList<>();
    for (JsonNode c : golden.get("tokenize")) {
      String text = c.get("text").asText();
      if (c.has("error") || !fitsInt64(c.get("ids"))) {
        assertThatThrownBy(() -> tokenizer.tokenize(text))
            .as("%s: tokenize %s", name, quote(text))
            .isInstanceOf(IllegalArgumentException.class);
        continue;
      }
      long[] want = longs(c.get("ids"));
      long[] got = tokenizer.tokenize(text);
      if (!java.util.Arrays.equals(got, want)) {
        mismatches.add(
            quote(text)
                + ": want "
                + java.util.Arrays.toString(want)
                + " got "
                + java.util.Arrays.toString(got));
      }
    }
    assertThat(mismatches).as("%s: tokenize", name).isEmpty();
    assertThat(golden.get("tokenize").size()).isGreaterThan(20);
  }

  @ParameterizedTest
  @MethodSource("golden")
  void detokenizesAsMegatron(String name) throws IOException {
    JsonNode golden = load(name);
    TextTokenizer tokenizer = TestTokenizers.fromGoldenSpec(golden.get("spec").asText());
    assertThat(tokenizer.eod())
        .as("%s: eod", name)
        .isEqualTo(golden.get("eod").isNull() ? -1 : golden.get("eod").asLong());
    List<String> mismatches = new ArrayList<>();
    for (JsonNode c : golden.get("detokenize")) {
      long[] ids = longs(c.get("ids"));
      if (c.has("error")) {
        assertThatThrownBy(() -> tokenizer.generatedText(ids, true))
            .as("%s: detokenize %s", name, c.get("ids"))
            .isInstanceOf(IllegalArgumentException.class);
        continue;
      }
      String removed = tokenizer.generatedText(ids, true);
      String kept = tokenizer.generatedText(ids, false);
      if (!removed.equals(c.get("text").asText())
          || !kept.equals(c.get("text_keep_eod").asText())) {
        mismatches.add(
            c.get("ids")
                + ": want "
                + quote(c.get("text").asText())
                + " / "
                + quote(c.get("text_keep_eod").asText())
                + " got "
                + quote(removed)
                + " / "
                + quote(kept));
      }
    }
    assertThat(mismatches).as("%s: detokenize", name).isEmpty();
  }

  static JsonNode load(String name) throws IOException {
    try (InputStream in = GoldenVectorTest.class.getResourceAsStream("/golden/" + name + ".json")) {
      if (in == null) {
        fail("missing golden file " + name);
      }
      return new ObjectMapper().readTree(in);
    }
  }

  private static boolean fitsInt64(JsonNode ids) {
    for (JsonNode id : ids) {
      if (!id.canConvertToLong()) {
        return false;
      }
    }
    return true;
  }

  private static long[] longs(JsonNode ids) {
    long[] out = new long[ids.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = new BigInteger(ids.get(i).asText()).longValueExact();
    }
    return out;
  }

  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    s.codePoints()
        .forEach(
            c -> {
              if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\u{%x}", c));
              } else {
                sb.appendCodePoint(c);
              }
            });
    return sb.append('"').toString();
  }

  /** Where the tests find tokenizer files. */
  static final class TestTokenizers {
    private TestTokenizers() {}

    /** The committed small files, then the fetched real ones (scripts/fetch-tokenizers.sh). */
    static TextTokenizer fromGoldenSpec(String spec) {
      int colon = spec.indexOf(':');
      if (colon < 0 || spec.startsWith("null")) {
        return Tokenizers.fromSpec(spec);
      }
      int comma = spec.indexOf(',', colon);
      String file = comma < 0 ? spec.substring(colon + 1) : spec.substring(colon + 1, comma);
      String rest = comma < 0 ? "" : spec.substring(comma);
      return Tokenizers.fromSpec(spec.substring(0, colon + 1) + resolve(file) + rest);
    }

    static Path resolve(String file) {
      Path committed = Path.of("src/test/resources/tokenizers", file);
      if (Files.exists(committed)) {
        return committed.toAbsolutePath();
      }
      Path fetched = repository().resolve(".cache/tokenizers").resolve(file);
      if (!Files.exists(fetched)) {
        fail(
            fetched
                + " is missing: run scripts/fetch-tokenizers.sh (./test does) to fetch the"
                + " real tokenizer files");
      }
      return fetched;
    }

    static Path repository() {
      return Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
          .toAbsolutePath()
          .getParent();
    }
  }
}
