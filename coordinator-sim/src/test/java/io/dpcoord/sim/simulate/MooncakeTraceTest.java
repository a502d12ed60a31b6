package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.dpcoord.sim.replay.TraceException;
import io.dpcoord.sim.simulate.Requests.Req;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MooncakeTraceTest {
  static final Path SHARED =
      Path.of("src", "test", "resources", "traces", "mooncake_synthetic_trace.jsonl.gz");

  private static final String GOOD_1 =
      "{\"timestamp\": 100, \"input_length\": 1000, \"output_length\": 5, \"hash_ids\": [7, 8]}";
  private static final String GOOD_2 =
      "{\"timestamp\": 150, \"input_length\": 1024, \"output_length\": 1, \"hash_ids\": [7, 9]}";

  @TempDir Path dir;

  private Path write(String name, String... lines) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, String.join("\n", lines) + "\n");
    return f;
  }

  @Test
  void readsEachLineAsARequestWithItsCompleteBlocksOnly() throws Exception {
    Path f =
        write(
            "t.jsonl",
            GOOD_1,
            GOOD_2,
            "",
            "{\"timestamp\": 150, \"input_length\": 13, \"output_length\": 3, \"hash_ids\": [10]}",
            "{\"timestamp\": 2100.5, \"input_length\": 1536, \"output_length\": 2,"
                + " \"hash_ids\": [7, 9, 11], \"extra\": {\"a\": [1]}}");

    MooncakeTrace t = MooncakeTrace.read(f, false);

    assertThat(t.blockSize()).isEqualTo(512);
    assertThat(t.name()).isEqualTo("t.jsonl");
    assertThat(t.size()).isEqualTo(4);
    assertThat(t.skipped()).isZero();
    // 1000 tokens: 1 complete block of 2 ids; 1024: 2 of 2; 13: none; 1536: 3 of 3
    assertThat(Requests.all(t))
        .containsExactly(
            Req.of(0, 1000, 5, 7),
            Req.of(50_000_000L, 1024, 1, 7, 9),
            Req.of(50_000_000L, 13, 3),
            Req.of(2_000_500_000L, 1536, 2, 7, 9, 11));
  }

  @Test
  void acceptsDynamosFieldNames() throws Exception {
    Path f =
        write(
            "dynamo.jsonl",
            "{\"session_id\": \"s1\", \"created_time\": 5, \"input_tokens\": 600,"
                + " \"output_tokens\": 2, \"hash_ids\": [1, 2]}",
            "{\"session_id\": 4, \"created_time\": 9, \"input_tokens\": 100,"
                + " \"output_tokens\": 7, \"hash_ids\": [3]}");

    assertThat(Requests.all(MooncakeTrace.read(f, false)))
        .containsExactly(Req.of(0, 600, 2, 1), Req.of(4_000_000L, 100, 7));
  }

  @Test
  void readsGzippedTracesByTheirMagicBytes() throws Exception {
    Path plain = write("plain.jsonl", GOOD_1, GOOD_2);
    Path gz = dir.resolve("named-plain.jsonl"); // the name does not decide
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(Files.readAllBytes(plain));
    }

    assertThat(Requests.all(MooncakeTrace.read(gz, false)))
        .isEqualTo(Requests.all(MooncakeTrace.read(plain, false)))
        .hasSize(2);
  }

  @Test
  void keepsUint64HashIdsAsTheir64BitsAlsoAfterSmallOnes() throws Exception {
    Path f =
        write(
            "u64.jsonl",
            GOOD_1,
            "{\"timestamp\": 100, \"input_length\": 1024, \"output_length\": 1,"
                + " \"hash_ids\": [18446744073709551615, 9223372036854775808]}",
            GOOD_2);

    assertThat(Requests.all(MooncakeTrace.read(f, false)))
        .containsExactly(
            Req.of(0, 1000, 5, 7),
            Req.of(0, 1024, 1, -1L, Long.MIN_VALUE),
            Req.of(50_000_000L, 1024, 1, 7, 9));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"timestamp\": 300, \"input_length\": 10 | malformed JSON",
        "[1, 2] | expected a JSON object",
        "{\"input_length\": 10, \"output_length\": 1, \"hash_ids\": [1]} | missing field 'timestamp'",
        "{\"timestamp\": 300, \"output_length\": 1, \"hash_ids\": [1]} | missing field 'input_length'",
        "{\"timestamp\": 300, \"input_length\": 10, \"hash_ids\": [1]} | missing field 'output_length'",
        "{\"timestamp\": 300, \"input_length\": 10, \"output_length\": 1} | missing field 'hash_ids'",
        "{\"timestamp\": 300, \"input_length\": -5, \"output_length\": 1, \"hash_ids\": []}"
            + " | 'input_length' must be an integer >= 1, got -5",
        "{\"timestamp\": 300, \"input_length\": 10.5, \"output_length\": 1, \"hash_ids\": [1]}"
            + " | 'input_length' must be an integer >= 1, found 10.5",
        "{\"timestamp\": 300, \"input_length\": \"10\", \"output_length\": 1, \"hash_ids\": [1]}"
            + " | 'input_length' must be an integer >= 1, found \"10\"",
        "{\"timestamp\": 300, \"input_length\": 10, \"output_length\": 0, \"hash_ids\": [1]}"
            + " | 'output_length' must be an integer >= 1, got 0",
        "{\"timestamp\": 300, \"input_length\": 1000, \"output_length\": 1, \"hash_ids\": [1]}"
            + " | 'hash_ids' has 1 ids but input_length 1000 needs ceil(1000 / 512) = 2",
        "{\"timestamp\": 300, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": [1, 2]}"
            + " | 'hash_ids' has 2 ids but input_length 10 needs ceil(10 / 512) = 1",
        "{\"timestamp\": 300, \"input_length\": 600, \"output_length\": 1, \"hash_ids\": [1, \"x\"]}"
            + " | 'hash_ids' must hold integers, found \"x\" at index 1",
        "{\"timestamp\": 300, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": [1.5]}"
            + " | 'hash_ids' must hold integers, found 1.5 at index 0",
        "{\"timestamp\": 300, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": 1}"
            + " | 'hash_ids' must be an array of integers",
        "{\"timestamp\": 120, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": [1]}"
            + " | timestamp 120 is before the previous request's 150",
        "{\"timestamp\": \"x\", \"input_length\": 10, \"output_length\": 1, \"hash_ids\": [1]}"
            + " | 'timestamp' must be a number of ms",
        "{\"timestamp\": 300, \"created_time\": 300, \"input_length\": 10, \"output_length\": 1,"
            + " \"hash_ids\": [1]} | fields 'timestamp' and 'created_time' are aliases",
        "{\"timestamp\": 300, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": [1]} 7"
            + " | unexpected content after the JSON object",
      })
  void aBadLineStopsTheReadingNamingItsNumber(String bad, String reason) throws IOException {
    Path f = write("bad.jsonl", GOOD_1, "", GOOD_2, bad, GOOD_2);

    TraceException e =
        catchThrowableOfType(TraceException.class, () -> MooncakeTrace.read(f, false));

    assertThat(e).isNotNull();
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage()).startsWith("line 4: ").contains(reason);
  }

  @Test
  void skippingCountsBadLinesAndChecksTimeAgainstTheLastGoodOne() throws Exception {
    Path f =
        write(
            "skip.jsonl",
            GOOD_1,
            "not json",
            GOOD_2,
            "{\"timestamp\": 120, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": [1]}",
            "{\"timestamp\": 300, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": []}",
            "{\"timestamp\": 160, \"input_length\": 10, \"output_length\": 4, \"hash_ids\": [2]}");

    MooncakeTrace t = MooncakeTrace.read(f, true);

    assertThat(t.skipped()).isEqualTo(3);
    assertThat(t.skippedReasons()).hasSize(3);
    assertThat(t.skippedReasons().get(0)).startsWith("line 2: malformed JSON");
    assertThat(t.skippedReasons().get(1)).startsWith("line 4: timestamp 120 is before");
    assertThat(t.skippedReasons().get(2)).startsWith("line 5: 'hash_ids' has 0 ids");
    assertThat(Requests.all(t))
        .containsExactly(
            Req.of(0, 1000, 5, 7), Req.of(50_000_000L, 1024, 1, 7, 9), Req.of(60_000_000L, 10, 4));
  }

  @Test
  void keepsTheReasonsOfTheFirstFiveSkippedLines() throws Exception {
    String[] lines = new String[12];
    for (int i = 0; i < lines.length; i++) {
      lines[i] = i % 2 == 0 ? GOOD_1 : "{}";
    }

    MooncakeTrace t = MooncakeTrace.read(write("many.jsonl", lines), true);

    assertThat(t.size()).isEqualTo(6);
    assertThat(t.skipped()).isEqualTo(6);
    assertThat(t.skippedReasons())
        .containsExactly(
            "line 2: missing field 'timestamp' (or 'created_time')",
            "line 4: missing field 'timestamp' (or 'created_time')",
            "line 6: missing field 'timestamp' (or 'created_time')",
            "line 8: missing field 'timestamp' (or 'created_time')",
            "line 10: missing field 'timestamp' (or 'created_time')");
  }

  @Test
  void loadsMooncakesPublishedSyntheticTrace() throws Exception {
    MooncakeTrace t = MooncakeTrace.read(SHARED, false);

    assertThat(t.size()).isEqualTo(3993);
    List<Req> all = Requests.all(t);
    assertThat(all).hasSize(3993);
    assertThat(all.get(0)).isEqualTo(Req.of(0, 40160, 6, range(0, 78)));
    // its last line: timestamp 1022025 ms after the first
    assertThat(all.get(3992).arrivalNanos()).isEqualTo(1_022_025_000_000L);
    for (int i = 0; i < all.size(); i++) {
      Req r = all.get(i);
      assertThat(r.blocks()).hasSize(r.inputTokens() / 512);
      if (i > 0) {
        assertThat(r.arrivalNanos()).isGreaterThanOrEqualTo(all.get(i - 1).arrivalNanos());
      }
    }
  }

  @Test
  void isReplayableFromSeveralThreadsAtOnce() throws Exception {
    MooncakeTrace t = MooncakeTrace.read(SHARED, false);

    List<List<Req>> both = Requests.concurrently(t);

    assertThat(both.get(0)).hasSize(3993).isEqualTo(both.get(1)).isEqualTo(Requests.all(t));
  }

  @Test
  void aTraceWithHashIdsForOtherBlockSizesReadsThem() throws Exception {
    Path f =
        write(
            "b16.jsonl",
            "{\"timestamp\": 0, \"input_length\": 40, \"output_length\": 1, \"hash_ids\": [1,2,3]}");

    MooncakeTrace t = MooncakeTrace.read(f, 16, false);

    assertThat(t.blockSize()).isEqualTo(16);
    assertThat(Requests.all(t)).containsExactly(Req.of(0, 40, 1, 1, 2));
  }

  private static long[] range(int from, int toExclusive) {
    long[] a = new long[toExclusive - from];
    for (int i = 0; i < a.length; i++) {
      a[i] = from + i;
    }
    return a;
  }
}
