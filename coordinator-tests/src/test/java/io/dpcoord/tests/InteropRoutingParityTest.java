package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.tokenizers.TextTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Routing parity through the wire: a trace is replayed by a Python client and four Python engines
 * against the Java coordinator, and the engine that receives each request must be the one Megatron
 * chose. Traces: the routing fixture's token trace (2,000 submits, 2,000 completes, one engine
 * leaving; a copy of coordinator-routing's {@code parity/} resources, see interop/README.md), and
 * the text traces of {@link ParityFixtures} (about 300 text submits, one engine leaving) against a
 * coordinator started with that tokenizer, as {@code serve --tokenizer SPEC} starts it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropRoutingParityTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  /**
   * Registration order. Rank order is the unsigned byte order of the identities, which is neither
   * this order nor numeric order: {@code mp-coord-10 < mp-coord-11 < mp-coord-2 < mp-coord-3}.
   */
  private static final List<String> ARRIVAL =
      List.of("mp-coord-3", "mp-coord-10", "mp-coord-2", "mp-coord-11");

  @TempDir Path dir;

  @Test
  void enginesChosenOverTheWireAreMegatronsDecisions() throws Exception {
    replayThroughTheWire(
        "/interop/parity-trace.jsonl.gz",
        "/interop/parity-decisions-longest_prefix.jsonl.gz",
        null);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"null", "bytes", "huggingface-qwen3"})
  void textPromptsGoOverTheWireToTheEnginesMegatronChooses(String kind) throws Exception {
    replayThroughTheWire(
        ParityFixtures.textTrace(kind),
        ParityFixtures.textDecisions(kind),
        ParityFixtures.tokenizer(kind));
  }

  /**
   * The routing module's parity-main cases (its README: Megatron main's own coordinator, run
   * unchanged over real sockets, on 14 settings of engines, block size, alpha, max_requests and
   * policy, with removals, late engines and removed engines registering again) through the wire:
   * the engines' registrations and departures are real ones, so the coordinator's engine table is
   * judged too, not only its router.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("megatronMainCases")
  void megatronMainCasesGoOverTheWireToTheEnginesMegatronChooses(String name, String settings)
      throws Exception {
    String[] v = settings.split(",");
    RouterConfig routing =
        RouterConfig.builder()
            .policy(Policy.parse(v[0]))
            .blockSize(Integer.parseInt(v[2]))
            .alpha(Double.parseDouble(v[3]))
            .maxRequests(Integer.parseInt(v[4]))
            .build();
    int ranks = Integer.parseInt(v[1]);
    try (InteropPython python = InteropPython.in(dir)) {
      Path trace = python.copyClasspathResource("/parity-main/" + name + "-trace.jsonl.gz");
      Map<Long, Integer> megatron = new LinkedHashMap<>();
      for (ParityFixtures.Decision d :
          ParityFixtures.decisions("/parity-main/" + name + "-decisions.jsonl.gz")) {
        megatron.put(d.id(), d.rank());
      }
      Coordinator coordinator =
          python.startCoordinator(
              CoordinatorConfig.builder().expectedEngines(ranks).routing(routing).build());
      InteropProcess driver =
          python.run(
              "parity",
              "parity.py",
              List.of(
                  "--endpoint",
                  coordinator.endpoint(),
                  "--trace",
                  trace.toString(),
                  "--labels",
                  Integer.toString(ranks)));
      // each engine leaving or joining waits for the coordinator to show the engines it has
      for (int confirmed = 1; ; confirmed++) {
        List<InteropProcess.Event> asked = driver.awaitEventsOrEnd("engines", confirmed, WAIT);
        if (asked.size() < confirmed) {
          break;
        }
        long active = asked.get(confirmed - 1).getLong("active");
        Await.until(
            active + " engines registered",
            () -> coordinator.status().activeEngines() == active,
            () -> coordinator.status().activeEngines() + " engines");
        driver.writeLine("ok");
      }
      driver.awaitExit(0, Duration.ofSeconds(50));

      List<InteropProcess.Event> decisions = driver.events("decision");
      assertThat(decisions).hasSize(megatron.size());
      for (InteropProcess.Event d : decisions) {
        long id = d.getLong("id");
        int label = Integer.parseInt(d.get("engine").substring("mp-coord-".length()));
        Integer expected = megatron.get(id);
        if (expected == null || expected != label) {
          fail(
              "%s: request %d went to engine %d; Megatron chose %s. Decisions so far agreed on"
                  + " %d request(s).",
              name, id, label, expected, decisions.indexOf(d));
        }
      }
      assertThat(driver.events("done").get(0).getLong("submits")).isEqualTo(megatron.size());
    }
  }

  static Stream<Arguments> megatronMainCases() throws IOException {
    Properties cases = new Properties();
    try (InputStream in =
        InteropRoutingParityTest.class.getResourceAsStream("/parity-main/cases.properties")) {
      cases.load(in);
    }
    return cases.stringPropertyNames().stream()
        .sorted()
        .map(name -> Arguments.of(name, cases.getProperty(name)));
  }

  /**
   * Replays the trace with {@code parity.py} against a coordinator with {@code tokenizer} (or none)
   * and compares every engine chosen with the decision file.
   */
  private void replayThroughTheWire(
      String traceResource, String decisionsResource, TextTokenizer tokenizer) throws Exception {
    try (InteropPython python = InteropPython.in(dir)) {
      Path trace = python.copyClasspathResource(traceResource);
      Map<Long, Integer> megatron = new LinkedHashMap<>();
      for (ParityFixtures.Decision d : ParityFixtures.decisions(decisionsResource)) {
        megatron.put(d.id(), d.rank());
      }
      Coordinator coordinator =
          python.startCoordinator(
              CoordinatorConfig.builder()
                  .expectedEngines(ARRIVAL.size())
                  .routing(ParityFixtures.megatronRouting())
                  .tokenizer(tokenizer)
                  .build());

      List<String> args =
          new ArrayList<>(
              List.of(
                  "--endpoint",
                  coordinator.endpoint(),
                  "--trace",
                  trace.toString(),
                  "--identities",
                  String.join(",", ARRIVAL)));
      if (tokenizer != null) {
        args.add("--detokenizing");
      }
      InteropProcess driver = python.run("parity", "parity.py", args);
      driver.awaitExit(0, Duration.ofSeconds(50));

      List<String> byRank = new ArrayList<>(ARRIVAL);
      byRank.sort((x, y) -> Arrays.compareUnsigned(utf8(x), utf8(y)));
      assertThat(byRank).containsExactly("mp-coord-10", "mp-coord-11", "mp-coord-2", "mp-coord-3");

      List<InteropProcess.Event> decisions = driver.events("decision");
      assertThat(decisions).hasSize(megatron.size());
      for (InteropProcess.Event d : decisions) {
        long id = d.getLong("id");
        int rank = byRank.indexOf(d.get("engine"));
        Integer expected = megatron.get(id);
        if (expected == null || expected != rank) {
          fail(
              "request %d went to %s (rank %d); Megatron chose rank %s. Decisions so far agreed"
                  + " on %d request(s).",
              id, d.get("engine"), rank, expected, decisions.indexOf(d));
        }
      }
      InteropProcess.Event done = driver.events("done").get(0);
      assertThat(done.getLong("submits")).isEqualTo(megatron.size());
      assertThat(done.getLong("failed"))
          .as("requests pending on the engine that left")
          .isPositive();
      assertThat(coordinator.status().inFlight()).isZero();
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
