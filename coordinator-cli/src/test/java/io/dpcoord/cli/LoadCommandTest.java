package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.SimulatedEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.zeromq.SocketType;
import org.zeromq.ZMQ;

@Timeout(60)
class LoadCommandTest {

  @Test
  void twoLoadsWithTheSameIdsAgainstOneCoordinatorLoseNothing() throws Exception {
    List<SimulatedEngine> engines = new ArrayList<>();
    try (Coordinator coordinator =
        Coordinator.start(CoordinatorConfig.builder().expectedEngines(2).build())) {
      for (int rank = 0; rank < 2; rank++) {
        engines.add(
            SimulatedEngine.start(
                coordinator.endpoint(), EngineConfig.builder(rank).base(Duration.ZERO).build()));
      }
      assertThat(coordinator.status().awaitStarted(Duration.ofSeconds(10))).isTrue();
      String[] args = {
        "load", "--connect", coordinator.endpoint(), "--requests", "200", "--concurrency", "16"
      };

      CompletableFuture<CliRun> first = CompletableFuture.supplyAsync(() -> CliRun.of(args));
      CompletableFuture<CliRun> second = CompletableFuture.supplyAsync(() -> CliRun.of(args));
      CliRun a = first.get(30, TimeUnit.SECONDS);
      CliRun b = second.get(30, TimeUnit.SECONDS);

      for (CliRun run : List.of(a, b)) {
        assertThat(run.status()).as(run.out() + run.err()).isZero();
        assertThat(run.out())
            .contains("sent 200  completed 200  failed 0  lost 0  duplicated 0")
            .contains("per engine");
      }
    } finally {
      engines.forEach(SimulatedEngine::close);
    }
  }

  @Test
  void unansweredRequestsAreLostAndExitOne() {
    try (ZMQ.Context context = ZMQ.context(1);
        ZMQ.Socket router = context.socket(SocketType.ROUTER)) {
      router.setLinger(0);
      router.bind("tcp://127.0.0.1:*");
      CompletableFuture<CliRun> load =
          CompletableFuture.supplyAsync(
              () ->
                  CliRun.of(
                      "load",
                      "--connect",
                      router.getLastEndpoint(),
                      "--requests",
                      "3",
                      "--concurrency",
                      "3",
                      "--idle-timeout",
                      "300ms"));
      router.setReceiveTimeOut(10_000);
      byte[] client = router.recv(0);
      router.recv(0); // CONNECT
      router.send(client, ZMQ.SNDMORE);
      router.send(new byte[] {(byte) 0x91, 1}, 0); // [1] CONNECT_ACK; the submits go unanswered

      CliRun run = load.join();

      assertThat(run.status()).isEqualTo(1);
      assertThat(run.out()).contains("lost 3");
      assertThat(run.errLines())
          .containsExactly("coordinator load: 3 lost and 0 duplicated of 3 requests");
    }
  }

  @Test
  void noConnectAckExitsOneWithOneLine() {
    try (ZMQ.Context context = ZMQ.context(1);
        ZMQ.Socket router = context.socket(SocketType.ROUTER)) {
      router.setLinger(0);
      router.bind("tcp://127.0.0.1:*");

      CliRun run =
          CliRun.of(
              "load",
              "--connect",
              router.getLastEndpoint(),
              "--requests",
              "3",
              "--concurrency",
              "1",
              "--connect-timeout",
              "200ms");

      assertThat(run.status()).isEqualTo(1);
      assertThat(run.errLines()).hasSize(1);
      assertThat(run.errLines().get(0)).startsWith("coordinator load: no CONNECT_ACK from ");
    }
  }

  @Test
  void helpDescribesTheFlags() {
    CliRun run = CliRun.of("load", "--help");

    assertThat(run.status()).isZero();
    assertThat(run.out())
        .contains("Usage: coordinator load")
        .contains("--requests")
        .contains("--concurrency")
        .contains("--system-prompts")
        .contains("--system-tokens")
        .contains("--suffix-tokens")
        .contains("--generated-tokens")
        .contains("--seed")
        .contains("--idle-timeout");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--requests 5 --concurrency 1",
        "--connect tcp://127.0.0.1:5555 --concurrency 1",
        "--connect tcp://127.0.0.1:5555 --requests 5",
        "--connect tcp://127.0.0.1:5555 --requests 0 --concurrency 1",
        "--connect tcp://127.0.0.1:5555 --requests 5 --concurrency 0",
        "--connect tcp://127.0.0.1:5555 --requests 5 --concurrency 1 --system-prompts 0",
        "--connect tcp://127.0.0.1:5555 --requests 5 --concurrency 1 --suffix-tokens -1",
        "--connect tcp://127.0.0.1:5555 --requests 5 --concurrency 1 --system-tokens 0"
            + " --suffix-tokens 0",
        "--connect tcp://127.0.0.1:5555 --requests 5 --concurrency 1 --idle-timeout soon",
        "--connect tcp://127.0.0.1:5555 --requests 5 --concurrency 1 --idle-timeout 0",
        "--connect udp://127.0.0.1:5555 --requests 5 --concurrency 1"
      })
  void badFlagsExit2WithOneLine(String flags) {
    CliRun run = CliRun.of(("load " + flags).split(" "));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.errLines()).hasSize(1);
    assertThat(run.errLines().get(0)).startsWith("coordinator load: ");
  }
}
