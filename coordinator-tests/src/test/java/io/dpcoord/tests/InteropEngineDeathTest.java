package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Python engine that crashes with requests pending: the Python client gets a FAILED record for
 * each, and every one passes the client's Megatron-strict check (exact template keys, status,
 * ERROR_NONTRANSIENT then FAIL with a nil payload, int request_id).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropEngineDeathTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int HELD = 4; // requests each engine holds in the first batch
  private static final int SECOND_BATCH = 6;

  @TempDir Path dir;

  @Test
  void requestsPendingOnACrashedEngineAreAnsweredFailedAsMegatronReadsThem() throws Exception {
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator =
          python.startCoordinator(
              CoordinatorConfig.builder()
                  .expectedEngines(2)
                  .routing(RouterConfig.builder().policy(Policy.LOAD_BALANCED).build())
                  .build());
      String endpoint = coordinator.endpoint();
      /*
       * Neither engine answers during the first batch, so load-balanced routing alternates
       * (ties go to rank 0): client ids 0, 2, 4, 6 to mp-coord-0, which crashes on its 4th;
       * 1, 3, 5, 7 to mp-coord-1, which then answers them all. The client sends the second batch
       * once the first is answered: it can only go to mp-coord-1.
       */
      InteropProcess doomed = python.engine(endpoint, 0, "--die-after", "" + HELD);
      InteropProcess survivor = python.engine(endpoint, 1, "--hold", "" + HELD);
      assertThat(coordinator.status().awaitStarted(WAIT)).as("engines registered").isTrue();

      InteropProcess client =
          python.client("client", endpoint, "requests", "--batches", 2 * HELD + "," + SECOND_BATCH);
      client.awaitExit(0, WAIT); // the client checked every FAILED record and exits 1 on a bad one
      doomed.awaitExit(17, WAIT);
      assertThat(coordinator.status().activeEngines()).isEqualTo(1);
      assertThat(coordinator.status().inFlight()).isZero();

      Map<Long, InteropProcess.Event> replies =
          client.events("reply").stream().collect(Collectors.toMap(e -> e.getLong("cid"), e -> e));
      assertThat(replies.keySet())
          .containsExactlyInAnyOrderElementsOf(
              LongStream.range(0, 2 * HELD + SECOND_BATCH).boxed().toList());
      List<Long> failedCids =
          replies.values().stream()
              .filter(e -> e.get("status").equals("FAILED"))
              .map(e -> e.getLong("cid"))
              .sorted()
              .toList();
      assertThat(failedCids).containsExactly(0L, 2L, 4L, 6L);
      assertThat(doomed.events("dying")).hasSize(1);
      assertThat(
              replies.values().stream()
                  .filter(e -> e.get("status").equals("FAILED"))
                  .map(e -> e.getLong("rid")))
          .as("FAILED records name the requests the crashed engine held")
          .containsExactlyInAnyOrderElementsOf(
              doomed.events("request").stream().map(e -> e.getLong("rid")).toList());

      Map<Long, String> served =
          survivor.awaitEvents("reply", HELD + SECOND_BATCH, WAIT).stream()
              .collect(Collectors.toMap(e -> e.getLong("rid"), e -> e.get("sha256")));
      for (InteropProcess.Event reply : replies.values()) {
        if (reply.get("status").equals("COMPLETED")) {
          assertThat(reply.get("sha256")).isEqualTo(served.get(reply.getLong("rid")));
        }
      }
      assertThat(survivor.events("reply")).hasSize(HELD + SECOND_BATCH);
    }
  }
}
