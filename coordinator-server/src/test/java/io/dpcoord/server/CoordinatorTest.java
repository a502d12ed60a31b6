package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.metrics.Metric;
import java.net.BindException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

@Timeout(30)
class CoordinatorTest {

  @Test
  void bindsAnEphemeralLoopbackPortAndReportsIt() throws Exception {
    try (Coordinator c = Coordinator.start(CoordinatorConfig.builder().build())) {
      assertThat(c.endpoint()).startsWith("tcp://127.0.0.1:");
      assertThat(c.port()).isPositive();
      assertThat(c.status().awaitStarted(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void aTakenPortIsABindExceptionNamingThePort() throws Exception {
    try (Coordinator first = Coordinator.start(CoordinatorConfig.builder().build())) {
      int port = first.port();
      assertThatThrownBy(() -> Coordinator.start(CoordinatorConfig.builder().port(port).build()))
          .isInstanceOf(BindException.class)
          .hasMessageContaining("port " + port);
    }
  }

  @Test
  void shutdownStopsTheLoopAndFreesThePort() throws Exception {
    Coordinator c = Coordinator.start(CoordinatorConfig.builder().build());
    int port = c.port();
    c.shutdown();
    assertThat(c.awaitTermination(Duration.ofSeconds(10))).isTrue();
    assertThat(c.isTerminated()).isTrue();
    try (Coordinator again = Coordinator.start(CoordinatorConfig.builder().port(port).build())) {
      assertThat(again.port()).isEqualTo(port);
    }
  }

  @Test
  void waitsForItsStartUpEngines() throws Exception {
    try (Coordinator c =
        Coordinator.start(CoordinatorConfig.builder().expectedEngines(2).build())) {
      assertThat(c.status().started()).isFalse();
      assertThat(c.status().activeEngines()).isZero();
    }
  }

  @Test
  void connectionsRefusedDuringTheirHandshakeLeaveNoPipeBehind() throws Exception {
    Limits oneConnection = new Limits(100, 100, 100, 100, 1 << 20, 1000, 100, 1);
    InMemoryMetrics metrics = new InMemoryMetrics();
    try (Coordinator c =
            Coordinator.start(
                CoordinatorConfig.builder().limits(oneConnection).metrics(metrics).build());
        ZContext peers = new ZContext(1)) {
      ZMQ.Socket admitted = dealer(peers, c);
      admitted.setReceiveTimeOut(10_000);
      assertThat(admitted.recv()).as("CONNECT_ACK").isNotNull();
      List<ZMQ.Socket> refused = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        refused.add(dealer(peers, c)); // refused by ZAP after its greeting: one too many
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (metrics.count(Metric.COORDINATOR_REFUSED_CONNECTION_TOTAL) < 40) {
        assertThat(System.nanoTime()).as("40 refusals").isLessThan(deadline);
        Thread.sleep(10); // polling a condition with a deadline
      }
      refused.forEach(ZMQ.Socket::close);
      // jeromq 0.6.0 would keep the refused ones' pipes for ever (StrandedPipes)
      awaitPipes(c, 1);
    }
  }

  private static ZMQ.Socket dealer(ZContext context, Coordinator c) {
    ZMQ.Socket s = context.createSocket(SocketType.DEALER);
    s.setLinger(0);
    s.setHandshakeIvl(1000); // jeromq may stall a handshake in one JVM (docs/design/sim.md)
    s.connect(c.endpoint());
    s.send(new byte[] {(byte) 0x91, 0}); // CONNECT
    return s;
  }

  private static void awaitPipes(Coordinator c, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (c.attachedPipes() != expected) {
      assertThat(System.nanoTime())
          .as("%d pipes, not %d", c.attachedPipes(), expected)
          .isLessThan(deadline);
      Thread.sleep(10); // polling a condition with a deadline
    }
  }
}
