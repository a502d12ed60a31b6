package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.sim.simulate.Synthetic;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * {@code simulate} through the launcher: usage errors are one line with status 2 and simulate
 * nothing, bad trace lines are named or (with {@code --skip-bad}) counted, results are
 * deterministic and independent of the thread count, and the CSV and HTML hold every configuration
 * of the sweep.
 */
@Timeout(60)
class SimulateCommandTest {
  private static final Path MOONCAKE =
      Path.of(
          "..",
          "coordinator-sim",
          "src",
          "test",
          "resources",
          "traces",
          "mooncake_synthetic_trace.jsonl.gz");
  private static final int MOONCAKE_REQUESTS = 3_993;
  private static final String CHAT = "chat:requests=2000";
  private static final Pattern TIMESTAMP = Pattern.compile("\"timestamp\": (\\d+)");

  /** The shared trace's lines, uncompressed. */
  private static List<String> mooncake;

  @TempDir Path dir;

  @BeforeAll
  static void readTrace() throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(MOONCAKE))) {
      mooncake = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    assertThat(mooncake).hasSize(MOONCAKE_REQUESTS);
  }

  private static CliRun simulate(String... args) {
    return CliRun.of(Stream.concat(Stream.of("simulate"), Stream.of(args)).toArray(String[]::new));
  }

  /** Runs {@code simulate} with {@code --csv} into a new file; returns the run and the CSV text. */
  private String csvOf(String... args) throws IOException {
    Path csv = Files.createTempFile(dir, "results", ".csv");
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(List.of("--csv", csv.toString()));
    CliRun r = simulate(all.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isZero();
    return Files.readString(csv, StandardCharsets.UTF_8);
  }

  /** The rows of a CSV with a header row, each as column name to field. */
  private static List<Map<String, String>> rows(String csv) {
    List<String> lines = csv.lines().toList();
    String[] header = lines.get(0).split(",", -1);
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] fields = line.split(",", -1);
      assertThat(fields).as(line).hasSameSizeAs(header);
      Map<String, String> row = new LinkedHashMap<>();
      for (int i = 0; i < header.length; i++) {
        row.put(header[i], fields[i]);
      }
      rows.add(row);
    }
    return rows;
  }

  /** The shared trace with {@code bad} lines in place of the given 1-based line numbers. */
  private Path traceWith(String name, Map<Integer, String> bad) throws IOException {
    List<String> lines = new ArrayList<>(mooncake);
    bad.forEach(
        (number, line) -> {
          // a timestamp equal to the previous line's, so that only the defect is wrong
          Matcher m = TIMESTAMP.matcher(lines.get(number - 2));
          assertThat(m.find()).isTrue();
          lines.add(number - 1, line.replace("T", m.group(1)));
        });
    Path trace = dir.resolve(name);
    Files.write(trace, lines, StandardCharsets.UTF_8);
    return trace;
  }

  @Test
  void helpListsEveryFlagAndTheSyntheticKinds() {
    CliRun r = simulate("--help");

    assertThat(r.status()).isZero();
    assertThat(r.out())
        .contains(
            "Usage: coordinator simulate",
            "WORKLOAD",
            "--policy",
            "--alpha",
            "--ttl",
            "--index-capacity",
            "--engines",
            "--cache-blocks",
            "--eviction",
            "--megatron",
            "--max-requests",
            "--max-num-seqs",
            "--max-batched-tokens",
            "--step-base-ms",
            "--step-prefill-us",
            "--step-decode-us",
            "--speed",
            "--seed",
            "--block-size",
            "--interval",
            "--output-tokens",
            "--skip-bad",
            "--threads",
            "--csv",
            "--html",
            "round_robin",
            "lineage",
            "lru");
    List<String> lines = r.out().lines().toList();
    for (String kind : List.of("chat", "agent", "system-prompt", "rag", "llm-d")) {
      assertThat(lines).as(kind).anyMatch(l -> l.startsWith(kind + ": "));
    }
    for (Synthetic.Kind kind : Synthetic.Kind.values()) {
      assertThat(lines).as(kind.cliName()).anyMatch(l -> l.startsWith(kind.cliName() + ": "));
    }
    assertThat(lines).anyMatch(l -> l.matches("\\s+requests\\s+10000\\s+requests"));
  }

  static Stream<Arguments> refusals() {
    return Stream.of(
        Arguments.of(new String[] {CHAT, "--policy", "foo"}, "--policy", "'foo'"),
        Arguments.of(new String[] {CHAT, "--eviction", "fifo"}, "--eviction", "'fifo'"),
        Arguments.of(new String[] {CHAT, "--alpha", "2"}, "--alpha", "2.0"),
        Arguments.of(new String[] {CHAT, "--alpha", "0.5,-0.1"}, "--alpha", "-0.1"),
        Arguments.of(new String[] {CHAT, "--alpha", "half"}, "--alpha", "half"),
        Arguments.of(new String[] {CHAT, "--engines", "0"}, "--engines", "got 0"),
        Arguments.of(new String[] {CHAT, "--engines", "8,5000"}, "--engines", "5000"),
        Arguments.of(new String[] {CHAT, "--index-capacity", "0"}, "--index-capacity", "got 0"),
        Arguments.of(new String[] {CHAT, "--cache-blocks", "-1"}, "--cache-blocks", "-1"),
        Arguments.of(new String[] {CHAT, "--ttl", "soon"}, "--ttl", "soon"),
        Arguments.of(new String[] {CHAT, "--threads", "0"}, "--threads", "got 0"),
        Arguments.of(new String[] {CHAT, "--speed", "0"}, "--speed", "got 0"),
        Arguments.of(new String[] {CHAT, "--megatron", "0.17"}, "--megatron", "0.17"),
        Arguments.of(
            new String[] {CHAT, "--max-num-seqs", "512", "--max-batched-tokens", "256"},
            "max-batched-tokens (256)",
            "max-num-seqs (512)"),
        Arguments.of(
            new String[] {CHAT, "--policy", "round_robin"},
            "--policy round_robin is not a policy of --megatron 0.19",
            "longest_prefix, first_prefix_block, load_balanced"),
        Arguments.of(
            new String[] {CHAT, "--policy", "longest_prefix,load_balanced", "--megatron", "0.18"},
            "--policy load_balanced is not a policy of --megatron 0.18",
            "longest_prefix, first_prefix_block, round_robin"),
        Arguments.of(new String[] {CHAT, "--frobnicate"}, "--frobnicate", "Unknown option"),
        Arguments.of(new String[] {"zipf:requests=10"}, "zipf:requests=10", "kinds: chat"),
        Arguments.of(new String[] {"chat:bogus=1"}, "no key 'bogus'", "keys: requests"),
        Arguments.of(new String[] {"chat:requests=abc"}, "'requests'", "'abc'"),
        Arguments.of(new String[] {"rag:requests=-5"}, "'requests'", "'-5'"),
        Arguments.of(new String[] {"llm-d:rate=0"}, "'rate'", "'0'"),
        Arguments.of(new String[] {"chat:requests"}, "expected key=value", "'requests'"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void badUsageIsOneLineWithStatusTwoAndSimulatesNothing(String[] args, String named, String why) {
    Path csv = dir.resolve("out.csv");
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(List.of("--csv", csv.toString()));

    CliRun r = simulate(all.toArray(String[]::new));

    assertThat(r.status()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0)).startsWith("coordinator simulate: ").contains(named, why);
    assertThat(csv).doesNotExist();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "malformed JSON      | {\"timestamp\": T, \"input_length\": 512,"
            + "                | malformed JSON",
        "not an object       | [T, 512, 4, [1]]" + "                | expected a JSON object",
        "negative input      | {\"timestamp\": T, \"input_length\": -512, \"output_length\": 4,"
            + " \"hash_ids\": []} | field 'input_length' must be an integer >= 1, got -512",
        "negative output     | {\"timestamp\": T, \"input_length\": 512, \"output_length\": -4,"
            + " \"hash_ids\": [7]} | field 'output_length' must be an integer >= 1, got -4",
        "too few hash ids    | {\"timestamp\": T, \"input_length\": 1025, \"output_length\": 4,"
            + " \"hash_ids\": [7, 8]} | 'hash_ids' has 2 ids but input_length 1025 needs"
            + " ceil(1025 / 512) = 3",
        "too many hash ids   | {\"timestamp\": T, \"input_length\": 1024, \"output_length\": 4,"
            + " \"hash_ids\": [7, 8, 9]} | 'hash_ids' has 3 ids but input_length 1024 needs"
            + " ceil(1024 / 512) = 2",
        "no hash ids         | {\"timestamp\": T, \"input_length\": 1, \"output_length\": 4,"
            + " \"hash_ids\": []} | 'hash_ids' has 0 ids but input_length 1 needs ceil(1 / 512) = 1",
        "missing field       | {\"timestamp\": T, \"input_length\": 512, \"hash_ids\": [7]}"
            + "                | missing field 'output_length'",
        "time going back     | {\"timestamp\": 0, \"input_length\": 512, \"output_length\": 4,"
            + " \"hash_ids\": [7]} | timestamps must not go backwards",
      })
  void badTraceLineIsOneLineNamingItAndNothingIsSimulated(String name, String bad, String reason)
      throws IOException {
    // half the trace is good before the bad line: none of it may reach the output
    Path trace = traceWith("bad.jsonl", Map.of(2001, bad));
    Path csv = dir.resolve("out.csv");

    CliRun r = simulate(trace.toString(), "--csv", csv.toString());

    assertThat(r.status()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0))
        .startsWith("coordinator simulate: " + trace + ": line 2001: ")
        .contains(reason);
    assertThat(csv).doesNotExist();
  }

  @Test
  void skipBadSimulatesTheGoodLinesAndSaysHowManyItSkipped() throws IOException {
    Map<Integer, String> bad = new LinkedHashMap<>();
    bad.put(
        2, "{\"timestamp\": T, \"input_length\": 1025, \"output_length\": 4, \"hash_ids\": []}");
    bad.put(1001, "{\"timestamp\": T, \"input_length\": 512,");
    bad.put(
        3002, "{\"timestamp\": T, \"input_length\": 512, \"output_length\": 0, \"hash_ids\": [1]}");
    Path trace = traceWith("three-bad.jsonl", bad);

    Path csv = dir.resolve("skipped.csv");
    CliRun r = simulate(trace.toString(), "--skip-bad", "--csv", csv.toString());

    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.errLines().subList(0, 4))
        .containsExactly(
            "coordinator simulate: skipped 3 bad line(s) of " + trace,
            "  line 2: 'hash_ids' has 0 ids but input_length 1025 needs ceil(1025 / 512) = 3",
            "  line 1001: malformed JSON: Unexpected end-of-input within/between Object entries",
            "  line 3002: field 'output_length' must be an integer >= 1, got 0");
    assertThat(r.errLines().subList(4, r.errLines().size()))
        .allMatch(l -> l.contains("configurations"), "progress lines only");
    assertThat(r.out()).startsWith("three-bad.jsonl: 3,993 requests, 512-token blocks, ");
    List<Map<String, String>> rows = rows(Files.readString(csv));
    assertThat(rows).singleElement().extracting(row -> row.get("requests")).isEqualTo("3993");
    // the good lines alone give what the trace without the bad ones gives
    assertThat(Files.readString(csv)).isEqualTo(csvOf(MOONCAKE.toString()));

    CliRun strict = simulate(trace.toString());
    assertThat(strict.status()).isEqualTo(2);
    assertThat(strict.errLines()).singleElement().asString().contains(": line 2: ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"chat", "agent", "system-prompt", "rag", "llm-d"})
  void sameSeedGivesIdenticalCsvAndAnotherSeedAnother(String kind) throws IOException {
    String spec = kind + ":requests=2000";

    String first = csvOf(spec, "--seed", "7");
    String again = csvOf(spec, "--seed", "7");
    String other = csvOf(spec, "--seed", "8");

    assertThat(rows(first))
        .singleElement()
        .extracting(row -> row.get("requests"))
        .isEqualTo("2000");
    assertThat(again).isEqualTo(first);
    assertThat(other).isNotEqualTo(first);
  }

  @Test
  void theSameTraceGivesIdenticalCsv() throws IOException {
    String[] flags = {MOONCAKE.toString(), "--policy", "longest_prefix,load_balanced"};

    assertThat(csvOf(flags)).isEqualTo(csvOf(flags));
  }

  @Test
  void aSweepOnTwoThreadsGivesTheBytesOfOneThread() throws IOException {
    String[] sweep = {
      CHAT,
      "--policy",
      "longest_prefix,load_balanced",
      "--alpha",
      "0,0.5,1",
      "--cache-blocks",
      "64,256"
    };
    List<String> one = new ArrayList<>(Arrays.asList(sweep));
    one.addAll(List.of("--threads", "1"));
    List<String> two = new ArrayList<>(Arrays.asList(sweep));
    two.addAll(List.of("--threads", "2"));

    String sequential = csvOf(one.toArray(String[]::new));
    String parallel = csvOf(two.toArray(String[]::new));

    // longest_prefix: 3 alphas x 2 caches; load_balanced ignores alpha: 2 caches
    assertThat(rows(sequential)).hasSize(8);
    assertThat(parallel).isEqualTo(sequential);
  }

  @Test
  void theCsvHasOneRowPerConfigurationInFlagOrder() throws IOException {
    String csv =
        csvOf(
            MOONCAKE.toString(),
            "--policy",
            "longest_prefix,load_balanced,first_prefix_block",
            "--alpha",
            "0,1",
            "--cache-blocks",
            "128,512");

    List<Map<String, String>> rows = rows(csv);

    // load_balanced ignores alpha: one row per cache size, with the first alpha
    assertThat(rows)
        .extracting(
            row -> row.get("policy") + " " + row.get("alpha") + " " + row.get("cache_blocks"))
        .containsExactly(
            "longest_prefix 0 128",
            "longest_prefix 0 512",
            "longest_prefix 1 128",
            "longest_prefix 1 512",
            "load_balanced 0 128",
            "load_balanced 0 512",
            "first_prefix_block 0 128",
            "first_prefix_block 0 512",
            "first_prefix_block 1 128",
            "first_prefix_block 1 512");
    assertThat(rows).allSatisfy(row -> assertThat(row.get("requests")).isEqualTo("3993"));
    assertThat(rows).allSatisfy(row -> assertThat(row.get("engines")).isEqualTo("8"));
    assertThat(csv).endsWith("\n").doesNotContain("\r");
  }

  @Test
  void theOtherReleasesPolicyRunsUnderItsRelease() throws IOException {
    String csv =
        csvOf(
            MOONCAKE.toString(),
            "--megatron",
            "0.18",
            "--policy",
            "round_robin,longest_prefix",
            "--alpha",
            "0.25,0.75",
            "--engines",
            "4");

    assertThat(rows(csv))
        .extracting(row -> row.get("policy") + " " + row.get("alpha") + " " + row.get("requests"))
        .containsExactly(
            "round_robin 0.25 3993", "longest_prefix 0.25 3993", "longest_prefix 0.75 3993");
  }

  @Test
  void theHtmlReportHasASeriesForEveryPolicy() throws Exception {
    Path html = dir.resolve("report.html");
    Path csv = dir.resolve("report.csv");

    CliRun r =
        simulate(
            CHAT,
            "--policy",
            "longest_prefix,first_prefix_block,load_balanced",
            "--alpha",
            "0,0.5,1",
            "--html",
            html.toString(),
            "--csv",
            csv.toString());

    assertThat(r.status()).as(r.err()).isZero();
    Map<String, Element> series = series(Files.readAllBytes(html));
    assertThat(series)
        .containsKeys("bound:single")
        .containsKeys("hit:longest_prefix", "hit:first_prefix_block", "hit:load_balanced")
        .containsKeys("ttft99:longest_prefix", "ttft99:first_prefix_block", "ttft99:load_balanced")
        .containsKeys(
            "load:longest_prefix alpha=0",
            "load:longest_prefix alpha=0.5",
            "load:longest_prefix alpha=1",
            "load:first_prefix_block alpha=0",
            "load:first_prefix_block alpha=0.5",
            "load:first_prefix_block alpha=1",
            "load:load_balanced",
            "busy:load_balanced");
    // each prefix policy's hit line has a point per alpha, at the CSV's hit ratio
    List<Map<String, String>> rows = rows(Files.readString(csv));
    assertThat(rows).hasSize(7);
    for (String policy : List.of("longest_prefix", "first_prefix_block")) {
      List<String> expected =
          rows.stream()
              .filter(row -> row.get("policy").equals(policy))
              .map(row -> row.get("alpha") + " " + row.get("hit_ratio_blocks"))
              .toList();
      assertThat(points(series.get("hit:" + policy)))
          .as(policy)
          .containsExactlyElementsOf(expected);
    }
    assertThat(points(series.get("hit:load_balanced"))).hasSize(1);
  }

  /** The elements with a data-series attribute, by it; no name twice. */
  private static Map<String, Element> series(byte[] page) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
    Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(page));
    Map<String, Element> series = new LinkedHashMap<>();
    NodeList all = doc.getElementsByTagName("*");
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      if (e.hasAttribute("data-series")) {
        assertThat(series.put(e.getAttribute("data-series"), e)).as("duplicate series").isNull();
      }
    }
    return series;
  }

  /** The circles of a chart series as {@code "data-x data-y"}, in document order. */
  private static List<String> points(Element group) {
    List<String> points = new ArrayList<>();
    NodeList circles = group.getElementsByTagName("circle");
    for (int i = 0; i < circles.getLength(); i++) {
      Element c = (Element) circles.item(i);
      points.add(c.getAttribute("data-x") + " " + c.getAttribute("data-y"));
    }
    return points;
  }
}
