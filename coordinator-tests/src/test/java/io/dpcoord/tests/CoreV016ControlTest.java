package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.Dialect;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What {@code --engine-wire 0.16} does beyond core_v0.16's own coordinator, which fails an
 * assertion on a repeated acknowledgement and waits for ever for one from an engine that died: the
 * repeat is dropped and counted, an engine that goes no longer holds the others' up, and one that
 * registered after the signal is not waited for. A main client's CONNECT gets no answer (core_v0.16
 * records would not deserialize in it). The frames are written out by hand in core_v0.16's
 * numbering (PAUSE 5, PAUSE_ACK 6, STOP 10, STOP_ACK 11).
 */
@Timeout(30)
class CoreV016ControlTest {
  private static final byte[] PAUSE = Pack.array(5);
  private static final byte[] PAUSE_ACK = Pack.array(6);
  private static final byte[] STOP = Pack.array(10);
  private static final byte[] STOP_ACK = Pack.array(11);

  private static TestCoordinator start() {
    return TestCoordinator.start(b -> b.engineDialect(Dialect.V0_16));
  }

  private static byte[] toClients(byte[] ack, TestEngine last) {
    return Pack.array(
        Pack.unpack(ack).asArrayValue().get(0).asIntegerValue().asInt(),
        last.identity().getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aRepeatedAcknowledgementIsDroppedAndCountedAndTheRelayWaitsForEveryEngine() {
    try (TestCoordinator c = start()) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client(Dialect.V0_16);
      client.send(PAUSE);
      e0.expectFrame(PAUSE);
      e1.expectFrame(PAUSE);
      e0.send(PAUSE_ACK);
      e0.send(PAUSE_ACK); // dropped and counted
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 1);
      e1.send(PAUSE_ACK);
      client.expectFrame(toClients(PAUSE_ACK, e1));
      e0.expectFrame(PAUSE_ACK);
      e1.expectFrame(PAUSE_ACK);
      // the count starts anew: one engine's acknowledgement relays nothing
      e0.send(PAUSE_ACK);
      client.send(STOP);
      e0.expectFrame(STOP);
      e1.expectFrame(STOP);
      e0.send(STOP_ACK);
      e0.send(STOP_ACK); // once counted, e0's is known to be in: e1's is the last
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 2);
      e1.send(STOP_ACK);
      client.expectFrame(toClients(STOP_ACK, e1));
      e0.expectFrame(STOP_ACK);
      e1.expectFrame(STOP_ACK);
    }
  }

  @Test
  void anEngineThatGoesNoLongerHoldsTheOthersAcknowledgementsUp() throws InterruptedException {
    try (TestCoordinator c = start()) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client(Dialect.V0_16);
      client.send(STOP);
      e0.expectFrame(STOP);
      e1.expectFrame(STOP);
      e0.send(STOP_ACK);
      e1.kill();
      client.expectFrame(toClients(STOP_ACK, e0));
      e0.expectFrame(STOP_ACK);
      assertThat(c.coordinator().awaitTermination(Duration.ofSeconds(10)))
          .as("every remaining engine acknowledged STOP: the coordinator ends")
          .isTrue();
    }
  }

  @Test
  void anEngineThatRegisteredAfterThePauseIsNotWaitedFor() {
    try (TestCoordinator c = start()) {
      TestEngine e0 = c.engine(0);
      TestClient client = c.client(Dialect.V0_16);
      client.send(PAUSE);
      e0.expectFrame(PAUSE);
      TestEngine late = c.engine(1); // it never got the PAUSE, so it will not acknowledge it
      e0.send(PAUSE_ACK);
      client.expectFrame(toClients(PAUSE_ACK, e0));
      e0.expectFrame(PAUSE_ACK);
      late.expectFrame(PAUSE_ACK); // to every engine, as core_v0.16's coordinator sends it
    }
  }

  @Test
  void aMainClientsConnectIsCountedAndNotAnswered() {
    try (TestCoordinator c = start()) {
      c.engine(0);
      TestClient main = c.unconnectedClient();
      main.send(Pack.array(0));
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 1);
      c.client(Dialect.V0_16); // [1] -> [2]: a core_v0.16 client is answered
      assertThat(main.poll(Duration.ofMillis(200))).as("an answer to main's CONNECT").isNull();
    }
  }
}
