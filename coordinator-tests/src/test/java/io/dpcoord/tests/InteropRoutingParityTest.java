package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing parity through the wire: the routing fixture's trace (2,000 submits, 2,000 completes, one
 * engine leaving) is replayed by a Python client and four Python engines against the Java
 * coordinator, and the engine that receives each request must be the one Megatron chose. The
 * fixture is a copy of coordinator-routing's {@code parity/} resources (see interop/README.md).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropRoutingParityTest {
  /**
   * Registration order. Rank order is the unsigned byte order of the identities, which is neither
   * this order nor numeric order: {@code mp-coord-10 < mp-coord-11 < mp-coord-2 < mp-coord-3}.
   */
  private static final List<String> ARRIVAL =
      List.of("mp-coord-3", "mp-coord-10", "mp-coord-2", "mp-coord-11");

  private static final Pattern DECISION = Pattern.compile("\"id\":(\\d+),\"rank\":(\\d+)");

  @TempDir Path dir;

  @Test
  void enginesChosenOverTheWireAreMegatronsDecisions() throws Exception {
    try (InteropPython python = InteropPython.in(dir)) {
      Path trace = python.copyResource("parity-trace.jsonl.gz");
      Map<Long, Integer> megatron = fixtureDecisions("parity-decisions-longest_prefix.jsonl.gz");
      Coordinator coordinator =
          python.startCoordinator(
              CoordinatorConfig.builder()
                  .expectedEngines(ARRIVAL.size())
                  .routing(
                      RouterConfig.builder()
                          .policy(Policy.LONGEST_PREFIX)
                          .alpha(0.5)
                          .maxRequests(16)
                          .blockSize(16)
                          .build())
                  .build());

      InteropProcess driver =
          python.run(
              "parity",
              "parity.py",
              List.of(
                  "--endpoint",
                  coordinator.endpoint(),
                  "--trace",
                  trace.toString(),
                  "--identities",
                  String.join(",", ARRIVAL)));
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

  private static Map<Long, Integer> fixtureDecisions(String resource) throws IOException {
    Map<Long, Integer> decisions = new LinkedHashMap<>();
    InputStream raw = InteropRoutingParityTest.class.getResourceAsStream("/interop/" + resource);
    if (raw == null) {
      throw new IOException("test resource interop/" + resource + " is missing");
    }
    try (raw;
        BufferedReader in =
            new BufferedReader(
                new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        Matcher m = DECISION.matcher(line);
        if (!m.find()) {
          throw new IOException("not a decision line in " + resource + ": " + line);
        }
        decisions.put(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)));
      }
    }
    return decisions;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
