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
  }

  /** Every complete block's hash of {@code tokens}, in a new array. */
  static long[] hashesOf(BlockHasher hasher, long[] tokens) {
    return Arrays.copyOf(hasher.hashes(), hasher.hash(tokens, tokens.length / hasher.blockSize()));
  }
}
