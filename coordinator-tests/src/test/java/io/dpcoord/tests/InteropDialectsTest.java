package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.server.ControlState;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.tokenizers.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Megatron 0.18 (core_v0.17/0.18) and 0.19 (main) Python peers on one Java coordinator, in every
 * pairing: clients of either release against engines of either release ({@code --engine-wire}), and
 * clients of both releases at once. The peers speak only their own release's wire ({@code
 * interop/megatron_wire.py}: header numbering, SUBMIT arity, record fields); a 0.18 engine dies on
 * a 4-field SUBMIT or a header it lacks, a 0.18 client on a header it lacks (a partial reply) or a
 * record key its {@code DynamicInferenceRequest} rejects. The coordinator runs {@code --tokenizer
 * null}, so every final record carries Megatron's {@code generated_text}, and a 0.18 client's
 * record of a token prompt the prompt its own coordinator fills in.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropDialectsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int ENGINES = 2;
  private static final String BATCHES = "24,12";
  private static final int REQUESTS = 24 + 12 + 1; // the batches, then the barrier request
  private static final int STREAM_EVERY = 4;
  private static final int MEDIA_EVERY = 5; // 0.19 clients only
  private static final int FIELDS_0_18 = 31;
  private static final int FIELDS_0_19 = 36;
  private static final int FAILED_TEMPLATE_FIELDS = 7;
  private static final int STREAMED = (24 + 12 + STREAM_EVERY - 1) / STREAM_EVERY; // per client

  /**
   * The digest of msgpack nil: the multi_modal_data a 0.19 engine gets when the client sent none.
   */
  private static final String NIL_SHA256 = InteropPython.sha256(new byte[] {(byte) 0xc0});

  /** Control header numbers, written out independently of the codec's tables. */
  private static final Map<String, Integer> OLD_NUMBERS =
      Map.of(
          "PAUSE",
          5,
          "UNPAUSE",
          6,
          "SUSPEND",
          7,
          "RESUME",
          8,
          "SET_GENERATION_EPOCH",
          9,
          "STOP",
          10);

  private static final Map<String, Integer> NEW_NUMBERS =
      Map.of(
          "PAUSE", 40,
          "UNPAUSE", 41,
          "SUSPEND", 42,
          "RESUME", 43,
          "SET_GENERATION_EPOCH", 44,
          "STOP", 45,
          "START_CUDA_PROFILER", 46,
          "STOP_CUDA_PROFILER", 47);

  @TempDir Path dir;

  @ParameterizedTest(name = "{0} client, {1} engines")
  @CsvSource({"0.18,0.18", "0.18,0.19", "0.19,0.18", "0.19,0.19"})
  void requestsAreServedInEachSidesOwnDialect(String clientWire, String engineWire)
      throws Exception {
    serve(engineWire, List.of(clientWire));
  }

  @ParameterizedTest(name = "{0} engines")
  @ValueSource(strings = {"0.18", "0.19"})
  void clientsOfBothReleasesShareOneCoordinator(String engineWire) throws Exception {
    serve(engineWire, List.of("0.18", "0.19"));
  }

  /**
   * Clients of the given releases, using the same client ids, each send text and token prompts
   * (every 4th streamed, every 5th of a 0.19 client's with multimodal data) in two batches and a
   * barrier request; two engines answer, every third generation ending in one EOD and every third
   * in two.
   */
  private void serve(String engineWire, List<String> clientWires) throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    boolean oldEngines = engineWire.equals("0.18");
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config(engineWire, ENGINES, metrics));
      String endpoint = coordinator.endpoint();
      List<InteropProcess> engines = new ArrayList<>();
      for (int rank = 0; rank < ENGINES; rank++) {
        engines.add(engine(python, endpoint, rank, engineWire));
      }
      assertThat(coordinator.status().awaitStarted(WAIT)).as("engines registered").isTrue();

      List<InteropProcess> clients = new ArrayList<>();
      for (String wire : clientWires) {
        String media = wire.equals("0.19") ? "" + MEDIA_EVERY : "0";
        clients.add(
            requests(
                python,
                endpoint,
                wire,
                clients.size(),
                "--batches",
                BATCHES,
                "--stream-every",
                "" + STREAM_EVERY,
                "--media-every",
                media,
                "--barrier"));
      }
      for (InteropProcess client : clients) {
        client.awaitExit(0, WAIT); // it checked every record and exits 1 on one it rejects
      }
      engines.forEach(InteropProcess::close); // all their output is read once they are gone

      Map<Long, InteropProcess.Event> finals = new HashMap<>();
      Map<Long, InteropProcess.Event> streamed = new HashMap<>();
      Map<Long, InteropProcess.Event> received = new HashMap<>();
      for (InteropProcess engine : engines) {
        for (InteropProcess.Event e : engine.events("reply")) {
          assertThat(finals.put(e.getLong("rid"), e)).as("two records for %s", e).isNull();
        }
        for (InteropProcess.Event e : engine.events("request")) {
          assertThat(received.put(e.getLong("rid"), e)).as("request %s seen twice", e).isNull();
          assertThat(e.getLong("fields"))
              .as("%s: SUBMIT elements in Megatron %s", e, engineWire)
              .isEqualTo(oldEngines ? 4 : 5);
        }
        for (InteropProcess.Event e : engine.events("partial")) {
          assertThat(streamed.put(e.getLong("rid"), e)).as("two partials for %s", e).isNull();
        }
      }
      assertThat(streamed)
          .as("partial replies streamed (0.18 engines never stream)")
          .hasSize(oldEngines ? 0 : clientWires.size() * STREAMED);

      Set<Long> answered = new HashSet<>();
      for (InteropProcess client : clients) {
        String wire = client.name().substring("client-".length());
        boolean oldClient = wire.equals("0.18");
        List<InteropProcess.Event> replies = new ArrayList<>(client.events("reply"));
        replies.addAll(client.events("barrier"));
        assertThat(replies.stream().map(e -> e.getLong("cid")))
            .as("%s: exactly one terminal reply per request", client.name())
            .containsExactlyInAnyOrderElementsOf(LongStream.range(0, REQUESTS).boxed().toList());
        Map<Long, InteropProcess.Event> sent =
            client.events("sent").stream().collect(Collectors.toMap(e -> e.getLong("cid"), e -> e));
        for (InteropProcess.Event reply : replies) {
          long cid = reply.getLong("cid");
          long rid = reply.getLong("rid");
          assertThat(answered.add(rid)).as("request id %d answered twice", rid).isTrue();
          InteropProcess.Event atClient = sent.get(cid);
          if (oldEngines && atClient.fields().containsKey("media")) {
            assertThat(reply.get("status"))
                .as("%s: multimodal request %d to 0.18 engines", client.name(), cid)
                .isEqualTo("FAILED");
            assertThat(reply.getLong("keys")).isEqualTo(FAILED_TEMPLATE_FIELDS);
            assertThat(received)
                .as("0.18 engines never see multimodal data")
                .doesNotContainKey(rid);
            continue;
          }
          assertThat(reply.get("status")).isEqualTo("COMPLETED");
          assertThat(reply.getLong("keys"))
              .as("%s: record fields", client.name())
              .isEqualTo(oldClient || oldEngines ? FIELDS_0_18 : FIELDS_0_19);
          assertThat(reply.get("sha256"))
              .as(
                  "%s: request %d is its engine's record as Megatron %s's coordinator sends it",
                  client.name(), rid, wire)
              .isEqualTo(finals.get(rid).get(oldClient ? "v018" : "v019"));
          InteropProcess.Event atEngine = received.get(rid);
          assertThat(atEngine).as("engine side of request %d", rid).isNotNull();
          assertThat(atEngine.get("prompt")).isEqualTo(atClient.get("prompt"));
          assertThat(atEngine.get("sp")).isEqualTo(atClient.get("sp"));
          if (!oldEngines) {
            assertThat(atEngine.get("media"))
                .isEqualTo(atClient.fields().getOrDefault("media", NIL_SHA256));
          }
        }
        List<InteropProcess.Event> partials = client.events("partial");
        assertThat(partials)
            .as("%s: partial replies (none for a 0.18 client)", client.name())
            .hasSize(oldClient || oldEngines ? 0 : STREAMED);
        for (InteropProcess.Event p : partials) {
          assertThat(p.get("sha256")).isEqualTo(streamed.get(p.getLong("rid")).get("sha256"));
        }
      }
      assertThat(finals.keySet()).isEqualTo(received.keySet());
      assertThat(answered).containsAll(received.keySet());
      Await.until(
          "nothing in flight",
          () -> coordinator.status().inFlight() == 0,
          () -> observed(coordinator));
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
      assertThat(metrics.count(Metric.COORDINATOR_DETOKENIZE_FAILED_TOTAL)).isZero();
    }
  }

  /**
   * PAUSE, an epoch, (a 0.19 client:) both profiler signals, SUSPEND, RESUME, UNPAUSE, RESUME while
   * RUNNING (rejected), PAUSE, an epoch needing uint64, STOP: every accepted signal reaches each
   * engine whole and in order, numbered in the engines' release (profiler signals, which 0.18
   * lacks, reach no 0.18 engine); the engines leave with their release's DISCONNECT; SHUTDOWN in
   * the client's release stops the coordinator.
   */
  @ParameterizedTest(name = "{0} client, {1} engines")
  @CsvSource({"0.18,0.18", "0.18,0.19", "0.19,0.18", "0.19,0.19"})
  void controlSignalsReachTheEnginesInTheirOwnDialect(String clientWire, String engineWire)
      throws Exception {
    List<String> signals = new ArrayList<>(List.of("PAUSE", "SET_GENERATION_EPOCH:7"));
    if (clientWire.equals("0.19")) {
      signals.addAll(List.of("START_CUDA_PROFILER", "STOP_CUDA_PROFILER"));
    }
    signals.addAll(
        List.of(
            "SUSPEND",
            "RESUME",
            "UNPAUSE",
            "RESUME", // rejected in RUNNING: broadcast to none
            "PAUSE",
            "SET_GENERATION_EPOCH:8589934597",
            "STOP"));
    int rejected = signals.lastIndexOf("RESUME");
    Dialect clients = Dialect.parse(clientWire);
    Dialect engineDialect = Dialect.parse(engineWire);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < signals.size(); i++) {
      if (i != rejected && !(engineWire.equals("0.18") && signals.get(i).contains("PROFILER"))) {
        expected.add(signals.get(i));
      }
    }

    InMemoryMetrics metrics = new InMemoryMetrics();
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config(engineWire, ENGINES, metrics));
      String endpoint = coordinator.endpoint();
      List<InteropProcess> engines =
          python.engines(coordinator, ENGINES, WAIT, "--wire", engineWire);

      InteropProcess client =
          python.client(
              "client",
              endpoint,
              "--wire",
              clientWire,
              "control",
              "--signals",
              String.join(",", signals));
      assertThat(
              client.awaitEvents("signal", signals.size(), WAIT).stream()
                  .map(e -> e.get("payload")))
          .as("the client's signals in its own numbering")
          .containsExactlyElementsOf(signals.stream().map(s -> payload(clients, s)).toList());

      for (InteropProcess engine : engines) {
        engine.awaitExit(0, WAIT); // it sends DISCONNECT and exits on STOP
        List<InteropProcess.Event> got = engine.events("signal");
        assertThat(got.stream().map(e -> e.get("name")))
            .as("%s received every accepted signal its release has, in order", engine.name())
            .containsExactlyElementsOf(expected.stream().map(s -> s.split(":")[0]).toList());
        assertThat(got.stream().map(e -> e.get("payload")))
            .as("%s received each whole, in Megatron %s's numbering", engine.name(), engineWire)
            .containsExactlyElementsOf(
                expected.stream().map(s -> payload(engineDialect, s)).toList());
        assertThat(engine.events("stopped")).hasSize(1);
        assertThat(engine.events("other")).isEmpty();
      }
      Await.until(
          "both engines gone after their DISCONNECT",
          () -> coordinator.status().activeEngines() == 0,
          () -> observed(coordinator));
      assertThat(coordinator.status().controlState()).isEqualTo(ControlState.RUNNING);

      client.writeLine("shutdown");
      client.awaitExit(0, WAIT);
      assertThat(coordinator.awaitTermination(WAIT)).as("SHUTDOWN stops the coordinator").isTrue();
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL))
          .as("the rejected RESUME; every other frame, each DISCONNECT too, read in its dialect")
          .isEqualTo(1);
    }
  }

  /**
   * A 0.18 and a 0.19 client send two requests each to the only engine, which crashes (os._exit) on
   * the 4th without answering: each client gets FAILED for both, as the coordinator's template its
   * release's DynamicInferenceRequest takes. Once another engine has registered, their next batch
   * is answered by it, each record as Megatron's coordinator of the client's release sends it.
   */
  @ParameterizedTest(name = "{0} engines")
  @ValueSource(strings = {"0.18", "0.19"})
  void aKilledEnginesRequestsAreAnsweredFailedInEachClientsDialect(String engineWire)
      throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config(engineWire, 1, metrics));
      String endpoint = coordinator.endpoint();
      InteropProcess doomed = engine(python, endpoint, 0, engineWire, "--die-after", "4");
      assertThat(coordinator.status().awaitStarted(WAIT)).as("engine registered").isTrue();

      List<InteropProcess> clients = new ArrayList<>();
      for (String wire : List.of("0.18", "0.19")) {
        clients.add(requests(python, endpoint, wire, clients.size(), "--batches", "2,3", "--gate"));
      }
      doomed.awaitExit(17, WAIT);
      for (InteropProcess client : clients) {
        client.awaitEvents("reply", 2, WAIT);
      }
      Await.until(
          "the crashed engine removed",
          () -> coordinator.status().activeEngines() == 0,
          () -> observed(coordinator));

      InteropProcess survivor = engine(python, endpoint, 1, engineWire);
      Await.until(
          "the second engine registered",
          () -> coordinator.status().activeEngines() == 1,
          () -> observed(coordinator));
      for (InteropProcess client : clients) {
        client.writeLine("next");
      }
      for (InteropProcess client : clients) {
        client.awaitExit(0, WAIT);
      }
      Map<Long, InteropProcess.Event> served =
          survivor.awaitEvents("reply", 2 * 3, WAIT).stream()
              .collect(Collectors.toMap(e -> e.getLong("rid"), e -> e));

      Set<Long> failedRids = new HashSet<>();
      for (InteropProcess client : clients) {
        boolean oldClient = client.name().endsWith("0.18");
        Map<Long, InteropProcess.Event> replies =
            client.events("reply").stream()
                .collect(Collectors.toMap(e -> e.getLong("cid"), e -> e));
        assertThat(replies.keySet()).containsExactlyInAnyOrder(0L, 1L, 2L, 3L, 4L);
        for (InteropProcess.Event reply : replies.values()) {
          if (reply.getLong("cid") < 2) {
            assertThat(reply.get("status")).as("%s: %s", client.name(), reply).isEqualTo("FAILED");
            assertThat(reply.getLong("keys")).isEqualTo(FAILED_TEMPLATE_FIELDS);
            failedRids.add(reply.getLong("rid"));
          } else {
            assertThat(reply.get("status")).isEqualTo("COMPLETED");
            assertThat(reply.get("sha256"))
                .isEqualTo(served.get(reply.getLong("rid")).get(oldClient ? "v018" : "v019"));
          }
        }
      }
      assertThat(failedRids)
          .as("FAILED records name the requests the crashed engine held")
          .containsExactlyInAnyOrderElementsOf(
              doomed.events("request").stream().map(e -> e.getLong("rid")).toList());
      assertThat(doomed.events("dying")).hasSize(1);
      Await.until(
          "nothing in flight",
          () -> coordinator.status().inFlight() == 0,
          () -> observed(coordinator));
      assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  /**
   * Starts {@code engine.py} of release {@code wire} for a coordinator with the null tokenizer (its
   * reply lines then give the digests of each record as each release's client must get it).
   */
  private static InteropProcess engine(
      InteropPython python, String endpoint, int rank, String wire, String... options)
      throws IOException {
    List<String> args = new ArrayList<>(List.of("--wire", wire, "--null-tokenizer"));
    args.addAll(List.of(options));
    return python.engine(endpoint, rank, args.toArray(new String[0]));
  }

  /**
   * Starts {@code client.py requests} named {@code client-<wire>}, speaking release {@code wire} to
   * a coordinator with the null tokenizer, with the seed and options given.
   */
  private static InteropProcess requests(
      InteropPython python, String endpoint, String wire, int seed, String... options)
      throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of("--wire", wire, "--null-tokenizer", "requests", "--seed", "" + seed));
    args.addAll(List.of(options));
    return python.client("client-" + wire, endpoint, args.toArray(new String[0]));
  }

  private static String observed(Coordinator coordinator) {
    return "active engines "
        + coordinator.status().activeEngines()
        + ", in flight "
        + coordinator.status().inFlight();
  }

  private static CoordinatorConfig config(String engineWire, int engines, InMemoryMetrics metrics) {
    return CoordinatorConfig.builder()
        .expectedEngines(engines)
        .engineDialect(Dialect.parse(engineWire))
        .tokenizer(Tokenizers.fromSpec("null"))
        .tokenizerThreads(1)
        .metrics(metrics)
        .build();
  }

  /**
   * The hex of {@code [header]} or {@code [header, argument]} for a signal written {@code NAME} or
   * {@code NAME:ARG}, numbered as in {@code dialect} (written out here, independently of the codec:
   * every header is a positive fixint, an argument a fixint or a uint64).
   */
  private static String payload(Dialect dialect, String signal) {
    String[] parts = signal.split(":");
    int header = (dialect == Dialect.V0_18 ? OLD_NUMBERS : NEW_NUMBERS).get(parts[0]);
    if (parts.length == 1) {
      return String.format("91%02x", header);
    }
    long argument = Long.parseLong(parts[1]);
    return String.format(
        "92%02x%s",
        header,
        argument < 128 ? String.format("%02x", argument) : String.format("cf%016x", argument));
  }
}
