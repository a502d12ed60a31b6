package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.server.AccessRules;
import io.dpcoord.server.Cidr;
import io.dpcoord.server.ControlState;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Who may connect, register and control (docs/SECURITY.md), over real sockets. Every peer of a test
 * connects from 127.0.0.1, so the lists below leave that address out of the right under test.
 */
@Timeout(60)
class AccessControlTest {
  private static final List<Cidr> LOCAL = List.of(Cidr.parse("127.0.0.1"));
  private static final List<Cidr> ELSEWHERE = List.of(Cidr.parse("127.0.0.2/32"));
  private static final byte[] PAUSE = Pack.array(40);
  private static final Duration QUIET = Duration.ofMillis(300);
  private static final String LOOP = "io.dpcoord.server.EventLoop";

  private static TestCoordinator start(List<Cidr> engines, List<Cidr> clients, List<Cidr> ctl) {
    return TestCoordinator.start(
        c -> c.access(AccessRules.of(engines, clients, ctl, AccessRules.MEGATRON_ENGINE_IDENTITY)));
  }

  @Test
  void anEngineFromAnAddressWithoutTheEngineRightCannotRegisterAndGetsNoRequest() {
    try (LogLines log = LogLines.warningsOf(LOOP);
        TestCoordinator c = start(ELSEWHERE, LOCAL, LOCAL)) {
      TestEngine engine = c.unregisteredEngine("mp-coord-0").register();
      c.awaitCount(Metric.COORDINATOR_REFUSED_ENGINE_TOTAL, 1);
      assertThat(log.await("refused a registration from mp-coord-0"))
          .contains("at 127.0.0.1", "not in --allow-engines 127.0.0.2/32");
      assertThat(c.status().activeEngines()).isZero();
      TestClient client = c.client();
      client.submit(7, List.of(1, 2, 3));
      byte[] record = client.receiveReply().record().toByteArray();
      assertThat(ReplyRecords.status(record)).isEqualTo("FAILED");
      assertThat(ReplyRecords.failureMessage(record)).contains("no engine is available");
      assertThat(engine.poll(QUIET)).as("a frame sent to the refused engine").isNull();
    }
  }

  @Test
  void anEngineWhoseIdentityDoesNotMatchThePatternIsRefused() {
    try (LogLines log = LogLines.warningsOf(LOOP);
        TestCoordinator c = TestCoordinator.start()) {
      TestEngine rogue = c.unregisteredEngine("rogue-0").register();
      c.awaitCount(Metric.COORDINATOR_REFUSED_ENGINE_TOTAL, 1);
      assertThat(log.await("refused a registration from rogue-0"))
          .contains("does not match --engine-identity-pattern mp-coord-*");
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      for (int i = 0; i < 4; i++) {
        client.submit(i, List.of(i, i + 1));
        engine.receiveSubmit();
      }
      assertThat(rogue.poll(QUIET)).as("a frame sent to the refused engine").isNull();
      assertThat(c.status().activeEngines()).isEqualTo(1);
    }
  }

  @Test
  void aPeerFromAnAddressInNoListCannotConnect() {
    try (LogLines log = LogLines.warningsOf("io.dpcoord.server.ZapHandler");
        TestCoordinator c = start(ELSEWHERE, ELSEWHERE, ELSEWHERE)) {
      TestClient client = c.unconnectedClient();
      client.send(Pack.array(0)); // CONNECT
      c.awaitCount(Metric.COORDINATOR_REFUSED_CONNECTION_TOTAL, 1);
      assertThat(log.await("refused a connection from 127.0.0.1"))
          .contains("--allow-engines 127.0.0.2/32", "--allow-clients 127.0.0.2/32");
      assertThat(client.poll(QUIET)).as("a CONNECT_ACK").isNull();
      assertThat(c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS)).isZero();
    }
  }

  @Test
  void aClientWithoutTheControlRightCannotPauseButStillSubmits() {
    try (LogLines log = LogLines.warningsOf(LOOP);
        TestCoordinator c = start(LOCAL, LOCAL, ELSEWHERE)) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.send(PAUSE);
      client.send(Pack.array(61)); // SHUTDOWN
      c.awaitCount(Metric.COORDINATOR_REFUSED_CONTROL_TOTAL, 2);
      assertThat(log.await("refused PAUSE from")).contains("not in --control-clients 127.0.0.2/32");
      client.submit(1, List.of(1, 2));
      assertThat(engine.receiveSubmit().requestId()).isNotNegative(); // the submit, not the PAUSE
      assertThat(c.status().controlState()).isEqualTo(ControlState.RUNNING);
      assertThat(c.coordinator().isTerminated()).isFalse();
    }
  }

  @Test
  void aClientWithTheControlRightPauses() {
    try (TestCoordinator c = start(LOCAL, LOCAL, LOCAL)) {
      TestEngine engine = c.engine(0);
      c.client().send(PAUSE);
      engine.expectFrame(PAUSE);
      c.awaitControlState(ControlState.PAUSED);
      assertThat(c.count(Metric.COORDINATOR_REFUSED_CONTROL_TOTAL)).isZero();
    }
  }

  @Test
  void anEngineOnlyAddressCannotActAsAClient() {
    try (LogLines log = LogLines.warningsOf(LOOP);
        TestCoordinator c = start(LOCAL, ELSEWHERE, ELSEWHERE)) {
      TestClient client = c.unconnectedClient();
      client.send(Pack.array(0)); // CONNECT
      c.awaitCount(Metric.COORDINATOR_REFUSED_CLIENT_TOTAL, 1);
      assertThat(log.await("refused CONNECT from")).contains("not in --allow-clients 127.0.0.2/32");
      assertThat(client.poll(QUIET)).as("a CONNECT_ACK").isNull();
    }
  }

  @Test
  void aPeerUnderARegisteredEnginesIdentityGetsNoneOfItsRequests() throws Exception {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestEngine impostor = c.unregisteredEngine("mp-coord-0"); // connects, sends nothing
      IoThreadProbe.awaitCaughtUp(c.endpoint()); // its connection was seen and refused
      TestClient client = c.client();
      for (int i = 0; i < 4; i++) {
        client.submit(i, List.of(i, i + 1));
        engine.receiveSubmit();
      }
      assertThat(impostor.poll(QUIET)).as("a frame sent to the impostor").isNull();
      assertThat(c.status().activeEngines()).isEqualTo(1);
    }
  }
}
