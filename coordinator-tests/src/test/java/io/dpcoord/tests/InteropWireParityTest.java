package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.tokenizers.Tokenizers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random walks of client and engine messages against a coordinator configured as Megatron's was:
 * every engine receives at every step, and the client for every request, what Megatron main's own
 * coordinator sent on the same walk (the walks and their delimiting in {@code wire_parity.py}; the
 * recordings, {@code wire-parity.jsonl} and {@code control-parity.jsonl}, made by {@code
 * generate_wire_parity.py} with Megatron's code).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropWireParityTest {
  @TempDir Path dir;

  /**
   * 400 steps: submits and submits with KV from two clients whose request ids both count from 0,
   * aborts, RELEASE_KV, control signals in every state, partial and final replies (the tokenizer's
   * EOD at the end of some, detokenize_stop_sequence on some).
   */
  @Test
  void everyPeerReceivesWhatMegatronsCoordinatorSent() throws Exception {
    InteropProcess.Event done = walk("wire-parity.jsonl");
    assertThat(done.getLong("steps")).isEqualTo(400);
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
      assertThat(done.getLong(kind)).as("steps of kind %s", kind).isPositive();
    }
  }

  /** 300 control signals, SET_GENERATION_EPOCH among them, most not allowed where they fall. */
  @Test
  void everyEngineReceivesTheControlSignalsMegatronsCoordinatorSent() throws Exception {
    InteropProcess.Event done = walk("control-parity.jsonl", "--signals");
    assertThat(done.getLong("steps")).isEqualTo(300);
    assertThat(done.getLong("SET_GENERATION_EPOCH")).isPositive();
    assertThat(done.getLong("SUSPEND")).isPositive();
  }

  private InteropProcess.Event walk(String recording, String... options) throws Exception {
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator =
          python.startCoordinator(
              CoordinatorConfig.builder()
                  .expectedEngines(2)
                  .routing(ParityFixtures.megatronRouting())
                  .tokenizer(Tokenizers.fromSpec("null:1048576")) // Megatron's NullTokenizer there
                  .build());
      Path expected = python.copyResource(recording);
      List<String> args =
          new ArrayList<>(
              List.of("--endpoint", coordinator.endpoint(), "--expected", expected.toString()));
      args.addAll(List.of(options));
      InteropProcess driver = python.run("walk", "wire_parity.py", args);
      driver.awaitExit(0, Duration.ofSeconds(50));
      return driver.events("done").get(0);
    }
  }
}
