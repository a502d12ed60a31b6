package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.zeromq.SocketType;
import org.zeromq.ZMQ;

@Timeout(30)
class EngineCommandTest {

  @Test
  void runsUntilStopAndSaysWhatItDid() throws Exception {
    try (ZMQ.Context context = ZMQ.context(1);
        ZMQ.Socket router = context.socket(SocketType.ROUTER)) {
      router.setLinger(0);
      router.setReceiveTimeOut(10_000);
      router.bind("tcp://127.0.0.1:*");
      CompletableFuture<CliRun> engine =
          CompletableFuture.supplyAsync(
              () -> CliRun.of("engine", "--connect", router.getLastEndpoint(), "--rank", "5"));

      byte[] identity = router.recv(0);
      byte[] registration = router.recv(0);
      router.send(identity, ZMQ.SNDMORE);
      router.send(new byte[] {(byte) 0x91, 45}, 0); // [45] STOP
      byte[] identityAgain = router.recv(0);
      byte[] disconnect = router.recv(0);
      CliRun run = engine.get(10, TimeUnit.SECONDS);

      assertThat(new String(identity, StandardCharsets.UTF_8)).isEqualTo("mp-coord-5");
      assertThat(registration).isEmpty();
      assertThat(identityAgain).isEqualTo(identity);
      assertThat(disconnect).containsExactly(0x91, 60); // [60] DISCONNECT
      assertThat(run.status()).isZero();
      assertThat(run.out()).contains("engine mp-coord-5 stopped: accepted 0");
      assertThat(run.err()).contains("engine mp-coord-5 connected to tcp://127.0.0.1:");
    }
  }

  @Test
  void helpDescribesTheFlags() {
    CliRun run = CliRun.of("engine", "--help");

    assertThat(run.status()).isZero();
    assertThat(run.out())
        .contains("Usage: coordinator engine")
        .contains("--connect")
        .contains("--rank")
        .contains("--cache-blocks")
        .contains("--block-size")
        .contains("--base-ms")
        .contains("--per-prompt-token-us")
        .contains("--per-generated-token-us")
        .contains("--generated-tokens")
        .contains("--stream");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--rank 0",
        "--connect tcp://127.0.0.1:5555",
        "--connect localhost:5555 --rank 0",
        "--connect tcp://127.0.0.1:0 --rank 0",
        "--connect tcp://127.0.0.1:5555 --rank -1",
        "--connect tcp://127.0.0.1:5555 --rank x",
        "--connect tcp://127.0.0.1:5555 --rank 0 --cache-blocks -1",
        "--connect tcp://127.0.0.1:5555 --rank 0 --block-size 0",
        "--connect tcp://127.0.0.1:5555 --rank 0 --base-ms -1",
        "--connect tcp://127.0.0.1:5555 --rank 0 --per-prompt-token-us NaN",
        "--connect tcp://127.0.0.1:5555 --rank 0 --generated-tokens -3",
        "--connect tcp://127.0.0.1:5555 --rank 0 --bogus"
      })
  void badFlagsExit2WithOneLine(String flags) {
    CliRun run = CliRun.of(("engine " + flags).split(" "));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.errLines()).hasSize(1);
    assertThat(run.errLines().get(0)).startsWith("coordinator engine: ");
  }
}
