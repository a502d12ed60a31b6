package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

class RouteReplayCommandTest {
  private static final Path PARITY =
      Path.of("..", "coordinator-routing", "src", "test", "resources", "parity");

  /** One run of {@code coordinator route-replay args} through the launcher. */
  record Run(int status, String out, String err) {
    List<String> lines() {
      return out.lines().collect(Collectors.toList());
    }
  }

  private static Run run(InputStream stdin, String... args) {
    CommandLine cli = Launcher.commandLine();
    StringWriter help = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(help, true));
    cli.setErr(new PrintWriter(err, true));
    RouteReplayCommand command = cli.getSubcommands().get("route-replay").getCommand();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    command.in = stdin;
    command.out = out;
    String[] full = new String[args.length + 1];
    full[0] = "route-replay";
    System.arraycopy(args, 0, full, 1, args.length);
    int status = cli.execute(full);
    return new Run(status, help + out.toString(StandardCharsets.UTF_8), err.toString());
  }

  private static Run run(String trace, String... args) {
    return run(new ByteArrayInputStream(trace.getBytes(StandardCharsets.UTF_8)), args);
  }

  private static String submit(long id, int first, int tokens) {
    return "{\"op\":\"submit\",\"id\":"
        + id
        + ",\"tokens\":["
        + IntStream.range(first, first + tokens)
            .mapToObj(Integer::toString)
            .collect(Collectors.joining(","))
        + "]}\n";
  }

  @Test
  void replaysStdinToStdout() {
    Run r = run(submit(7, 0, 40) + "{\"op\":\"complete\",\"id\":7}\n" + submit(8, 0, 40));

    assertThat(r.status()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.lines())
        .containsExactly(
            "{\"id\":7,\"rank\":0,\"match\":0,\"hit\":false,\"stale\":false}",
            "{\"id\":8,\"rank\":0,\"match\":2,\"hit\":true,\"stale\":false}");
  }

  @Test
  void reproducesTheParityFixtureThroughTheFlags() throws IOException {
    for (String policy : List.of("longest_prefix", "first_prefix_block", "load_balanced")) {
      assertThat(
              replayedIdsAndRanks(
                  PARITY.resolve("trace.jsonl.gz"),
                  "--policy",
                  policy,
                  "--ranks",
                  "4",
                  "--block-size",
                  "16",
                  "--alpha",
                  "0.5",
                  "--max-requests",
                  "16"))
          .as(policy)
          .containsExactlyElementsOf(
              gzipLines(PARITY.resolve("decisions-" + policy + ".jsonl.gz")));
    }
  }

  @Test
  void reproducesTheMegatron018FixtureThroughTheFlags() throws IOException {
    Path dir = PARITY.resolveSibling("parity-0.18");
    for (String policy : List.of("longest_prefix", "first_prefix_block", "round_robin")) {
      List<String> expected =
          gzipLines(dir.resolve("decisions-" + policy + ".jsonl.gz")).stream()
              .map(RouteReplayCommandTest::idAndRank)
              .toList();
      assertThat(expected).hasSizeGreaterThan(1800);
      assertThat(
              replayedIdsAndRanks(
                  dir.resolve("trace-" + policy + ".jsonl.gz"),
                  "--megatron",
                  "0.18",
                  "--policy",
                  policy,
                  "--ranks",
                  "4",
                  "--max-requests",
                  "8"))
          .as(policy)
          .containsExactlyElementsOf(expected);
    }
  }

  /** Replays a gzipped trace with {@code flags}; the decisions as {@code {"id":..,"rank":..}}. */
  private static List<String> replayedIdsAndRanks(Path trace, String... flags) throws IOException {
    Run r;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(trace))) {
      r = run(in, flags);
    }
    assertThat(r.status()).isZero();
    assertThat(r.err()).isEmpty();
    return r.lines().stream().map(RouteReplayCommandTest::idAndRank).toList();
  }

  private static List<String> gzipLines(Path file) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
  }

  @Test
  void megatronFlagSelectsTheRuleAndTheDefaultIsTheCurrentOne() {
    // no complete block: 0.19 goes to the least loaded (0 again after its completion), 0.18 takes
    // turns
    String trace =
        submit(1, 0, 8) + "{\"op\":\"complete\",\"id\":1}\n" + submit(2, 0, 8) + submit(3, 0, 8);

    assertThat(run(trace, "--ranks", "2").lines().stream().map(RouteReplayCommandTest::rank))
        .containsExactly(0, 0, 1);
    assertThat(
            run(trace, "--ranks", "2", "--megatron", "0.19").lines().stream()
                .map(RouteReplayCommandTest::rank))
        .containsExactly(0, 0, 1);
    assertThat(
            run(trace, "--ranks", "2", "--megatron", "0.18").lines().stream()
                .map(RouteReplayCommandTest::rank))
        .containsExactly(0, 1, 0);
  }

  @Test
  void aPolicyOfTheOtherReleaseIsABadFlagNamingTheChoices() {
    Run old = run(submit(1, 0, 16), "--megatron", "0.18", "--policy", "load_balanced");
    assertThat(old.status()).isEqualTo(2);
    assertThat(old.err())
        .contains(
            "--policy load_balanced is not a policy of --megatron 0.18",
            "longest_prefix, first_prefix_block, round_robin");

    Run current = run(submit(1, 0, 16), "--policy", "round_robin");
    assertThat(current.status()).isEqualTo(2);
    assertThat(current.err()).contains("--policy round_robin is not a policy of --megatron 0.19");
    assertThat(current.out()).isEmpty();
  }

  @Test
  void defaultsAreEightRanksAndTheReferenceSettings() {
    StringBuilder trace = new StringBuilder();
    for (int i = 0; i < 9; i++) {
      trace.append(submit(i, 1000 * i, 16));
    }

    Run r = run(trace.toString());

    assertThat(r.lines().stream().map(RouteReplayCommandTest::rank))
        .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 0);
  }

  @Test
  void ttlFlagExpiresEntriesInVirtualTime() {
    String trace = submit(1, 0, 16) + "{\"op\":\"advance\",\"ms\":101}\n" + submit(2, 0, 16);

    assertThat(run(trace, "--ttl-ms", "100").lines().get(1))
        .contains("\"hit\":false,\"stale\":true");
    assertThat(run(trace, "--ttl-ms", "0").lines().get(1)).contains("\"hit\":true");
    assertThat(run(trace).lines().get(1)).contains("\"hit\":true");
  }

  @Test
  void indexCapacityFlagBoundsTheIndex() {
    String trace = submit(1, 0, 16) + submit(2, 500, 16) + submit(3, 0, 16);

    assertThat(run(trace, "--index-capacity", "1").lines().get(2)).contains("\"hit\":false");
    assertThat(run(trace, "--index-capacity", "2").lines().get(2)).contains("\"hit\":true");
  }

  @Test
  void loadBalancedPolicyIgnoresPrefixes() {
    String trace = submit(1, 0, 16) + submit(2, 0, 16);

    assertThat(run(trace, "--policy", "LOAD_BALANCED").lines().get(1))
        .isEqualTo("{\"id\":2,\"rank\":1,\"match\":0,\"hit\":false,\"stale\":false}");
  }

  @Test
  void helpListsEveryFlagAndExitsZero() {
    Run r = run("", "--help");

    assertThat(r.status()).isZero();
    assertThat(r.out())
        .contains(
            "route-replay",
            "--policy",
            "--alpha",
            "--max-requests",
            "--ranks",
            "--block-size",
            "--ttl-ms",
            "--index-capacity",
            "--megatron",
            "0.18",
            "round_robin",
            "longest_prefix");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "--alpha, 1.5, --alpha",
    "--alpha, abc, --alpha",
    "--max-requests, 0, --max-requests",
    "--ranks, 0, --ranks",
    "--block-size, -1, --block-size",
    "--ttl-ms, -1, --ttl-ms",
    "--ttl-ms, 9223372036854775807, --ttl-ms",
    "--index-capacity, 0, --index-capacity",
    "--policy, round_robin, round_robin",
    "--megatron, 0.17, '0.17'",
    "--bogus, 1, --bogus",
  })
  void badFlagExitsTwoWithOneReason(String flag, String value, String named) {
    Run r = run(submit(1, 0, 16), flag, value);

    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains(named);
    assertThat(r.out()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "malformed JSON         | {\"op\":\"submit\",\"id\":3,[        | malformed JSON",
        "unknown op             | {\"op\":\"jump\"}                    | unknown op 'jump'",
        "missing field          | {\"op\":\"submit\",\"id\":3}         | submit needs field 'tokens'",
        "wrongly-typed field    | {\"op\":\"complete\",\"id\":[3]}     | field 'id' must be an int64 integer",
        "duplicate submit id    | {\"op\":\"submit\",\"id\":1,\"tokens\":[]} | duplicate submit id 1",
        "unknown id on complete | {\"op\":\"complete\",\"id\":99}      | unknown request id 99",
        "completed id           | {\"op\":\"complete\",\"id\":2}       | request id 2 was already completed",
        "rank out of range      | {\"op\":\"remove\",\"rank\":8}       | rank 8 is out of range",
        "rank not active        | {\"op\":\"remove\",\"rank\":5}       | rank 5 is not active",
        "negative advance       | {\"op\":\"advance\",\"ms\":-1}       | non-negative 'ms', got -1",
      })
  void badLineExitsTwoNamingTheLineAndWritesNothingForIt(String name, String bad, String reason) {
    String trace =
        submit(1, 0, 16)
            + submit(2, 0, 16)
            + "{\"op\":\"complete\",\"id\":2}\n"
            + "{\"op\":\"remove\",\"rank\":5}\n"
            + bad
            + "\n"
            + submit(5, 0, 16);

    Run r = run(trace);

    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).startsWith("line 5: ").contains(reason).endsWith("\n");
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.lines()).hasSize(2);
  }

  private static String idAndRank(String line) {
    Matcher m = Pattern.compile("^\\{\"id\":(\\d+),\"rank\":(\\d+),").matcher(line);
    assertThat(m.find()).as(line).isTrue();
    return "{\"id\":" + m.group(1) + ",\"rank\":" + m.group(2) + "}";
  }

  private static int rank(String line) {
    Matcher m = Pattern.compile("\"rank\":(\\d+)").matcher(line);
    assertThat(m.find()).as(line).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
