package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.server.ControlState;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Control signals from a Python client reach every Python engine as the whole payload, byte for
 * byte; a signal the state machine rejects reaches none; SHUTDOWN stops the coordinator.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropControlSignalsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  /**
   * PAUSE, epoch 7, both profiler signals, SUSPEND, RESUME, UNPAUSE, then RESUME while RUNNING
   * (rejected: not broadcast), PAUSE, an epoch that needs a uint64 encoding, STOP.
   */
  private static final String SIGNALS = "40,44:7,46,47,42,43,41,43,40,44:8589934597,45";

  private static final int REJECTED = 7; // index of the RESUME sent while RUNNING

  @TempDir Path dir;

  @Test
  void signalsReachEveryEngineWholeAndShutdownStopsTheCoordinator() throws Exception {
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator =
          python.startCoordinator(CoordinatorConfig.builder().expectedEngines(2).build());
      String endpoint = coordinator.endpoint();
      List<InteropProcess> engines = python.engines(coordinator, 2, WAIT);

      InteropProcess client = python.client("client", endpoint, "control", "--signals", SIGNALS);
      List<String> sent = new ArrayList<>();
      for (InteropProcess.Event e : client.awaitEvents("signal", 11, WAIT)) {
        sent.add(e.get("payload"));
      }
      assertThat(sent.get(REJECTED)).isEqualTo("912b"); // [43]
      assertThat(sent.get(9)).isEqualTo("922ccf0000000200000005"); // [44, 2^33 + 5]
      List<String> expected = new ArrayList<>(sent);
      expected.remove(REJECTED);

      for (InteropProcess engine : engines) {
        engine.awaitExit(0, WAIT); // it sends DISCONNECT and exits on STOP
        assertThat(engine.events("signal").stream().map(e -> e.get("payload")))
            .as("%s received every accepted signal, whole, in order", engine.name())
            .containsExactlyElementsOf(expected);
        assertThat(engine.events("stopped")).hasSize(1);
        assertThat(engine.events("other")).isEmpty();
      }
      assertThat(coordinator.status().controlState()).isEqualTo(ControlState.RUNNING);

      client.writeLine("shutdown");
      client.awaitExit(0, WAIT);
      assertThat(coordinator.awaitTermination(WAIT)).as("SHUTDOWN stops the coordinator").isTrue();
    }
  }
}
