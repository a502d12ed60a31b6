package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.dpcoord.routing.BlockHasher;
import io.dpcoord.sim.replay.TraceException;
import io.dpcoord.sim.simulate.Requests.Req;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RoutingTraceTest {
  private static final Path PARITY_TRACE =
      Path.of("..", "coordinator-routing", "src", "test", "resources", "parity", "trace.jsonl.gz");

  @TempDir Path dir;

  private Path write(String... lines) throws IOException {
    Path f = dir.resolve("trace.jsonl");
    Files.writeString(f, String.join("\n", lines) + "\n");
    return f;
  }

  private static long[] tokens(long from, int count) {
    return LongStream.range(from, from + count).toArray();
  }

  private static String submit(long id, long[] tokens, String extra) {
    return "{\"op\":\"submit\",\"id\":"
        + id
        + ",\"tokens\":["
        + Arrays.stream(tokens).mapToObj(Long::toString).collect(Collectors.joining(","))
        + "]"
        + extra
        + "}";
  }

  private static long[] megatronHashes(long[] tokens, int blockSize) {
    BlockHasher h = new BlockHasher(blockSize);
    int n = h.hash(tokens, tokens.length / blockSize);
    return Arrays.copyOf(h.hashes(), n);
  }

  @Test
  void hashesPromptsAsTheServersBlockHasherDoes() throws Exception {
    long[] a = tokens(1, 40);
    long[] b = tokens(1, 16);
    long[] c = tokens(100, 15);
    Path f = write(submit(1, a, ""), submit(2, b, ""), submit(3, c, ""));

    RoutingTrace t = RoutingTrace.read(f, 16, 250_000_000L, 64, false);

    assertThat(t.blockSize()).isEqualTo(16);
    assertThat(Requests.all(t))
        .containsExactly(
            Req.of(0, 40, 64, megatronHashes(a, 16)),
            Req.of(250_000_000L, 16, 64, megatronHashes(b, 16)),
            Req.of(500_000_000L, 15, 64));
    assertThat(megatronHashes(a, 16)).hasSize(2).startsWith(megatronHashes(b, 16));
  }

  @Test
  void honoursTimeAndOutputFieldsAndCountsTheOtherOps() throws Exception {
    Path f =
        write(
            submit(1, tokens(0, 8), ",\"time_ms\":5"),
            "{\"op\":\"complete\",\"id\":1}",
            "{\"op\":\"remove\",\"rank\":3}",
            submit(2, tokens(0, 8), ",\"time_ms\":7.5,\"output_tokens\":9"),
            "{\"op\":\"add\",\"rank\":8}",
            "{\"op\":\"epoch\",\"value\":2}",
            "{\"op\":\"advance\",\"ms\":500}",
            submit(3, tokens(0, 8), ""));

    RoutingTrace t = RoutingTrace.read(f, 4, 1_000_000L, 128, false);

    assertThat(t.size()).isEqualTo(3);
    assertThat(t.ignoredOps()).isEqualTo(5);
    long[] h = megatronHashes(tokens(0, 8), 4);
    assertThat(Requests.all(t))
        .containsExactly(
            Req.of(5_000_000L, 8, 128, h),
            Req.of(7_500_000L, 8, 9, h),
            Req.of(8_500_000L, 8, 128, h));
  }

  @Test
  void readsTheParityFixtureWithTheDefaults() throws Exception {
    RoutingTrace t = RoutingTrace.read(PARITY_TRACE, false);

    assertThat(t.size()).isEqualTo(2000);
    assertThat(t.ignoredOps()).isEqualTo(2001);
    assertThat(t.blockSize()).isEqualTo(16);
    List<Req> all = Requests.all(t);
    assertThat(all.get(1999).arrivalNanos()).isEqualTo(1999 * 100_000_000L);
    assertThat(all).allSatisfy(r -> assertThat(r.outputTokens()).isEqualTo(128));
    assertThat(Requests.concurrently(t)).allSatisfy(seq -> assertThat(seq).isEqualTo(all));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"op\":\"submit\",\"id\":4,\"tokens\":[1,2 | malformed JSON",
        "{\"id\":4,\"tokens\":[1,2]} | missing field 'op'",
        "{\"op\":\"fork\",\"id\":4} | unknown op 'fork'",
        "{\"op\":\"submit\",\"tokens\":[1,2]} | submit needs field 'id'",
        "{\"op\":\"submit\",\"id\":4} | submit needs field 'tokens'",
        "{\"op\":\"submit\",\"id\":4,\"tokens\":[]} | submit has no tokens",
        "{\"op\":\"submit\",\"id\":4,\"text\":\"hi\"} | submit has a text prompt",
        "{\"op\":\"submit\",\"id\":4,\"tokens\":[1,\"a\"]} | 'tokens' must hold int64 integers",
        "{\"op\":\"submit\",\"id\":\"4\",\"tokens\":[1]} | field 'id' must be an int64 integer, found \"4\"",
        "{\"op\":\"submit\",\"id\":4,\"tokens\":[1],\"time_ms\":-1} | time_ms must be >= 0",
        "{\"op\":\"submit\",\"id\":4,\"tokens\":[1],\"time_ms\":\"now\"} | 'time_ms' must be a number",
        "{\"op\":\"submit\",\"id\":4,\"tokens\":[1],\"time_ms\":2} | time_ms 2 is before the previous"
            + " submit's arrival at 3.0 ms",
        "{\"op\":\"submit\",\"id\":4,\"tokens\":[1],\"output_tokens\":0}"
            + " | 'output_tokens' must be an integer >= 1, got 0",
        "{\"op\":7} | field 'op' must be a string",
      })
  void aBadLineStopsTheReadingNamingItsNumber(String bad, String reason) throws IOException {
    Path f =
        write(
            submit(1, tokens(0, 4), ",\"time_ms\":3"),
            "",
            "{\"op\":\"complete\",\"id\":1}",
            bad,
            submit(5, tokens(0, 4), ""));

    TraceException e =
        catchThrowableOfType(
            TraceException.class, () -> RoutingTrace.read(f, 16, 1_000_000L, 8, false));

    assertThat(e).isNotNull();
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage()).startsWith("line 4: ").contains(reason);
  }

  @Test
  void skippingCountsBadLines() throws Exception {
    Path f =
        write(
            submit(1, tokens(0, 4), ""),
            "{\"op\":\"submit\"}",
            "{\"op\":\"complete\",\"id\":1}",
            "{",
            submit(2, tokens(0, 4), ""));

    RoutingTrace t = RoutingTrace.read(f, 16, 1_000_000L, 8, true);

    assertThat(t.size()).isEqualTo(2);
    assertThat(t.skipped()).isEqualTo(2);
    assertThat(t.ignoredOps()).isEqualTo(1);
    assertThat(t.skippedReasons()).hasSize(2);
    assertThat(t.skippedReasons().get(0)).isEqualTo("line 2: submit needs field 'id'");
    assertThat(t.skippedReasons().get(1)).startsWith("line 4: malformed JSON: ");
    assertThat(Requests.all(t)).extracting(Req::arrivalNanos).containsExactly(0L, 1_000_000L);
  }
}
