package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BlockHasherTest {
  private static final Pattern CASE =
      Pattern.compile(
          "\"name\":\"([^\"]*)\",\"blockSize\":(\\d+),\"tokens\":\\[([^\\]]*)\\],"
              + "\"hashes\":\\[([^\\]]*)\\]");

  record Vector(String name, int blockSize, long[] tokens, long[] hashes) {}

  /** Reads hash-vectors/vectors.json, written by generate.py beside it with Python hashlib. */
  static List<Vector> vectors() throws IOException {
    List<Vector> out = new ArrayList<>();
    try (InputStream in = BlockHasherTest.class.getResourceAsStream("/hash-vectors/vectors.json");
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        Matcher m = CASE.matcher(line);
        if (m.find()) {
          out.add(
              new Vector(
                  m.group(1),
                  Integer.parseInt(m.group(2)),
                  parseLongs(m.group(3)),
                  parseLongs(m.group(4).replace("\"", ""))));
        }
      }
    }
    return out;
  }

  private static long[] parseLongs(String csv) {
    return csv.isEmpty()
        ? new long[0]
        : Arrays.stream(csv.split(",")).mapToLong(Long::parseLong).toArray();
  }

  @Test
  void matchesEveryPythonHashlibVector() throws IOException {
    List<Vector> vectors = vectors();
    assertThat(vectors).hasSizeGreaterThanOrEqualTo(20);
    for (Vector v : vectors) {
      BlockHasher hasher = new BlockHasher(v.blockSize());
      assertThat(hashesOf(hasher, v.tokens())).as(v.name()).containsExactly(v.hashes());
      // and again, to prove the reused buffers start clean
      assertThat(hashesOf(hasher, v.tokens())).as(v.name()).containsExactly(v.hashes());
    }
  }

  @Test
  void withAMemoMatchesEveryPythonHashlibVector() throws IOException {
    for (Vector v : vectors()) {
      BlockHasher hasher = new BlockHasher(v.blockSize(), 1 << 20);
      assertThat(hashesOf(hasher, v.tokens())).as(v.name()).containsExactly(v.hashes());
      // the second time every block comes from the memo
      assertThat(hashesOf(hasher, v.tokens())).as(v.name()).containsExactly(v.hashes());
    }
  }

  @Test
  void withATableOfLatestPromptsMatchesEveryPythonHashlibVector() throws IOException {
    for (Vector v : vectors()) {
      BlockHasher hasher = new BlockHasher(v.blockSize(), 0, 0, 1 << 20);
      assertThat(hashesOf(hasher, v.tokens())).as(v.name()).containsExactly(v.hashes());
      long before = hasher.reusedBlocks();
      // the second time the leading blocks the table keeps come from it
      assertThat(hashesOf(hasher, v.tokens())).as(v.name()).containsExactly(v.hashes());
      assertThat(hasher.reusedBlocks() - before)
          .as(v.name())
          .isEqualTo(Math.min(v.hashes().length, BlockHasher.LATEST_BLOCKS));
    }
  }

  @Test
  void aMemoAnswersExactlyAsHashingDoesWhateverItHolds() {
    SplittableRandom rnd = new SplittableRandom(11);
    long[][] prefixes = prefixes(rnd, 4);
    BlockHasher plain = new BlockHasher(4);
    // one slot, a few, and room for everything: replaced entries, shared slots, and hits
    for (int memoBytes : new int[] {200, 1000, 1 << 20}) {
      BlockHasher memo = new BlockHasher(4, memoBytes);
      for (int i = 0; i < 2000; i++) {
        long[] prompt = extended(prefixes[rnd.nextInt(prefixes.length)], rnd);
        if (rnd.nextInt(4) == 0 && prompt.length > 0) {
          prompt[rnd.nextInt(prompt.length)] ^= 1; // a branch anywhere, a token off by one
        }
        assertThat(hashesOf(memo, prompt))
            .as("memo of %d bytes, prompt %d", memoBytes, i)
            .containsExactly(hashesOf(plain, prompt));
      }
    }
  }

  @Test
  void recentPromptsAnswerExactlyAsHashingDoes() {
    SplittableRandom rnd = new SplittableRandom(12);
    long[][] prefixes = prefixes(rnd, 6);
    BlockHasher plain = new BlockHasher(4);
    // a budget under any prompt, a few prompts, all of them; with and without a memo
    for (int budget : new int[] {3, 60, 1 << 20}) {
      for (int memoBytes : new int[] {0, 1000}) {
        BlockHasher recent = new BlockHasher(4, memoBytes, budget);
        long[] previous = new long[0];
        for (int i = 0; i < 3000; i++) {
          long[] prompt;
          if (rnd.nextInt(4) == 0) { // the next turn of the last prompt
            prompt = extended(previous, rnd);
          } else {
            prompt = extended(prefixes[rnd.nextInt(prefixes.length)], rnd);
            if (rnd.nextInt(4) == 0) {
              prompt[rnd.nextInt(prompt.length)] ^= 1; // a branch anywhere
            }
          }
          previous = prompt;
          int blocks = rnd.nextInt(prompt.length / 4 + 1); // as blocksToHash may cut them
          assertThat(hashesOf(recent, prompt, blocks))
              .as("budget %d, memo of %d bytes, prompt %d", budget, memoBytes, i)
              .containsExactly(hashesOf(plain, prompt, blocks));
        }
        if (budget == 3) {
          assertThat(recent.reusedBlocks()).isZero(); // no prompt with a block fits
        } else {
          assertThat(recent.reusedBlocks()).isGreaterThan(1000);
        }
      }
    }
  }

  @Test
  void latestPromptsAnswerExactlyAsHashingDoes() {
    SplittableRandom rnd = new SplittableRandom(13);
    // prefixes of 1 to 89 blocks of 2 tokens: the longest longer than a slot keeps
    long[][] prefixes = new long[6][];
    for (int i = 0; i < prefixes.length; i++) {
      prefixes[i] = rnd.longs(rnd.nextInt(1, 30) + i * 30, 0, 5).toArray();
    }
    BlockHasher plain = new BlockHasher(2);
    // one slot for every first block (450 longs with 2-token blocks), eight; with and without a
    // memo
    for (int slots : new int[] {1, 8}) {
      for (int memoBytes : new int[] {0, 1000}) {
        BlockHasher latest = new BlockHasher(2, memoBytes, 0, slots * 450 * Long.BYTES + 7);
        for (int i = 0; i < 3000; i++) {
          long[] prompt = extended(prefixes[rnd.nextInt(prefixes.length)], rnd);
          if (rnd.nextInt(4) == 0) {
            prompt[rnd.nextInt(prompt.length)] ^= 1; // a branch anywhere, the first block too
          }
          int blocks = rnd.nextInt(prompt.length / 2 + 1); // as blocksToHash may cut them
          assertThat(hashesOf(latest, prompt, blocks))
              .as("%d slots, memo of %d bytes, prompt %d", slots, memoBytes, i)
              .containsExactly(hashesOf(plain, prompt, blocks));
        }
        assertThat(latest.reusedBlocks()).as("%d slots", slots).isGreaterThan(1000);
      }
    }
  }

  @Test
  void aPromptEntersTheTableOfLatestPromptsOnceItsFirstBlockIsInTheMemo() {
    long[] a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    long[] b = {9, 9, 9, 9, 5, 6, 7, 8};
    // a memo of room for everything, a table of one slot (2 + 64 x 9 longs with 4-token blocks)
    BlockHasher hasher = new BlockHasher(4, 1 << 20, 0, 578 * Long.BYTES);
    long[] expected = hashesOf(new BlockHasher(4), a);
    assertThat(hashesOf(hasher, a)).containsExactly(expected); // first seen: the memo learns it
    assertThat(hashesOf(hasher, a)).containsExactly(expected); // from the memo: enters the table
    assertThat(hasher.reusedBlocks()).isZero();
    assertThat(hashesOf(hasher, a)).containsExactly(expected); // from the table
    assertThat(hasher.reusedBlocks()).isEqualTo(3);
    hashesOf(hasher, b); // a first block never seen does not take the slot
    assertThat(hashesOf(hasher, a)).containsExactly(expected);
    assertThat(hasher.reusedBlocks()).isEqualTo(6);
  }

  @Test
  void blocksThatShareASlotAreToldApartByTheirTokensAndTheirParent() {
    BlockHasher plain = new BlockHasher(4);
    BlockHasher memo = new BlockHasher(4, 200); // one slot for everything
    // same tokens in another order (same sum), all zeros (an empty slot is zeros), same block
    // after another parent
    long[][] prompts = {
      {1, 2, 3, 4}, {4, 3, 2, 1}, {0, 0, 0, 0}, {0, 0, 0, 0, 1, 2, 3, 4}, {9, 9, 9, 9, 1, 2, 3, 4}
    };
    for (int round = 0; round < 2; round++) {
      for (long[] prompt : prompts) {
        assertThat(hashesOf(memo, prompt))
            .as(Arrays.toString(prompt))
            .containsExactly(hashesOf(plain, prompt));
      }
    }
    assertThat(hashesOf(memo, prompts[0])).doesNotContain(hashesOf(memo, prompts[1]));
  }

  @Test
  void hashesAreInThePositiveInt64Range() throws IOException {
    for (Vector v : vectors()) {
      for (long h : hashesOf(new BlockHasher(v.blockSize()), v.tokens())) {
        assertThat(h).isBetween(1L, Long.MAX_VALUE);
      }
    }
  }

  @Test
  void partialBlockIsIgnored() {
    BlockHasher hasher = new BlockHasher(4);
    long[] eleven = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

    assertThat(hashesOf(hasher, Arrays.copyOf(eleven, 3))).isEmpty();
    assertThat(hashesOf(hasher, eleven)).hasSize(2);
    assertThat(hashesOf(hasher, eleven))
        .containsExactly(hashesOf(hasher, Arrays.copyOf(eleven, 8)));
  }

  @Test
  void hashesChainOnEveryEarlierToken() {
    BlockHasher hasher = new BlockHasher(4);
    long[] a = hashesOf(hasher, new long[] {1, 2, 3, 4, 5, 6, 7, 8});
    long[] b = hashesOf(hasher, new long[] {9, 8, 7, 6, 5, 6, 7, 8});
    long[] c = hashesOf(hasher, new long[] {1, 2, 3, 4, 5, 6, 7, 9});

    assertThat(a[0]).isNotEqualTo(b[0]);
    assertThat(a[1]).as("same second block, different first").isNotEqualTo(b[1]);
    assertThat(a[0]).as("same first block").isEqualTo(c[0]);
    assertThat(a[1]).isNotEqualTo(c[1]);
  }

  @Test
  void hashesOnlyTheBlocksAskedForIntoItsOwnGrowingArray() {
    BlockHasher hasher = new BlockHasher(2);
    long[] tokens = {1, 2, 3, 4, 5, 6};

    assertThat(hasher.hash(tokens, 2)).isEqualTo(2);
    long[] two = Arrays.copyOf(hasher.hashes(), 2);
    assertThat(two).containsExactly(hashesOf(hasher, new long[] {1, 2, 3, 4}));
    long[] many = new long[2 * 100];
    assertThat(hasher.hash(many, 100)).isEqualTo(100);
    assertThat(hasher.hashes()).hasSizeGreaterThanOrEqualTo(100);
    assertThat(hasher.blockSize()).isEqualTo(2);
  }

  @Test
  void badArgumentsAreNamed() {
    BlockHasher hasher = new BlockHasher(2);

    assertThatThrownBy(() -> new BlockHasher(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 0");
    assertThatThrownBy(() -> hasher.hash(new long[5], 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("3 blocks of 2 tokens")
        .hasMessageContaining("array of 5");
    assertThatThrownBy(() -> hasher.hash(new long[4], -1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hasher.hash(null, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new BlockHasher(2, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memo size must not be negative, got -1");
    assertThatThrownBy(() -> new BlockHasher(2, 0, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("recent prompt tokens must not be negative, got -1");
    assertThatThrownBy(() -> new BlockHasher(2, 0, 0, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("latest prompts' size must not be negative, got -1");
    assertThatThrownBy(() -> new BlockHasher(2, 0, 10, 1 << 20))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("recent prompts or a table of latest prompts, not both");
  }

  /** {@code count} random prefixes of 1 to 39 tokens. */
  private static long[][] prefixes(SplittableRandom rnd, int count) {
    long[][] prefixes = new long[count][];
    for (int i = 0; i < count; i++) {
      prefixes[i] = rnd.longs(rnd.nextInt(1, 40), 0, 5).toArray();
    }
    return prefixes;
  }

  /** {@code prefix} and 0 to 11 random tokens after it. */
  private static long[] extended(long[] prefix, SplittableRandom rnd) {
    long[] prompt = Arrays.copyOf(prefix, prefix.length + rnd.nextInt(0, 12));
    for (int t = prefix.length; t < prompt.length; t++) {
      prompt[t] = rnd.nextLong(0, 5); // few distinct tokens: blocks often repeat or nearly do
    }
    return prompt;
  }

  /** Every complete block's hash of {@code tokens}, in a new array. */
  static long[] hashesOf(BlockHasher hasher, long[] tokens) {
    return hashesOf(hasher, tokens, tokens.length / hasher.blockSize());
  }

  /** The hashes of the first {@code blocks} blocks of {@code tokens}, in a new array. */
  static long[] hashesOf(BlockHasher hasher, long[] tokens, int blocks) {
    int n = hasher.hash(tokens, blocks); // first: it may replace the array hashes() returns
    return Arrays.copyOf(hasher.hashes(), n);
  }
}
