package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Megatron-like Python clients and engines (libzmq, msgpack) against the Java coordinator: every
 * byte a peer packs reaches the other side unchanged, under the right ids.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropPythonPeersTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int ENGINES = 3;
  private static final int REQUESTS_PER_CLIENT = 200;
  private static final int STREAM_EVERY = 5;

  /** The digest of msgpack nil: the multi_modal_data an engine gets when the client sent none. */
  private static final String NIL_SHA256 = InteropPython.sha256(new byte[] {(byte) 0xc0});

  @TempDir Path dir;

  @Test
  void pythonClientsAndEnginesSeeEachOthersBytesUnderTheirOwnIds() throws Exception {
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator =
          python.startCoordinator(CoordinatorConfig.builder().expectedEngines(ENGINES).build());
      String endpoint = coordinator.endpoint();
      List<InteropProcess> engines = python.engines(coordinator, ENGINES, WAIT);

      // two clients at once, both using client ids 0..N-1 for different prompts
      String[] batches = {
        "--batches", "" + REQUESTS_PER_CLIENT, "--stream-every", "" + STREAM_EVERY
      };
      InteropProcess a = python.client("client-a", endpoint, with(batches, "requests", "1"));
      InteropProcess b = python.client("client-b", endpoint, with(batches, "requests", "2"));
      a.awaitExit(0, WAIT);
      b.awaitExit(0, WAIT);
      engines.forEach(InteropProcess::close); // all their output is read once they are gone

      Map<Long, String> finals = new HashMap<>();
      Map<Long, String> partials = new HashMap<>();
      Map<Long, InteropProcess.Event> received = new HashMap<>();
      for (InteropProcess engine : engines) {
        collect(engine.events("reply"), finals);
        collect(engine.events("partial"), partials);
        for (InteropProcess.Event e : engine.events("request")) {
          assertThat(received.put(e.getLong("rid"), e)).as("request %s seen twice", e).isNull();
        }
      }

      Set<Long> answeredRids = new HashSet<>();
      for (InteropProcess client : List.of(a, b)) {
        List<InteropProcess.Event> replies = client.events("reply");
        assertThat(replies.stream().map(e -> e.getLong("cid")))
            .as("%s: one terminal reply per client id", client.name())
            .containsExactlyInAnyOrderElementsOf(
                LongStream.range(0, REQUESTS_PER_CLIENT).boxed().toList());
        Map<Long, InteropProcess.Event> sent =
            client.events("sent").stream().collect(Collectors.toMap(e -> e.getLong("cid"), e -> e));
        for (InteropProcess.Event reply : replies) {
          long rid = reply.getLong("rid");
          assertThat(reply.get("status")).isEqualTo("COMPLETED");
          assertThat(answeredRids.add(rid)).as("request id %d answered twice", rid).isTrue();
          assertThat(reply.get("sha256"))
              .as("%s: record of request %d is the bytes its engine packed", client.name(), rid)
              .isEqualTo(finals.get(rid));
          InteropProcess.Event atEngine = received.get(rid);
          InteropProcess.Event atClient = sent.get(reply.getLong("cid"));
          assertThat(atEngine).as("engine side of request %d", rid).isNotNull();
          assertThat(atEngine.get("prompt")).isEqualTo(atClient.get("prompt"));
          assertThat(atEngine.get("sp")).isEqualTo(atClient.get("sp"));
          assertThat(atEngine.get("media")).isEqualTo(NIL_SHA256);
        }
        List<InteropProcess.Event> streamed = client.events("partial");
        assertThat(streamed).hasSize(REQUESTS_PER_CLIENT / STREAM_EVERY);
        for (InteropProcess.Event p : streamed) {
          assertThat(p.getLong("cid") % STREAM_EVERY).isZero();
          assertThat(p.get("sha256")).isEqualTo(partials.get(p.getLong("rid")));
        }
      }
      assertThat(answeredRids).isEqualTo(finals.keySet()).isEqualTo(received.keySet());
      assertThat(partials).hasSize(2 * REQUESTS_PER_CLIENT / STREAM_EVERY);
      assertThat(coordinator.status().inFlight()).isZero();
    }
  }

  private static String[] with(String[] options, String scenario, String seed) {
    List<String> args = new ArrayList<>(List.of(scenario, "--seed", seed));
    args.addAll(List.of(options));
    return args.toArray(new String[0]);
  }

  private static void collect(List<InteropProcess.Event> events, Map<Long, String> into) {
    for (InteropProcess.Event e : events) {
      assertThat(into.put(e.getLong("rid"), e.get("sha256")))
          .as("two records for request %s", e.get("rid"))
          .isNull();
    }
  }
}
