package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Engines of Megatron core_v0.19.0 (`serve --engine-wire 0.19.0`): main's header numbering, but an
 * engine that unpacks a SUBMIT as exactly three fields after the header, so that main's fifth
 * element (nil multi_modal_data) is the ValueError that ends it. Python engines that unpack as it
 * does and a main client that sends multimodal data with every fifth request.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropCoreV0190EnginesTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int ENGINES = 2;
  private static final int REQUESTS = 30 + 20;
  private static final int MEDIA_EVERY = 5;

  @TempDir Path dir;

  @Test
  void theyGetThreeFieldSubmitsAndRequestsWithMultimodalDataAreAnsweredFailed() throws Exception {
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator =
          python.startCoordinator(
              CoordinatorConfig.builder().expectedEngines(ENGINES).engineCoreV0190(true).build());
      String endpoint = coordinator.endpoint();
      List<InteropProcess> engines = python.engines(coordinator, ENGINES, WAIT, "--v0190-submit");

      InteropProcess client =
          python.client(
              "client",
              endpoint,
              "requests",
              "--batches",
              "30,20",
              "--media-every",
              "" + MEDIA_EVERY,
              "--barrier");
      client.awaitExit(0, WAIT);
      engines.forEach(InteropProcess::close);

      Map<Long, InteropProcess.Event> received = new HashMap<>();
      for (InteropProcess engine : engines) {
        for (InteropProcess.Event e : engine.events("request")) {
          assertThat(received.put(e.getLong("rid"), e)).as("request %s seen twice", e).isNull();
          assertThat(e.getLong("fields")).as("SUBMIT elements of %s", e).isEqualTo(4);
        }
      }
      List<InteropProcess.Event> replies = new ArrayList<>(client.events("reply"));
      replies.addAll(client.events("barrier"));
      assertThat(replies.stream().map(e -> e.getLong("cid")))
          .as("exactly one terminal reply per request")
          .containsExactlyInAnyOrderElementsOf(
              LongStream.rangeClosed(0, REQUESTS).boxed().toList());
      for (InteropProcess.Event reply : replies) {
        long cid = reply.getLong("cid");
        boolean media = cid < REQUESTS && cid % MEDIA_EVERY == MEDIA_EVERY - 1;
        assertThat(reply.get("status"))
            .as("request %d (multimodal: %s)", cid, media)
            .isEqualTo(media ? "FAILED" : "COMPLETED");
        assertThat(received.containsKey(reply.getLong("rid")))
            .as("request %d reached an engine", cid)
            .isEqualTo(!media);
      }
    }
  }
}
