package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The start-up wait for N engines ({@code serve --engines N}). */
@Timeout(30)
class StartupWaitTest {
  private static final RouterConfig LOAD_BALANCED =
      RouterConfig.builder().policy(Policy.LOAD_BALANCED).build();

  @Test
  void startUpRankOrderIsTheUnsignedByteOrderOfIdentitiesNotArrivalOrder() throws Exception {
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.expectedEngines(3).routing(LOAD_BALANCED))) {
      // arrival order: \u00e9 (0xc3 0xa9, negative as a signed byte), 2, 10
      TestEngine accented = c.engine("mp-coord-\u00e9");
      TestEngine two = c.engine(2);
      TestEngine ten = c.engine(10);
      assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
      TestClient client = c.client();

      // all idle: load balancing breaks ties by rank index, so request i goes to rank i
      for (int cid = 0; cid < 3; cid++) {
        client.submit(cid, "prompt " + cid);
      }
      // unsigned bytes: "mp-coord-1..." < "mp-coord-2" < "mp-coord-\u00e9"
      assertThat(ten.receiveSubmit().prompt().text()).isEqualTo("prompt 0");
      assertThat(two.receiveSubmit().prompt().text()).isEqualTo("prompt 1");
      assertThat(accented.receiveSubmit().prompt().text()).isEqualTo("prompt 2");
    }
  }

  @Test
  void connectDuringTheWaitIsAClientAndIsNeverSentEngineTraffic() throws Exception {
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.expectedEngines(2).routing(LOAD_BALANCED))) {
      TestClient early = c.client(); // CONNECT before any engine: answered at once
      assertThat(c.status().started()).isFalse();
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
      assertThat(c.status().activeEngines()).isEqualTo(2);

      // were the client an engine, load balancing over three would send it one of these
      for (int cid = 0; cid < 4; cid++) {
        early.submit(cid, "p" + cid);
      }
      long[] on0 = e0.receiveSubmitIds(2);
      long[] on1 = e1.receiveSubmitIds(2);
      e0.complete(on0);
      e1.complete(on1);
      List<ClientReply> replies = early.receiveReplies(4);
      assertThat(replies).extracting(ClientReply::clientRequestId).containsOnly(0L, 1L, 2L, 3L);
      early.expectNothingMore();
    }
  }

  @Test
  void submitsDuringTheWaitAreForwardedInOrderOnceTheEnginesAreThere() throws Exception {
    try (TestCoordinator c = TestCoordinator.start(b -> b.expectedEngines(1))) {
      TestClient client = c.client();
      for (int cid = 0; cid < 3; cid++) {
        client.submit(cid, "held " + cid);
      }
      TestEngine engine = c.engine(0);
      assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
      for (int cid = 0; cid < 3; cid++) {
        EngineSubmit s = engine.receiveSubmit();
        assertThat(s.prompt().text()).isEqualTo("held " + cid);
        engine.complete(s.requestId());
        ClientReply reply = client.receiveReply();
        assertThat(reply.clientRequestId()).isEqualTo(cid);
        assertThat(ReplyRecords.requestId(reply.record().toByteArray())).isEqualTo(s.requestId());
      }
    }
  }

  @Test
  void engineThatSendsDisconnectDuringTheWaitIsNotRanked() throws Exception {
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.expectedEngines(2).routing(LOAD_BALANCED))) {
      TestEngine leaver = c.engine(0);
      // a CONNECT from an engine is dropped and counted: proof the one before it was handled
      leaver.send(Pack.array(0));
      c.awaitCount(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL, 1);
      leaver.disconnect(); // it stays connected, but has said it is leaving
      leaver.send(Pack.array(0));
      c.awaitCount(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL, 2);

      TestEngine e1 = c.unregisteredEngine(TestEngine.identityOf(1)).register();
      e1.send(Pack.array(0)); // in order: rank 1 registers before rank 2
      c.awaitCount(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL, 3);
      TestEngine e2 = c.unregisteredEngine(TestEngine.identityOf(2)).register();
      // ranks [mp-coord-1, mp-coord-2]; were the leaver ranked, it would be rank 0
      assertStartedWithRanks(c, e1, e2);
    }
  }

  @Test
  void startUpEngineWhoseConnectionDropsDuringTheWaitIsNotRanked() throws Exception {
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.expectedEngines(2).routing(LOAD_BALANCED))) {
      TestEngine dropped = c.engine(0);
      dropped.send(Pack.array(0)); // dropped and counted: the registration was handled
      c.awaitCount(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL, 1);
      dropped.kill();
      // registration, CONNECT, and the socket's note that the connection ended
      c.awaitObservations(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS, 3);
      assertThat(c.status().started()).isFalse();

      TestEngine e1 = c.engine(1);
      TestEngine e2 = c.engine(2);
      assertStartedWithRanks(c, e1, e2);
    }
  }

  @Test
  void abortOfARequestHeldDuringTheWaitReachesItsEngineOnceRouted() throws Exception {
    try (TestCoordinator c = TestCoordinator.start(b -> b.expectedEngines(1))) {
      TestClient client = c.client();
      client.submit(5, "held, then aborted");
      client.send(Pack.array(23, 5));
      client.expectNothingMore(); // both handled before the engine comes
      TestEngine engine = c.engine(0);
      assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
      long rid = engine.receiveSubmit().requestId();
      client.send(Pack.array(46)); // a broadcast: anything sent to the engine before it is first
      engine.expectFrame(Pack.array(23, rid));
      engine.expectFrame(Pack.array(46));
    }
  }

  /**
   * Waits for the start, then proves the ranks are exactly {@code [rank0, rank1]}: with both idle,
   * load balancing sends request i to rank i.
   */
  private static void assertStartedWithRanks(TestCoordinator c, TestEngine rank0, TestEngine rank1)
      throws InterruptedException {
    assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
    TestClient client = c.client();
    client.submit(0, "to rank 0");
    client.submit(1, "to rank 1");
    assertThat(rank0.receiveSubmit().prompt().text()).isEqualTo("to rank 0");
    assertThat(rank1.receiveSubmit().prompt().text()).isEqualTo("to rank 1");
    assertThat(c.status().activeEngines()).isEqualTo(2);
  }
}
