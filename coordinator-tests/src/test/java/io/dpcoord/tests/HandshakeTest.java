package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** CONNECT / CONNECT_ACK. */
@Timeout(30)
class HandshakeTest {

  @Test
  void connectIsAnsweredWithConnectAck() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestClient client = c.unconnectedClient();
      client.send(Pack.array(0));
      client.expectFrame(new byte[] {(byte) 0x91, 0x01});
      c.awaitGauge(Metric.COORDINATOR_KNOWN_CLIENTS, 1);
    }
  }

  @Test
  void repeatedConnectIsAnsweredAgainAndStillCountsOneClient() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestClient client = c.unconnectedClient();
      client.send(Pack.array(0));
      client.send(Pack.array(0));
      client.send(Pack.array(0));
      client.expectFrame(Pack.array(1));
      client.expectFrame(Pack.array(1));
      client.expectFrame(Pack.array(1));
      assertThat(c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS)).isEqualTo(1.0);
    }
  }

  @Test
  void eachClientGetsItsOwnAcknowledgement() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestClient a = c.unconnectedClient();
      TestClient b = c.unconnectedClient();
      a.send(Pack.array(0));
      a.expectFrame(Pack.array(1));
      b.send(Pack.array(0));
      b.expectFrame(Pack.array(1));
      c.awaitGauge(Metric.COORDINATOR_KNOWN_CLIENTS, 2);
      // neither got the other's acknowledgement
      a.expectNothingMore();
      b.expectNothingMore();
    }
  }
}
