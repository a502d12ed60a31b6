package io.dpcoord.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpcoord.tokenizers.GoldenVectorTest.TestTokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The HuggingFace tokenizer beyond the golden vectors: {@code no-special-tokens}, config files
 * (src/test/resources/huggingface, expected values from {@code
 * src/test/python/generate_huggingface_cases.py} on Megatron's library), bad input, threads.
 */
class HuggingFaceTokenizerTest {
  static final Path FIXTURES = Path.of("src/test/resources/huggingface");

  static JsonNode cases() throws IOException {
    return new ObjectMapper().readTree(FIXTURES.resolve("cases.json").toFile());
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "qwen3", "llama3"})
  void tokenizesWithoutSpecialTokensAsMegatron(String name) throws IOException {
    TextTokenizer tokenizer =
        TestTokenizers.fromGoldenSpec("huggingface:" + name + ",no-special-tokens");
    JsonNode cases = cases().get("no_special_tokens").get(name);
    assertThat(cases.size()).isGreaterThanOrEqualTo(10);
    for (JsonNode c : cases) {
      assertThat(tokenizer.tokenize(c.get("text").asText()))
          .as("%s: %s", name, GoldenVectorTest.quote(c.get("text").asText()))
          .containsExactly(longs(c.get("ids")));
    }
  }

  /** The tiny tokenizers, loaded from their directory and from their tokenizer.json. */
  @ParameterizedTest
  @ValueSource(strings = {"legacy", "bert"})
  void readsConfigFilesAsMegatron(String name) throws IOException {
    JsonNode expected = cases().get("fixtures").get(name);
    Path dir = FIXTURES.resolve(name);
    TextTokenizer withSpecial = HuggingFaceTokenizer.load(dir, true);
    TextTokenizer plain = HuggingFaceTokenizer.load(dir.resolve("tokenizer.json"), false);
    for (TextTokenizer tokenizer : List.of(withSpecial, plain)) {
      assertThat(tokenizer.eod()).as("%s eod", name).isEqualTo(expected.get("eod").asLong());
      for (JsonNode c : expected.get("detokenize")) {
        assertThat(tokenizer.detokenize(longs(c.get("ids"))))
            .as("%s: detokenize %s", name, c.get("ids"))
            .isEqualTo(c.get("text").asText());
      }
    }
    for (JsonNode c : expected.get("tokenize")) {
      String text = c.get("text").asText();
      assertThat(withSpecial.tokenize(text))
          .as("%s: %s", name, text)
          .containsExactly(longs(c.get("ids")));
      assertThat(plain.tokenize(text))
          .as("%s, no special tokens: %s", name, text)
          .containsExactly(longs(c.get("ids_no_special_tokens")));
    }
  }

  @Test
  void refusesWhatPythonRefuses() {
    TextTokenizer tokenizer = HuggingFaceTokenizer.load(FIXTURES.resolve("bert"), true);
    assertThatThrownBy(() -> tokenizer.tokenize("a\uD800b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unpaired surrogate at index 1");
    assertThatThrownBy(() -> tokenizer.tokenize("\uDC00"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(tokenizer.tokenize("hello \uD83D\uDE00")).containsExactly(2, 5, 1, 3);
    for (long id : new long[] {-1, 1L << 32}) {
      assertThatThrownBy(() -> tokenizer.detokenize(new long[] {5, id}))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("id " + id + " is out of range");
    }
    assertThat(tokenizer.detokenize(new long[] {5, (1L << 32) - 1, 6})).isEqualTo("hello world");
  }

  @Test
  void missingPath(@TempDir Path tmp) {
    assertFails(tmp.resolve("nothing"), "nothing is not a tokenizer.json file or a directory");
    assertThatThrownBy(() -> Tokenizers.fromSpec("huggingface:" + tmp.resolve("nothing")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("tokenizer 'huggingface:" + tmp.resolve("nothing") + "': ");
  }

  @Test
  void directoryWithoutTokenizerJson(@TempDir Path tmp) throws IOException {
    Files.writeString(tmp.resolve("tokenizer_config.json"), "{}");
    assertFails(tmp, tmp + " has no tokenizer.json");
  }

  @Test
  void corruptTokenizerJson(@TempDir Path tmp) throws IOException {
    byte[] good = Files.readAllBytes(FIXTURES.resolve("bert/tokenizer.json"));
    Files.write(tmp.resolve("tokenizer.json"), Arrays.copyOf(good, good.length / 2));
    assertFails(tmp, "tokenizer.json is not valid JSON: ");
    Files.writeString(tmp.resolve("tokenizer.json"), "[1, 2]");
    assertFails(tmp, "tokenizer.json is not a JSON object");
    Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\"}}");
    assertFails(tmp, "tokenizer.json is not a tokenizer the tokenizers library accepts: ");
    Files.write(tmp.resolve("tokenizer.json"), good);
    Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"eos_token\": ");
    assertFails(tmp, "tokenizer_config.json is not valid JSON: ");
    Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"eos_token\": 7}");
    assertFails(tmp, "eos_token must be a string or an object with a content string, not 7");
    Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"split_special_tokens\": true}");
    assertFails(tmp, "split_special_tokens=true is not supported");
    Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"eos_token\": \"hello\"}");
    assertThat(HuggingFaceTokenizer.load(tmp, true).eod()).isEqualTo(5);
  }

  static void assertFails(Path path, String message) {
    assertThatThrownBy(() -> HuggingFaceTokenizer.load(path, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void threadsGetWhatOneThreadGets() throws Exception {
    TextTokenizer tokenizer = TestTokenizers.fromGoldenSpec("huggingface:qwen3");
    List<String> texts = new ArrayList<>();
    GoldenVectorTest.load("huggingface-qwen3")
        .get("tokenize")
        .forEach(c -> texts.add(c.get("text").asText()));
    List<long[]> ids = texts.stream().map(tokenizer::tokenize).toList();
    List<String> decoded = ids.stream().map(tokenizer::detokenize).toList();
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int offset = t;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  int checked = 0;
                  for (int round = 0; round < 5; round++) {
                    for (int k = 0; k < texts.size(); k++) {
                      int i = (k + offset * 37) % texts.size();
                      assertThat(tokenizer.tokenize(texts.get(i))).containsExactly(ids.get(i));
                      assertThat(tokenizer.detokenize(ids.get(i))).isEqualTo(decoded.get(i));
                      checked++;
                    }
                  }
                  return checked;
                }));
      }
      start.countDown();
      for (Future<Integer> result : results) {
        assertThat(result.get()).isEqualTo(5 * texts.size());
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(texts).hasSizeGreaterThan(100);
  }

  /** DJL set up before its first use: offline, its native library in a private directory. */
  @Test
  void djlNeedsNoNetworkNorHomeDirectory() throws IOException {
    HuggingFaceTokenizer.load(FIXTURES.resolve("bert"), true);
    assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
    Path cache = Path.of(System.getProperty("ENGINE_CACHE_DIR"));
    assertThat(cache).isDirectory();
    assertThat(cache.startsWith(Path.of(System.getProperty("user.home")))).isFalse();
    try (Stream<Path> files = Files.walk(cache)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(f -> f.contains("tokenizers") && !f.endsWith(".json"));
    }
  }

  static long[] longs(JsonNode ids) {
    long[] out = new long[ids.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ids.get(i).asLong();
    }
    return out;
  }
}
