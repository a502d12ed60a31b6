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
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Megatron core_v0.16 peers (core016.py: its engine's and InferenceClient's side of the wire, from
 * that release's sources) against a coordinator with {@code --engine-wire 0.16}: round robin in
 * registration order, records passed on as that release's coordinator passes them (each request's
 * nil prompt and generated_text filled with the tokenizer's ids_to_text, compared by digest with
 * what the engine computed), PAUSE and STOP acknowledged once every engine has, and FAILED records
 * for a crashed engine's requests inside a DynamicInferenceRequestRecord.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class InteropCoreV016Test {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String SCRIPT = "core016.py";
  private static final List<String> ENGINE_IDS = List.of("mp-coord-0", "mp-coord-1", "mp-coord-2");

  @TempDir Path dir;

  @Test
  void requestsGoRoundRobinAndComeBackAsCoreV016sCoordinatorSendsThem() throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config(3, true, metrics));
      List<InteropProcess> engines =
          python.releaseEngines(SCRIPT, coordinator, 3, WAIT, "--null-tokenizer");
      InteropProcess client =
          python.releaseClient(
              SCRIPT, "client", coordinator, "--null-tokenizer", "requests", "--count", "12");
      client.awaitExit(0, WAIT); // it deserialized every record and checked prompt and text

      Map<String, Long> cidOfPrompt = new HashMap<>();
      for (InteropProcess.Event sent : client.events("sent")) {
        assertThat(cidOfPrompt.put(sent.get("prompt"), sent.getLong("cid"))).isNull();
      }
      Map<Long, Integer> rankOfCid = new HashMap<>();
      Map<Long, String> expectedDigest = new HashMap<>();
      for (int rank = 0; rank < engines.size(); rank++) {
        InteropProcess engine = engines.get(rank);
        assertThat(engine.awaitEvents("reply", 4, WAIT)).hasSize(4);
        for (InteropProcess.Event request : engine.events("request")) {
          rankOfCid.put(cidOfPrompt.get(request.get("prompt")), rank);
        }
        engine.events("reply").forEach(r -> expectedDigest.put(r.getLong("rid"), r.get("client")));
      }
      InteropPython.assertRoundRobinOverThree(rankOfCid, 12);
      List<InteropProcess.Event> replies = client.events("reply");
      assertThat(replies).hasSize(12);
      for (InteropProcess.Event reply : replies) {
        assertThat(reply.get("status")).isEqualTo("COMPLETED");
        assertThat(reply.get("sha256"))
            .as("cid %s: the record as core_v0.16's coordinator fills it", reply.get("cid"))
            .isEqualTo(expectedDigest.get(reply.getLong("rid")));
      }
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void pauseAndStopAreRelayedOnceEveryEngineHasAcknowledgedThenTheCoordinatorEnds()
      throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config(3, false, metrics));
      List<InteropProcess> engines = python.releaseEngines(SCRIPT, coordinator, 3, WAIT);
      InteropProcess listener =
          python.releaseClient(SCRIPT, "listener", coordinator, "listen", "--acks", "2");
      listener.awaitEvents("connected", 1, WAIT);
      InteropProcess control =
          python.releaseClient(
              SCRIPT,
              "control",
              coordinator,
              "control",
              "--signals",
              "PAUSE,UNPAUSE,SUSPEND,RESUME,STOP");
      control.awaitExit(0, WAIT);
      listener.awaitExit(0, WAIT);
      for (InteropProcess engine : engines) {
        engine.awaitExit(0, WAIT); // it got [11] after its own STOP_ACK, and nothing else after
        assertThat(engine.events("signal").stream().map(e -> e.get("payload")))
            .as("%s: each signal once, in order, in 0.16's numbering", engine.name())
            .containsExactly("9105", "9107", "9108", "9109", "910a");
        assertThat(engine.events("ack").stream().map(e -> e.get("name")))
            .containsExactly("PAUSE_ACK", "STOP_ACK");
      }
      for (InteropProcess client : List.of(control, listener)) {
        List<InteropProcess.Event> acks = client.events("ack");
        assertThat(acks.stream().map(e -> e.get("name")))
            .as(client.name())
            .containsExactly("PAUSE_ACK", "STOP_ACK");
        assertThat(acks.stream().map(e -> e.get("engine"))).allMatch(ENGINE_IDS::contains);
      }
      assertThat(listener.events("ack").stream().map(e -> e.get("engine")).toList())
          .as("both clients are told the same last engine")
          .isEqualTo(control.events("ack").stream().map(e -> e.get("engine")).toList());
      assertThat(coordinator.awaitTermination(WAIT))
          .as("the coordinator ends after the STOP acknowledgements, as core_v0.16's")
          .isTrue();
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void aCrashedEnginesRequestsAreAnsweredFailedInsideARequestRecord() throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config(2, false, metrics));
      String endpoint = coordinator.endpoint();
      InteropProcess doomed = python.releaseEngine(SCRIPT, endpoint, 0, "--die-after", "2");
      InteropProcess survivor = python.releaseEngine(SCRIPT, endpoint, 1);
      assertThat(coordinator.status().awaitStarted(WAIT)).as("engines registered").isTrue();

      InteropProcess client =
          python.releaseClient(SCRIPT, "client", coordinator, "requests", "--count", "4");
      doomed.awaitExit(17, WAIT);
      client.awaitExit(0, WAIT); // the FAILED records passed the template check inside a record
      InteropPython.assertEveryOtherFailed(client, doomed, "COMPLETED");
      assertThat(survivor.events("reply")).hasSize(2);
      Await.until(
          "the crashed engine removed, nothing in flight",
          () -> coordinator.status().activeEngines() == 1 && coordinator.status().inFlight() == 0);
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  /**
   * A seeded walk of 163 steps (61 SUBMITs from two clients whose ids collide, token and text
   * prompts; 51 replies of 1 to 3 records, some holding two requests, some ending in EOD; 10 PAUSE
   * rounds, 4 of them acknowledged by every engine and relayed; UNPAUSE, SUSPEND, RESUME; then STOP
   * and every acknowledgement) gets, frame for frame, what core_v0.16.1's own coordinator sent on
   * it: the engines' frames in order, each client's as a set. Recorded by
   * generate_core016_parity.py.
   */
  @Test
  void aRandomWalkGetsWhatCoreV016sOwnCoordinatorSent() throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator =
          python.startCoordinator(
              CoordinatorConfig.builder()
                  .expectedEngines(3)
                  .engineDialect(Dialect.V0_16)
                  .routing(roundRobin())
                  // core_v0.16's NullTokenizer of 2^20 ids, whose eod is its vocabulary size
                  .tokenizer(Tokenizers.fromSpec("null:1048576,eod=1048576"))
                  .tokenizerThreads(2)
                  .metrics(metrics)
                  .build());
      Path expected = python.copyResource("core016-parity.jsonl");
      InteropProcess walk =
          python.run(
              "walk",
              "core016_parity.py",
              List.of("--endpoint", coordinator.endpoint(), "--expected", expected.toString()));
      walk.awaitExit(0, WAIT);
      assertThat(walk.events("done").get(0).getLong("steps")).isEqualTo(163);
      assertThat(coordinator.awaitTermination(WAIT)).as("ended after STOP's acks").isTrue();
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
      assertThat(metrics.count(Metric.COORDINATOR_DETOKENIZE_FAILED_TOTAL)).isZero();
    }
  }

  /** core_v0.16's only rule: core_v0.18's round robin. */
  private static RouterConfig roundRobin() {
    return RouterConfig.builder().release(MegatronRelease.V0_18).policy(Policy.ROUND_ROBIN).build();
  }

  private static CoordinatorConfig config(
      int engines, boolean nullTokenizer, InMemoryMetrics metrics) {
    CoordinatorConfig.Builder b =
        CoordinatorConfig.builder()
            .expectedEngines(engines)
            .engineDialect(Dialect.V0_16)
            .routing(roundRobin())
            .metrics(metrics);
    if (nullTokenizer) {
      b.tokenizer(Tokenizers.fromSpec("null")).tokenizerThreads(1);
    }
    return b.build();
  }
}
