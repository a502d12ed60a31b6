package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.server.AccessRules;
import io.dpcoord.server.AccessRules.KeyList;
import io.dpcoord.server.Cidr;
import io.dpcoord.server.ControlState;
import io.dpcoord.sim.CurveClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.zeromq.ZMQ;

/**
 * CurveZMQ access control over real sockets (docs/SECURITY.md): the coordinator accepts only the
 * public keys in its lists, and a key's list decides its role.
 */
@Timeout(60)
class CurveAccessTest {
  private static final byte[] PAUSE = Pack.array(40);
  private static final Duration QUIET = Duration.ofMillis(300);
  private static final String LOOP = "io.dpcoord.server.EventLoop";

  private final ZMQ.Curve.KeyPair server = ZMQ.Curve.generateKeyPair();
  private final ZMQ.Curve.KeyPair engine = ZMQ.Curve.generateKeyPair();
  private final ZMQ.Curve.KeyPair client = ZMQ.Curve.generateKeyPair();
  private final ZMQ.Curve.KeyPair operator = ZMQ.Curve.generateKeyPair();
  private final ZMQ.Curve.KeyPair stranger = ZMQ.Curve.generateKeyPair();

  private TestCoordinator start(List<Cidr> clientAddresses) {
    AccessRules rules =
        AccessRules.of(null, clientAddresses, null, AccessRules.MEGATRON_ENGINE_IDENTITY)
            .withCurve(
                ZMQ.Curve.z85Decode(server.secretKey),
                list("keys/engines", engine),
                list("keys/clients", client),
                list("keys/control", operator));
    return TestCoordinator.start(c -> c.access(rules));
  }

  private TestCoordinator start() {
    return start(null);
  }

  private static KeyList list(String source, ZMQ.Curve.KeyPair key) {
    return new KeyList(source, List.of(ZMQ.Curve.z85Decode(key.publicKey)));
  }

  private CurveClient keys(ZMQ.Curve.KeyPair own) {
    return new CurveClient(
        ZMQ.Curve.z85Decode(server.publicKey),
        ZMQ.Curve.z85Decode(own.publicKey),
        ZMQ.Curve.z85Decode(own.secretKey));
  }

  @Test
  void aListedEngineRegistersAndAListedClientsRequestReachesItAndComesBack() {
    try (TestCoordinator c = start()) {
      TestEngine e = c.unregisteredEngine("mp-coord-0", keys(engine)).register();
      c.awaitActiveEngines(1);
      TestClient cl = c.unconnectedClient(keys(client)).connect();
      cl.submit(7, List.of(1, 2, 3));
      long rid = e.receiveSubmit().requestId();
      e.complete(rid);
      assertThat(cl.receiveReply().clientRequestId()).isEqualTo(7);
      assertThat(c.count(Metric.COORDINATOR_REFUSED_CONNECTION_TOTAL)).isZero();
    }
  }

  @Test
  void aKeyInNoListCannotConnectAndIsCountedAndLogged() {
    try (LogLines log = LogLines.warningsOf("io.dpcoord.server.ZapHandler");
        TestCoordinator c = start()) {
      TestClient intruder = c.unconnectedClient(keys(stranger));
      intruder.send(Pack.array(0)); // CONNECT
      Await.until(
          "a refused connection",
          () -> c.count(Metric.COORDINATOR_REFUSED_CONNECTION_TOTAL) >= 1,
          () -> c.count(Metric.COORDINATOR_REFUSED_CONNECTION_TOTAL));
      assertThat(log.await("refused a connection from 127.0.0.1 with CURVE key"))
          .contains(stranger.publicKey, "the key is in none of", "--curve-clients keys/clients");
      assertThat(intruder.poll(QUIET)).as("a CONNECT_ACK").isNull();
      assertThat(c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS)).isZero();
    }
  }

  @Test
  void aClientKeyCannotRegisterAsAnEngine() {
    try (LogLines log = LogLines.warningsOf(LOOP);
        TestCoordinator c = start()) {
      TestEngine impostor = c.unregisteredEngine("mp-coord-0", keys(client)).register();
      c.awaitCount(Metric.COORDINATOR_REFUSED_ENGINE_TOTAL, 1);
      assertThat(log.await("refused a registration from mp-coord-0"))
          .contains("not in --curve-engines keys/engines");
      assertThat(c.status().activeEngines()).isZero();
      TestClient cl = c.unconnectedClient(keys(client)).connect();
      cl.submit(1, List.of(1, 2));
      assertThat(ReplyRecords.status(cl.receiveReply().record().toByteArray()))
          .isEqualTo("FAILED"); // no engine
      assertThat(impostor.poll(QUIET)).as("a frame sent to the refused engine").isNull();
    }
  }

  @Test
  void aClientKeyWithoutTheControlRightCannotPauseButAControlKeyCan() {
    try (LogLines log = LogLines.warningsOf(LOOP);
        TestCoordinator c = start()) {
      TestEngine e = c.unregisteredEngine("mp-coord-0", keys(engine)).register();
      c.awaitActiveEngines(1);
      TestClient cl = c.unconnectedClient(keys(client)).connect();
      cl.send(PAUSE);
      c.awaitCount(Metric.COORDINATOR_REFUSED_CONTROL_TOTAL, 1);
      assertThat(log.await("refused PAUSE from")).contains("not in --curve-control keys/control");
      assertThat(c.status().controlState()).isEqualTo(ControlState.RUNNING);
      TestClient ops = c.unconnectedClient(keys(operator)).connect(); // a control key is a client
      ops.send(PAUSE);
      e.expectFrame(PAUSE);
      c.awaitControlState(ControlState.PAUSED);
      assertThat(c.count(Metric.COORDINATOR_REFUSED_CONTROL_TOTAL)).isEqualTo(1);
    }
  }

  @Test
  void anAddressListNarrowsWhatAKeyMayDo() {
    try (LogLines log = LogLines.warningsOf("io.dpcoord.server.ZapHandler");
        TestCoordinator c = start(List.of(Cidr.parse("127.0.0.2")))) {
      TestClient cl = c.unconnectedClient(keys(client));
      cl.send(Pack.array(0)); // CONNECT
      assertThat(log.await("refused a connection from 127.0.0.1 with CURVE key"))
          .contains(
              "the key is listed, but not for this address",
              "--curve-clients keys/clients and --allow-clients 127.0.0.2,");
      assertThat(cl.poll(QUIET)).as("a CONNECT_ACK").isNull();
      c.unregisteredEngine("mp-coord-0", keys(engine)).register(); // engines: any address
      c.awaitActiveEngines(1);
    }
  }

  @Test
  void aPlainPeerCannotTalkToACurveCoordinator() {
    try (TestCoordinator c = start()) {
      TestClient plain = c.unconnectedClient();
      plain.send(Pack.array(0)); // CONNECT
      assertThat(plain.poll(QUIET)).as("a CONNECT_ACK").isNull();
      assertThat(c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS)).isZero();
    }
  }
}
