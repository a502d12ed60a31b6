package io.dpcoord.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TikTokenizerTest {
  static final Path GPT2_5K = Path.of("src/test/resources/tokenizers/tiktoken-gpt2-5k.json");

  @TempDir Path dir;

  /** A vocabulary file of the 256 bytes and then {@code merged}, with {@code edit} applied. */
  Path vocabulary(List<byte[]> merged, Function<String, String> edit) throws IOException {
    StringBuilder json = new StringBuilder("[");
    List<byte[]> tokens = new ArrayList<>();
    for (int b = 0; b < 256; b++) {
      tokens.add(new byte[] {(byte) b});
    }
    tokens.addAll(merged);
    for (int i = 0; i < tokens.size(); i++) {
      json.append(i == 0 ? "" : ", ")
          .append("{\"rank\": ")
          .append(i)
          .append(", \"token_bytes\": \"")
          .append(Base64.getEncoder().encodeToString(tokens.get(i)))
          .append("\", \"token_str\": \"\"}");
    }
    Path file = dir.resolve("vocab.json");
    Files.writeString(file, edit.apply(json.append("]").toString()));
    return file;
  }

  static List<byte[]> bytes(String... tokens) {
    List<byte[]> out = new ArrayList<>();
    for (String t : tokens) {
      out.add(t.getBytes(StandardCharsets.UTF_8));
    }
    return out;
  }

  void assertBadFile(Function<String, String> edit, String message) throws IOException {
    Path file = vocabulary(bytes("ab", "abc"), edit);
    assertThatThrownBy(() -> TikTokenizer.load(file, "v2", 1258, 1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining(message);
  }

  @Test
  void rejectsBadFilesWithTheReason() throws IOException {
    assertBadFile(json -> "{\"not\": \"a list\"}", "must be a JSON list");
    assertBadFile(json -> json.substring(0, 100), "not JSON");
    assertBadFile(json -> json + " []", "not JSON");
    assertBadFile(
        json -> json.replace("\"token_str\": \"\"}, {\"rank\": 7,", "\"x\": 1}, {\"rank\": 7,"),
        "entry 6 has keys [rank, token_bytes, x]");
    assertBadFile(json -> json.replace("\"rank\": 5,", "\"rank\": 9,"), "entry 5 has rank 9");
    assertBadFile(json -> json.replace("\"rank\": 5,", "\"rank\": \"5\","), "entry 5 has rank");
    assertBadFile(
        json -> json.replaceFirst("\"token_bytes\": \"AQ==\"", "\"token_bytes\": \"Ag==\""),
        "the first 256 entries must be the bytes 0 to 255");
    assertBadFile(
        json -> json.replace("\"token_bytes\": \"YWJj\"", "\"token_bytes\": \"YWI=\""),
        "entries 256 and 257 are the same bytes");
    assertBadFile(
        json -> json.replace("\"token_bytes\": \"YWJj\"", "\"token_bytes\": \"YWJ\""),
        "token_bytes \"YWJ\" is not base64");
    assertBadFile(
        json -> json.replace("\"token_bytes\": \"YWJj\"", "\"token_bytes\": 7"), "is not base64");
    assertBadFile(
        json -> json.replace("}, {\"rank\": 4,", "}, [4], {\"rank\": 4,"),
        "entry 4 is not an object");
  }

  @Test
  void needsEnoughEntriesForTheVocabularySize() throws IOException {
    Path file = vocabulary(bytes("ab", "abc"), json -> json);
    assertThatThrownBy(() -> TikTokenizer.load(file, "v2", 1300, 1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has 258 tokens, vocab-size minus num-special-tokens needs 300");
    // the entries past vocab-size are not used, but must still be JSON
    assertThat(TikTokenizer.load(file, "v2", 1257, 1000).tokenize("abc"))
        .containsExactly(1000 + 256, 1000 + 'c');
  }

  @Test
  void rejectsBadOptions() throws IOException {
    Path file = vocabulary(bytes("ab"), json -> json);
    assertThatThrownBy(() -> TikTokenizer.load(file, "v3", 1257, 1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the tiktoken pattern must be v1 or v2, got 'v3'");
    assertThatThrownBy(() -> TikTokenizer.load(file, "v2", 1000, 1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("7 <= num-special-tokens < vocab-size");
    assertThatThrownBy(() -> TikTokenizer.load(file, "v2", 100, 6))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("num-special-tokens=6");
    Path txt = Files.copy(file, dir.resolve("vocab.txt"));
    assertThatThrownBy(() -> TikTokenizer.load(txt, "v2", 1257, 1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be a .json file");
  }

  @Test
  void specialTokensInTheTextAreTheirIds() {
    TextTokenizer t = TikTokenizer.load(GPT2_5K, "v2", 6000, 1000);
    assertThat(t.tokenize("<s>")).containsExactly(1);
    assertThat(t.tokenize("<unk><sep><SPECIAL_7><SPECIAL_999>")).containsExactly(0, 6, 7, 999);
    // not special tokens: leading zero, below 7, at or past num-special-tokens
    for (String s : new String[] {"<SPECIAL_07>", "<SPECIAL_6>", "<SPECIAL_1000>", "<S>"}) {
      assertThat(t.tokenize(s)).doesNotContain(7L, 6L, 0L).hasSizeGreaterThan(1);
    }
    long[] ids = t.tokenize("a <s>b");
    assertThat(ids[ids.length - 2]).isEqualTo(1);
    assertThat(t.detokenize(ids)).isEqualTo("a b");
  }

  @Test
  void detokenizeDropsSpecialIdsAndRejectsIdsPastTheVocabulary() {
    TextTokenizer t = TikTokenizer.load(GPT2_5K, "v2", 6000, 1000);
    long[] hello = t.tokenize("héllo");
    long[] mixed = new long[hello.length + 3];
    mixed[0] = 999;
    mixed[1] = -5;
    System.arraycopy(hello, 0, mixed, 2, hello.length);
    mixed[mixed.length - 1] = 2;
    assertThat(t.detokenize(mixed)).isEqualTo("héllo");
    assertThat(t.eod()).isEqualTo(2);
    assertThat(t.generatedText(new long[] {1000 + 'a', 2, 2}, true)).isEqualTo("a");
    // half of "é" is replaced
    assertThat(t.detokenize(new long[] {1000 + 0xc3, 1000 + 'a'})).isEqualTo("\uFFFDa");
    assertThatThrownBy(() -> t.detokenize(new long[] {1000 + 'a', 6000}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("id 6000 is outside the vocabulary (size 6000)");
  }

  @Test
  void loneSurrogatesBecomeReplacementCharacters() {
    TextTokenizer t = TikTokenizer.load(GPT2_5K, "v2", 6000, 1000);
    assertThat(t.tokenize("a\uD800b")).containsExactly(t.tokenize("a\uFFFDb"));
    assertThat(t.tokenize("\uDC00")).containsExactly(t.tokenize("\uFFFD"));
  }

  @Test
  void aByteMissingFromATruncatedVocabularyIsAnError() throws IOException {
    Path file = vocabulary(bytes("ab"), json -> json);
    TextTokenizer t = TikTokenizer.load(file, "v2", 1000 + 'z', 1000); // bytes 0..'y'
    assertThat(t.tokenize("yy")).containsExactly(1000 + 'y', 1000 + 'y');
    assertThatThrownBy(() -> t.tokenize("yz"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the byte 0x7a is not in the vocabulary");
  }

  /**
   * The heap-based merge against tiktoken's quadratic {@code _byte_pair_merge} written out plainly,
   * on random vocabularies over few letters (many equal pairs) and pieces up to 3,000 bytes: both
   * must merge the leftmost lowest-ranked pair every time.
   */
  @Test
  void bytePairMergeIsTiktokens() throws IOException {
    Random random = new Random(5);
    for (int round = 0; round < 8; round++) {
      List<byte[]> merged = new ArrayList<>();
      Map<String, Integer> ranks = new HashMap<>();
      for (int b = 0; b < 256; b++) {
        ranks.put(String.valueOf((char) b), 1000 + b);
      }
      List<String> parts = new ArrayList<>(List.of("a", "b", "c"));
      while (merged.size() < 40) {
        String token =
            parts.get(random.nextInt(parts.size())) + parts.get(random.nextInt(parts.size()));
        if (token.length() <= 12 && !ranks.containsKey(token)) {
          ranks.put(token, 1256 + merged.size());
          merged.add(token.getBytes(StandardCharsets.ISO_8859_1));
          parts.add(token);
        }
      }
      Path file = vocabulary(merged, json -> json);
      TextTokenizer t = TikTokenizer.load(file, "v2", 1000 + 256 + merged.size(), 1000);
      for (int length : new int[] {2, 3, 17, 99, 100, 101, 499, 500, 777, 3000}) {
        StringBuilder text = new StringBuilder();
        double bias = random.nextDouble();
        for (int i = 0; i < length; i++) {
          text.append(random.nextDouble() < bias ? 'a' : (char) ('b' + random.nextInt(2)));
        }
        String piece = text.toString(); // lower-case letters only: one regex piece
        assertThat(t.tokenize(piece))
            .as("round %d, length %d", round, length)
            .containsExactly(quadraticMerge(piece, ranks));
      }
    }
  }

  /** tiktoken's {@code _byte_pair_merge} and {@code byte_pair_encode} (src/lib.rs). */
  static long[] quadraticMerge(String piece, Map<String, Integer> ranks) {
    Integer whole = ranks.get(piece);
    if (whole != null) {
      return new long[] {whole};
    }
    List<Integer> starts = new ArrayList<>();
    for (int i = 0; i <= piece.length(); i++) {
      starts.add(i);
    }
    while (true) {
      int best = -1;
      int bestRank = Integer.MAX_VALUE;
      for (int i = 0; i + 2 < starts.size(); i++) {
        Integer rank = ranks.get(piece.substring(starts.get(i), starts.get(i + 2)));
        if (rank != null && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) {
        break;
      }
      starts.remove(best + 1);
    }
    long[] ids = new long[starts.size() - 1];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = ranks.get(piece.substring(starts.get(i), starts.get(i + 1)));
    }
    return ids;
  }

  @Test
  void severalThreadsGetWhatOneThreadGets() throws Exception {
    TextTokenizer t = TikTokenizer.load(GPT2_5K, "v1", 6000, 1000);
    ConcurrencyCheck.sameIdsFromSeveralThreads(t);
  }
}
