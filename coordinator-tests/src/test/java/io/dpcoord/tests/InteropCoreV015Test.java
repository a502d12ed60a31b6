package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.tokenizers.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Megatron core_v0.15 peers (core015.py: its engine's and InferenceClient's side of the wire, from
 * that release's sources) against a coordinator with {@code --engine-wire 0.15}: round robin in
 * registration order, per-step replies (batches, prefill and chunked prefill, log probabilities)
 * gathered into the record that release's coordinator sends, compared by digest with what the
 * engine predicted; the signals broadcast; a crashed engine's requests answered FAILED with the
 * keys its client takes; and a seeded walk whose every output is what core_v0.15.3's own
 * coordinator sent, against {@code ./coordinator serve}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InteropCoreV015Test {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String SCRIPT = "core015.py";

  /** core_v0.15's NullTokenizer of 2^20 ids, whose eod is its vocabulary size. */
  private static final String NULL_TOKENIZER = "null:1048576,eod=1048576";

  @TempDir Path dir;

  @Test
  void stepsComeBackAsTheRecordsCoreV015sCoordinatorBuildsRoundRobin() throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config(3, metrics));
      List<InteropProcess> engines =
          python.releaseEngines(
              SCRIPT, coordinator, 3, WAIT, "--null-tokenizer", "--max-tokens", "24");
      InteropProcess client =
          python.releaseClient(
              SCRIPT,
              "client",
              coordinator,
              "--null-tokenizer",
              "requests",
              "--count",
              "30",
              "--text");
      client.awaitExit(0, WAIT); // every record had the 22 keys and the text of its tokens

      Map<String, List<Long>> cidsOfPrompt = new HashMap<>();
      Map<Long, String> kindOfCid = new HashMap<>();
      for (InteropProcess.Event sent : client.events("sent")) {
        cidsOfPrompt
            .computeIfAbsent(sent.get("prompt"), k -> new ArrayList<>())
            .add(sent.getLong("cid"));
      }
      Map<Long, Integer> rankOfCid = new HashMap<>();
      Map<Long, Map<String, String>> expected = new HashMap<>();
      for (int rank = 0; rank < engines.size(); rank++) {
        InteropProcess engine = engines.get(rank);
        assertThat(engine.awaitEvents("finished", 10, WAIT)).hasSize(10);
        for (InteropProcess.Event request : engine.events("request")) {
          List<Long> cids = cidsOfPrompt.get(request.get("prompt"));
          assertThat(cids).as("each prompt sent once").hasSize(1);
          rankOfCid.put(cids.get(0), rank);
        }
        for (InteropProcess.Event f : engine.events("finished")) {
          expected.put(f.getLong("rid"), Map.of("tokens", f.get("sha256"), "text", f.get("text")));
        }
      }
      InteropPython.assertRoundRobinOverThree(rankOfCid, 30);
      List<InteropProcess.Event> replies = client.events("reply");
      assertThat(replies).hasSize(30);
      for (InteropProcess.Event reply : replies) {
        kindOfCid.put(reply.getLong("cid"), reply.get("prompt"));
        assertThat(reply.get("status"))
            .as("core_v0.15's coordinator sets no status")
            .isEqualTo("None");
        assertThat(reply.get("sha256"))
            .as("cid %s: the record core_v0.15's coordinator builds", reply.get("cid"))
            .isEqualTo(expected.get(reply.getLong("rid")).get(reply.get("prompt")));
      }
      assertThat(kindOfCid.values()).contains("tokens", "text");
      List<InteropProcess.Event> steps =
          engines.stream().flatMap(e -> e.events("step").stream()).toList();
      assertThat(steps)
          .as("each engine has a request of 6 tokens: at least 6 steps each")
          .hasSizeGreaterThanOrEqualTo(18);
      assertThat(steps)
          .as("prompts of 48 tokens or more, steps of 24: chunked prefill")
          .anyMatch(step -> step.getLong("chunked") >= 0);
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
      stop(python, coordinator, engines);
    }
  }

  @Test
  void everySignalReachesEveryEngineAndTheCoordinatorServesOnAfterStop() throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config(2, metrics));
      List<InteropProcess> engines = python.releaseEngines(SCRIPT, coordinator, 2, WAIT);
      InteropProcess listener =
          python.releaseClient(SCRIPT, "listener", coordinator, "listen", "--quiet", "2");
      listener.awaitEvents("connected", 1, WAIT);
      InteropProcess control =
          python.releaseClient(
              SCRIPT, "control", coordinator, "control", "--signals", "PAUSE,UNPAUSE,PAUSE");
      control.awaitExit(0, WAIT);
      for (InteropProcess engine : engines) {
        assertThat(engine.awaitEvents("signal", 3, WAIT).stream().map(e -> e.get("payload")))
            .as("%s: each signal, in order, in core_v0.15's numbering", engine.name())
            .containsExactly("9104", "9105", "9104");
      }
      listener.awaitExit(0, WAIT); // a 0.15 client gets nothing but replies to its own requests
      stop(python, coordinator, engines);
      assertThat(coordinator.awaitTermination(Duration.ofMillis(300)))
          .as("core_v0.15's coordinator goes on after STOP")
          .isFalse();
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void aCrashedEnginesRequestsAreAnsweredFailedWithTheKeysItsClientTakes() throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config(2, metrics));
      String endpoint = coordinator.endpoint();
      InteropProcess doomed = python.releaseEngine(SCRIPT, endpoint, 0, "--die-after", "2");
      InteropProcess survivor = python.releaseEngine(SCRIPT, endpoint, 1, "--null-tokenizer");
      assertThat(coordinator.status().awaitStarted(WAIT)).as("engines registered").isTrue();

      InteropProcess client =
          python.releaseClient(
              SCRIPT, "client", coordinator, "--null-tokenizer", "requests", "--count", "4");
      doomed.awaitExit(17, WAIT);
      client.awaitExit(0, WAIT); // the FAILED records had the 22 keys and error events
      InteropPython.assertEveryOtherFailed(client, doomed, "None");
      assertThat(survivor.events("finished")).hasSize(2);
      Await.until(
          "the crashed engine removed, nothing in flight",
          () -> coordinator.status().activeEngines() == 1 && coordinator.status().inFlight() == 0);
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
      stop(python, coordinator, List.of(survivor));
    }
  }

  /**
   * A seeded walk of 323 steps (two clients whose ids collide, token and text prompts, engine steps
   * over up to four requests with and without log probabilities, prefill and chunked prefill, EODs,
   * PAUSE, UNPAUSE and STOP broadcasts) gets, frame for frame, what core_v0.15.3's own coordinator
   * sent on it: the engines' frames in order, each client's as a set. Run against {@code
   * ./coordinator serve --engine-wire 0.15}, whose engines may be tp-coord-* by default. Recorded
   * by generate_core015_parity.py.
   */
  @Test
  void aRandomWalkGetsWhatCoreV015sOwnCoordinatorSent() throws Exception {
    try (InteropPython python = InteropPython.in(dir);
        ServeProcess serve =
            ServeProcess.start(
                dir,
                "--port",
                "0",
                "--engines",
                "3",
                "--engine-wire",
                "0.15",
                "--tokenizer",
                NULL_TOKENIZER)) {
      Path expected = python.copyResource("core015-parity.jsonl");
      InteropProcess walk =
          python.run(
              "walk",
              "core015_parity.py",
              List.of("--endpoint", serve.endpoint(), "--expected", expected.toString()));
      walk.awaitExit(0, WAIT);
      InteropProcess.Event done = walk.events("done").get(0);
      assertThat(done.getLong("steps")).isEqualTo(323);
      assertThat(done.getLong("clients")).isEqualTo(211);
      assertThat(serve.stderr()).doesNotContain("dropped invalid", "refused", "internal error");
    }
  }

  /** STOP from a client: every engine closes (core_v0.15's engines exit on it). */
  private static void stop(
      InteropPython python, Coordinator coordinator, List<InteropProcess> engines)
      throws IOException, InterruptedException {
    python
        .releaseClient(SCRIPT, "stop", coordinator, "control", "--signals", "STOP")
        .awaitExit(0, WAIT);
    for (InteropProcess engine : engines) {
      engine.awaitExit(0, WAIT);
    }
  }

  private static CoordinatorConfig config(int engines, InMemoryMetrics metrics) {
    return CoordinatorConfig.builder()
        .expectedEngines(engines)
        .engineDialect(Dialect.V0_15)
        .routing(
            RouterConfig.builder()
                .release(MegatronRelease.V0_18)
                .policy(Policy.ROUND_ROBIN)
                .build())
        .tokenizer(Tokenizers.fromSpec(NULL_TOKENIZER))
        .tokenizerThreads(2)
        .metrics(metrics)
        .build();
  }
}
