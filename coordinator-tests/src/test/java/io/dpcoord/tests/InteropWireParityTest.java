package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.tokenizers.Tokenizers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 400-step random walk of client and engine messages (submits, submits with KV, aborts,
 * RELEASE_KV, control signals in every state, partial and final replies with the tokenizer's EOD)
 * against a coordinator configured as Megatron's was: every engine receives at every step, and the
 * client for every request, what Megatron main's own coordinator sent (wire-parity.jsonl, recorded
 * by {@code generate_wire_parity.py}; the walk and its delimiting in {@code wire_parity.py}).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropWireParityTest {
  @TempDir Path dir;

  @Test
  void everyPeerReceivesWhatMegatronsCoordinatorSent() throws Exception {
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator =
          python.startCoordinator(
              CoordinatorConfig.builder()
                  .expectedEngines(2)
                  .routing(ParityFixtures.megatronRouting())
                  .tokenizer(Tokenizers.fromSpec("null:1048576")) // Megatron's NullTokenizer there
                  .build());
      Path expected = python.copyResource("wire-parity.jsonl");
      InteropProcess driver =
          python.run(
              "walk",
              "wire_parity.py",
              List.of("--endpoint", coordinator.endpoint(), "--expected", expected.toString()));
      driver.awaitExit(0, Duration.ofSeconds(50));
      InteropProcess.Event done = driver.events("done").get(0);
      assertThat(done.getLong("steps")).isEqualTo(400);
      // the walk reaches every kind of step
      for (String kind :
          List.of(
              "SUBMIT_REQUEST",
              "SUBMIT_REQUEST_WITH_KV",
              "ABORT_REQUEST",
              "RELEASE_KV",
              "ENGINE_REPLY",
              "ENGINE_REPLY_PARTIAL",
              "PAUSE",
              "SUSPEND",
              "RESUME",
              "UNPAUSE",
              "STOP")) {
        assertThat(done.getLong(kind)).as(kind).isPositive();
      }
    }
  }
}
