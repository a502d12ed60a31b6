package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

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
      leaver.disconnect(); // it stays connected, but has said it is leaving
      TestEngine e1 = c.engine(1);
      TestEngine e2 = c.engine(2);
      assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
      c.awaitActiveEngines(2);
      TestClient client = c.client();
      client.submit(0, "a");
      client.submit(1, "b");
      e1.receiveSubmit();
      e2.receiveSubmit();
      client.send(Pack.array(25, 99)); // RELEASE_KV, broadcast to the engines that are routed
      e1.expectFrame(Pack.array(25, 99));
      e2.expectFrame(Pack.array(25, 99));
      assertThat(c.status().activeEngines()).isEqualTo(2);
    }
  }
}
