package io.dpcoord.sim.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class TraceReplayTest {
  private static final Path PARITY =
      Path.of("..", "coordinator-routing", "src", "test", "resources", "parity");

  private static RouterConfig.Builder config() {
    return RouterConfig.builder();
  }

  /** Replays {@code lines} with 4 ranks and returns the output lines. */
  private static List<String> replay(RouterConfig config, String... lines)
      throws IOException, TraceException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new TraceReplay(config, 4).run(input(String.join("\n", lines)), out);
    return out.toString(StandardCharsets.UTF_8).lines().collect(Collectors.toList());
  }

  private static InputStream input(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String submit(long id, int tokens, int first) {
    return "{\"op\":\"submit\",\"id\":"
        + id
        + ",\"tokens\":["
        + IntStream.range(first, first + tokens)
            .mapToObj(Integer::toString)
            .collect(Collectors.joining(","))
        + "]}";
  }

  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"LONGEST_PREFIX", "FIRST_PREFIX_BLOCK", "LOAD_BALANCED"})
  void reproducesTheParityFixture(Policy policy) throws IOException, TraceException {
    RouterConfig c = config().policy(policy).alpha(0.5).maxRequests(16).blockSize(16).build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream trace =
        new GZIPInputStream(Files.newInputStream(PARITY.resolve("trace.jsonl.gz")))) {
      assertThat(new TraceReplay(c, 4).run(trace, out)).isEqualTo(2000);
    }
    List<String> got = out.toString(StandardCharsets.UTF_8).lines().collect(Collectors.toList());
    List<String> expected;
    Path decisions = PARITY.resolve("decisions-" + policy.cliName() + ".jsonl.gz");
    try (InputStream in = new GZIPInputStream(Files.newInputStream(decisions))) {
      expected =
          new String(in.readAllBytes(), StandardCharsets.UTF_8)
              .lines()
              .collect(Collectors.toList());
    }
    assertThat(got).hasSameSizeAs(expected);
    Pattern idAndRank = Pattern.compile("\\{\"id\":(\\d+),\"rank\":(\\d+)");
    for (int i = 0; i < got.size(); i++) {
      Matcher m = idAndRank.matcher(got.get(i));
      assertThat(m.find()).isTrue();
      assertThat("{\"id\":" + m.group(1) + ",\"rank\":" + m.group(2) + "}")
          .as("line %d under %s", i + 1, policy.cliName())
          .isEqualTo(expected.get(i));
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"LONGEST_PREFIX", "FIRST_PREFIX_BLOCK", "ROUND_ROBIN"})
  void reproducesTheMegatron018Fixture(Policy policy) throws IOException, TraceException {
    RouterConfig c =
        config()
            .release(MegatronRelease.V0_18)
            .policy(policy)
            .alpha(0.5)
            .maxRequests(8)
            .blockSize(16)
            .build();
    Path dir = PARITY.resolveSibling("parity-0.18");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream trace =
        new GZIPInputStream(
            Files.newInputStream(dir.resolve("trace-" + policy.cliName() + ".jsonl.gz")))) {
      new TraceReplay(c, 4).run(trace, out);
    }
    Pattern idRankMatch = Pattern.compile("\\{\"id\":(\\d+),\"rank\":(\\d+),\"match\":(\\d+),");
    List<String> got =
        out.toString(StandardCharsets.UTF_8).lines().map(l -> firstGroups(idRankMatch, l)).toList();
    List<String> expected;
    Path decisions = dir.resolve("decisions-" + policy.cliName() + ".jsonl.gz");
    try (InputStream in = new GZIPInputStream(Files.newInputStream(decisions))) {
      expected =
          new String(in.readAllBytes(), StandardCharsets.UTF_8)
              .lines()
              .map(l -> firstGroups(idRankMatch, l))
              .toList();
    }
    assertThat(expected).hasSizeGreaterThan(1800);
    assertThat(got).as(policy.cliName()).containsExactlyElementsOf(expected);
  }

  private static String firstGroups(Pattern p, String line) {
    Matcher m = p.matcher(line);
    assertThat(m.find()).as(line).isTrue();
    return m.group(1) + " " + m.group(2) + " " + m.group(3);
  }

  @Test
  void roundRobinPolicyTakesTurnsAndStillRecordsTheHashes() throws Exception {
    TraceReplay replay =
        new TraceReplay(
            config().release(MegatronRelease.V0_18).policy(Policy.ROUND_ROBIN).build(), 4);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String trace =
        IntStream.range(1, 6).mapToObj(i -> submit(i, 48, 0)).collect(Collectors.joining("\n"));

    replay.run(input(trace), out);

    assertThat(out.toString(StandardCharsets.UTF_8).lines())
        .extracting(TraceReplayTest::rank)
        .containsExactly(0, 1, 2, 3, 0);
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("\"hit\":true");
    assertThat(replay.router().indexSize()).isEqualTo(3);
  }

  @Test
  void writesOneLinePerSubmitWithLabelMatchHitAndStale() throws Exception {
    List<String> out =
        replay(
            config().build(),
            submit(7, 40, 1),
            "{\"op\":\"complete\",\"id\":7}",
            submit(8, 35, 1),
            submit(9, 3, 1));

    assertThat(out)
        .containsExactly(
            "{\"id\":7,\"rank\":0,\"match\":0,\"hit\":false,\"stale\":false}",
            "{\"id\":8,\"rank\":0,\"match\":2,\"hit\":true,\"stale\":false}",
            "{\"id\":9,\"rank\":1,\"match\":0,\"hit\":false,\"stale\":false}");
  }

  @Test
  void rankIsTheOriginalLabelAfterRemovals() throws Exception {
    List<String> out =
        replay(
            config().build(),
            "{\"op\":\"remove\",\"rank\":0}",
            "{\"op\":\"remove\",\"rank\":1}",
            submit(1, 16, 0),
            submit(2, 16, 100),
            submit(3, 16, 200));

    assertThat(out).extracting(TraceReplayTest::rank).containsExactly(2, 3, 2);
  }

  @Test
  void addAppendsNewLabelsAndReturnsRemovedOnesColdAtTheEndOrUnderMegatron018AtTheirRank()
      throws Exception {
    String[] lines = {
      submit(1, 32, 0), // rank 0 caches it
      "{\"op\":\"remove\",\"rank\":0}",
      "{\"op\":\"add\",\"rank\":9}",
      "{\"op\":\"add\",\"rank\":0}",
      submit(2, 32, 0),
      submit(3, 16, 500),
      submit(4, 16, 600),
      submit(5, 16, 700),
      submit(6, 16, 800),
      submit(7, 15, 900), // no complete block: 0.18 goes round-robin from here
      submit(8, 15, 1000),
      submit(9, 15, 1100),
      submit(10, 15, 1200),
      submit(11, 15, 1300)
    };
    List<String> out = replay(config().build(), lines);
    List<String> v18 = replay(config().release(MegatronRelease.V0_18).build(), lines);

    assertThat(out.get(1))
        .isEqualTo("{\"id\":2,\"rank\":1,\"match\":0,\"hit\":false,\"stale\":true}");
    // order is now 1, 2, 3, 9, 0: the idle ones in that order
    assertThat(out.subList(2, 6)).extracting(TraceReplayTest::rank).containsExactly(2, 3, 9, 0);
    // 0.18: rank 0 is back at index 0 with its entries; 9 has index 4; arrival order 1, 2, 3, 9, 0
    assertThat(v18.get(1))
        .isEqualTo("{\"id\":2,\"rank\":0,\"match\":2,\"hit\":true,\"stale\":false}");
    assertThat(v18.subList(2, 6)).extracting(TraceReplayTest::rank).containsExactly(1, 2, 3, 9);
    assertThat(v18.subList(6, 11)).extracting(TraceReplayTest::rank).containsExactly(1, 2, 3, 9, 0);
  }

  @Test
  void addOfAnActiveLabelRestartsItColdOrUnderMegatron018ChangesNothing() throws Exception {
    String[] lines = {
      submit(1, 32, 0),
      "{\"op\":\"complete\",\"id\":1}",
      "{\"op\":\"add\",\"rank\":0}",
      submit(2, 32, 0),
      "{\"op\":\"complete\",\"id\":2}",
      submit(3, 32, 0)
    };
    List<String> out = replay(config().build(), lines);
    List<String> v18 = replay(config().release(MegatronRelease.V0_18).build(), lines);

    assertThat(out.get(1))
        .isEqualTo("{\"id\":2,\"rank\":0,\"match\":0,\"hit\":false,\"stale\":true}");
    assertThat(out.get(2))
        .isEqualTo("{\"id\":3,\"rank\":0,\"match\":2,\"hit\":true,\"stale\":false}");
    assertThat(v18.get(1))
        .isEqualTo("{\"id\":2,\"rank\":0,\"match\":2,\"hit\":true,\"stale\":false}");
  }

  @Test
  void epochOpInvalidatesEarlierEntriesOncePerNewValue() throws Exception {
    List<String> out =
        replay(
            config().build(),
            "{\"op\":\"epoch\",\"value\":1}",
            submit(1, 32, 0),
            "{\"op\":\"epoch\",\"value\":1}",
            submit(2, 32, 0),
            "{\"op\":\"epoch\",\"value\":2}",
            submit(3, 32, 0));

    assertThat(out.get(1)).contains("\"hit\":true");
    assertThat(out.get(2)).contains("\"match\":0,\"hit\":false,\"stale\":true");
  }

  @Test
  void advanceMovesTheVirtualClockForTheTtl() throws Exception {
    RouterConfig ttl = config().ttl(Duration.ofMillis(500)).build();
    List<String> out =
        replay(
            ttl,
            submit(1, 16, 0),
            "{\"op\":\"advance\",\"ms\":500}",
            submit(2, 16, 0),
            "{\"op\":\"advance\",\"ms\":501}",
            submit(3, 16, 0));

    assertThat(out.get(1)).contains("\"hit\":true");
    assertThat(out.get(2)).contains("\"hit\":false,\"stale\":true");
  }

  @Test
  void toleratesBlankLinesCrLfUnknownFieldsAndAMissingFinalNewline() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String trace =
        "{\"op\":\"submit\",\"pfx\":{\"a\":[1]},\"id\":1,\"tokens\":[1,2]}\r\n"
            + "\n   \n"
            + "{\"tokens\":[],\"id\":-2,\"op\":\"submit\"}";
    long submits = new TraceReplay(config().build(), 2).run(input(trace), out);

    assertThat(submits).isEqualTo(2);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"id\":1,\"rank\":0,\"match\":0,\"hit\":false,\"stale\":false}\n"
                + "{\"id\":-2,\"rank\":1,\"match\":0,\"hit\":false,\"stale\":false}\n");
  }

  @Test
  void handlesLinesLongerThanTheReadBuffer() throws Exception {
    List<String> out = replay(config().build(), submit(1, 40_000, 0), submit(2, 40_000, 0));

    assertThat(out.get(1))
        .isEqualTo("{\"id\":2,\"rank\":0,\"match\":2500,\"hit\":true,\"stale\":false}");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "malformed JSON          | {\"op\":\"submit\",\"id\":3,                        | malformed JSON",
        "not an object           | [1,2]                                              | expected a JSON object",
        "two objects on a line   | {\"op\":\"epoch\",\"value\":1} {}                  | unexpected content",
        "unknown op              | {\"op\":\"teleport\"}                              | unknown op 'teleport'",
        "missing op              | {\"id\":3}                                         | missing field 'op'",
        "op not a string         | {\"op\":5}                                         | field 'op' must be a string, found 5",
        "missing id              | {\"op\":\"submit\",\"tokens\":[]}                  | submit needs field 'id'",
        "missing tokens          | {\"op\":\"submit\",\"id\":3}                       | submit needs field 'tokens'",
        "id as a string          | {\"op\":\"submit\",\"id\":\"3\",\"tokens\":[]}     | field 'id' must be an int64 integer",
        "id beyond int64         | {\"op\":\"complete\",\"id\":99999999999999999999}  | field 'id' must be an int64 integer, found 99999999999999999999",
        "tokens not an array     | {\"op\":\"submit\",\"id\":3,\"tokens\":7}          | field 'tokens' must be an array",
        "fractional token        | {\"op\":\"submit\",\"id\":3,\"tokens\":[1,2.5]}    | must hold int64 integers, found 2.5 at index 1",
        "duplicate submit id     | {\"op\":\"submit\",\"id\":1,\"tokens\":[]}         | duplicate submit id 1",
        "unknown id on complete  | {\"op\":\"complete\",\"id\":42}                    | unknown request id 42",
        "completed id            | {\"op\":\"complete\",\"id\":2}                     | request id 2 was already completed",
        "rank out of range       | {\"op\":\"remove\",\"rank\":4}                     | rank 4 is out of range",
        "negative rank on remove | {\"op\":\"remove\",\"rank\":-1}                    | rank -1 is out of range",
        "rank not active         | {\"op\":\"remove\",\"rank\":3}                     | rank 3 is not active",
        "missing rank            | {\"op\":\"remove\"}                                | remove needs field 'rank'",
        "negative add            | {\"op\":\"add\",\"rank\":-5}                       | rank -5 is out of range",
        "rank as float           | {\"op\":\"add\",\"rank\":1.0}                      | field 'rank' must be an int64 integer",
        "missing epoch value     | {\"op\":\"epoch\"}                                 | epoch needs field 'value'",
        "negative advance        | {\"op\":\"advance\",\"ms\":-5}                     | non-negative 'ms', got -5",
        "clock overflow          | {\"op\":\"advance\",\"ms\":9223372036854775807}    | overflows the virtual clock",
      })
  void badLineStopsTheReplayNamingItsNumberAndWritesNothingForIt(
      String name, String bad, String reason) throws Exception {
    String prefix =
        String.join(
            "\n",
            submit(1, 16, 0),
            submit(2, 16, 0),
            "{\"op\":\"complete\",\"id\":2}",
            "{\"op\":\"remove\",\"rank\":3}",
            "",
            bad,
            submit(5, 16, 0));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TraceReplay replay = new TraceReplay(config().build(), 4);

    assertThatThrownBy(() -> replay.run(input(prefix), out))
        .isInstanceOf(TraceException.class)
        .hasMessageStartingWith("line 6: ")
        .hasMessageContaining(reason)
        .satisfies(e -> assertThat(((TraceException) e).line()).isEqualTo(6));
    assertThat(out.toString(StandardCharsets.UTF_8).lines()).hasSize(2);
    assertThat(replay.router().pending(0) + replay.router().pending(1)).isEqualTo(1);
  }

  @Test
  void submitWithNoActiveEngineIsABadLine() throws Exception {
    TraceReplay replay = new TraceReplay(config().build(), 1);
    String trace = "{\"op\":\"remove\",\"rank\":0}\n" + submit(1, 16, 0);

    assertThatThrownBy(() -> replay.run(input(trace), new ByteArrayOutputStream()))
        .hasMessage("line 2: no engine is active to route request 1 to");
  }

  @Test
  void ranksMustBePositive() {
    assertThatThrownBy(() -> new TraceReplay(config().build(), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 0");
  }

  private static int rank(String line) {
    Matcher m = Pattern.compile("\"rank\":(\\d+)").matcher(line);
    assertThat(m.find()).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
