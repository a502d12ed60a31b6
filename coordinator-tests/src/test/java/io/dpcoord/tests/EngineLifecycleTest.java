package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Engines joining, restarting, leaving and dying, with requests pending. */
@Timeout(30)
class EngineLifecycleTest {
  private static final RouterConfig LOAD_BALANCED =
      RouterConfig.builder().policy(Policy.LOAD_BALANCED).build();
  private static final byte[] SAMPLING = Pack.value(TestClient.SAMPLING);

  @Test
  void lateEngineIsAppendedAfterTheStartUpRanksAndGetsTraffic() throws Exception {
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.expectedEngines(1).routing(LOAD_BALANCED))) {
      TestEngine first = c.engine(5);
      assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
      TestEngine late = c.engine(0); // sorts before mp-coord-5, but arrives later
      TestClient client = c.client();
      client.submit(1, "to rank 0");
      client.submit(2, "to rank 1");
      assertThat(first.receiveSubmit().prompt().text()).isEqualTo("to rank 0");
      assertThat(late.receiveSubmit().prompt().text()).isEqualTo("to rank 1");
    }
  }

  @Test
  void reRegisteredEngineFailsItsPendingRequestsAndStartsCold() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine e0 = c.engine(0);
      c.engine(1);
      TestClient client = c.client();
      long[] p = SubmitForwardingTest.tokens(32, 100);
      long[] q = SubmitForwardingTest.tokens(32, 900);

      client.submit(1, p); // miss: rank 0 by the tie-break
      e0.complete(e0.receiveSubmit().requestId());
      client.receiveReply();
      client.submit(2, p); // hit on rank 0
      e0.complete(e0.receiveSubmit().requestId());
      client.receiveReply();
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
      client.submit(3, q); // no match anywhere: rank 0 by the tie-break, left pending
      long pending = e0.receiveSubmit().requestId();

      e0.register(); // the same identity registers again: a restart
      ClientReply failed = client.receiveReply();
      assertThat(failed.clientRequestId()).isEqualTo(3);
      ReplyRecords.assertFailed(failed.record().toByteArray(), pending, Pack.value(q), SAMPLING);
      client.expectNothingMore();

      client.submit(4, p); // rank 0's entries for p predate the restart: stale, not a hit
      long after = e0.receiveSubmit().requestId();
      // the loop records the decision right after the send: wait for it, then read the rest
      c.awaitCount(Metric.ROUTING_STALE_DETECTED_TOTAL, 1);
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
      assertThat(c.status().activeEngines()).isEqualTo(2);
      e0.complete(pending); // a late answer for the request already failed: dropped
      e0.complete(after);
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(4);
      client.expectNothingMore();
    }
  }

  @Test
  void restartedEngineUnderTheSameIdentityIsServedAgain() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.routing(LOAD_BALANCED))) {
      TestEngine old = c.engine(0);
      TestEngine other = c.engine(1);
      TestClient client = c.client();
      client.submit(1, "lost with the old process");
      long lost = old.receiveSubmit().requestId();
      old.kill();
      // the loop has read the old connection's end (it answers the lost request FAILED) before the
      // new process connects: a registration read before that end would be undone by it, as the
      // end names the same identity (docs/OBSERVABILITY.md, "Troubleshooting")
      ClientReply failed = client.receiveReply();
      assertThat(failed.clientRequestId()).isEqualTo(1);
      ReplyRecords.assertFailed(
          failed.record().toByteArray(), lost, Pack.value("lost with the old process"), SAMPLING);
      c.awaitActiveEngines(1);
      TestEngine restarted = c.unregisteredEngine(TestEngine.identityOf(0)).register();
      c.awaitActiveEngines(2);
      // both engines idle: two requests go one to each, so the restarted one gets one
      client.submit(2, "x");
      client.submit(3, "y");
      EngineSubmit toRestarted = restarted.receiveSubmit();
      EngineSubmit toOther = other.receiveSubmit();
      restarted.complete(toRestarted.requestId());
      other.complete(toOther.requestId());
      assertThat(client.receiveReplies(2))
          .extracting(ClientReply::clientRequestId)
          .containsExactlyInAnyOrder(2L, 3L);
    }
  }

  @Test
  void disconnectWithRequestsPendingAnswersEachFailedOnceWithTheRecordOfTheSpec() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      byte[] text = Pack.value("a text prompt");
      byte[] tokens = Pack.value(new long[] {1, 2, 300, 70_000});
      byte[] params =
          Pack.value(Pack.map("temperature", 0.5f, "x_unknown", Pack.map("k", new byte[] {1})));
      client.send(Pack.array(20, 10, Pack.raw(text), Pack.raw(params)));
      client.send(Pack.array(20, 11, Pack.raw(tokens), Pack.raw(SAMPLING), null));
      client.send(Pack.array(20, 12, Pack.raw(text), Pack.raw(SAMPLING), Pack.map("img", 1)));
      long[] rids = engine.receiveSubmitIds(3);
      c.awaitInFlight(3);

      engine.disconnect();
      Map<Long, byte[]> records = new HashMap<>();
      for (ClientReply r : client.receiveReplies(3)) {
        assertThat(records.put(r.clientRequestId(), r.record().toByteArray())).isNull();
      }
      ReplyRecords.assertFailed(records.get(10L), rids[0], text, params);
      ReplyRecords.assertFailed(records.get(11L), rids[1], tokens, SAMPLING);
      ReplyRecords.assertFailed(records.get(12L), rids[2], text, SAMPLING);
      c.awaitActiveEngines(0);
      c.awaitInFlight(0);

      engine.complete(rids[0]); // too late: the request was answered
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 1);
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isEqualTo(3);
    }
  }

  @Test
  void engineWhoseConnectionDropsFailsItsPendingRequestsAndNewOnesGoToTheOthers() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.routing(LOAD_BALANCED))) {
      TestEngine doomed = c.engine(0);
      TestEngine survivor = c.engine(1);
      TestClient client = c.client();
      for (int cid = 0; cid < 4; cid++) {
        client.submit(cid, "before " + cid); // alternating: 0 and 2 on rank 0
      }
      long[] onDoomed = doomed.receiveSubmitIds(2);
      long[] onSurvivor = survivor.receiveSubmitIds(2);

      doomed.kill(); // no DISCONNECT: the connection just ends
      Map<Long, byte[]> failed = new HashMap<>();
      for (ClientReply r : client.receiveReplies(2)) {
        failed.put(r.clientRequestId(), r.record().toByteArray());
      }
      assertThat(failed).containsOnlyKeys(0L, 2L);
      ReplyRecords.assertFailed(failed.get(0L), onDoomed[0], Pack.value("before 0"), SAMPLING);
      ReplyRecords.assertFailed(failed.get(2L), onDoomed[1], Pack.value("before 2"), SAMPLING);
      c.awaitActiveEngines(1);

      for (int cid = 4; cid < 7; cid++) {
        client.submit(cid, "after " + cid);
      }
      long[] rerouted = survivor.receiveSubmitIds(3);
      survivor.complete(onSurvivor);
      survivor.complete(rerouted);
      assertThat(client.receiveReplies(5))
          .extracting(ClientReply::clientRequestId)
          .containsExactlyInAnyOrder(1L, 3L, 4L, 5L, 6L);
      client.expectNothingMore();
    }
  }

  @Test
  void aLiveEngineWhoseConnectionDroppedIsRoutableAgainWhenItSpeaksOnANewConnection() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.routing(LOAD_BALANCED))) {
      TestEngine dropped = c.engine(0);
      TestEngine other = c.engine(1);
      TestClient client = c.client();
      client.submit(0, "on rank 0");
      long rid = dropped.receiveSubmit().requestId();
      dropped.kill(); // the connection ends; the process (below: a new socket) lives on
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(0);
      c.awaitActiveEngines(1);

      // its DEALER reconnects under the same identity and sends the reply it was working on,
      // without registering again (Megatron's engines register once)
      TestEngine back = c.unregisteredEngine(TestEngine.identityOf(0));
      back.complete(rid);
      c.awaitActiveEngines(2);
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 1); // the reply itself was too late
      for (int cid = 1; cid <= 4; cid++) {
        client.submit(cid, "after " + cid);
      }
      // all four routed (alternating) before any completes, which would free its engine again
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 5);
      back.complete(back.receiveSubmitIds(2));
      other.complete(other.receiveSubmitIds(2));
      assertThat(client.receiveReplies(4))
          .extracting(ClientReply::clientRequestId)
          .containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
      client.expectNothingMore();
    }
  }

  @Test
  void anEngineThatSaidDisconnectDoesNotRejoinByReplying() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.routing(LOAD_BALANCED))) {
      TestEngine leaving = c.engine(0);
      TestEngine other = c.engine(1);
      TestClient client = c.client();
      client.submit(0, "on rank 0");
      long rid = leaving.receiveSubmit().requestId();
      leaving.disconnect();
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(0);
      c.awaitActiveEngines(1);

      leaving.complete(rid);
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 1);
      assertThat(c.status().activeEngines()).isEqualTo(1);
      client.submit(1, "after");
      other.complete(other.receiveSubmit().requestId());
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(1);
      client.expectNothingMore();
    }
  }

  @Test
  void withEveryEngineGoneASubmitIsAnsweredFailedAndTheCoordinatorKeepsServing() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine only = c.engine(0);
      TestClient client = c.client();
      only.disconnect();
      c.awaitActiveEngines(0);

      client.submit(1, "nobody home");
      ClientReply failed = client.receiveReply();
      assertThat(failed.clientRequestId()).isEqualTo(1);
      byte[] record = failed.record().toByteArray();
      ReplyRecords.assertFailed(
          record, ReplyRecords.requestId(record), Pack.value("nobody home"), SAMPLING);
      c.awaitCount(Metric.COORDINATOR_ALL_ENGINES_EXHAUSTED_TOTAL, 1);

      TestEngine newcomer = c.engine(9);
      client.submit(2, "served again");
      long rid = newcomer.receiveSubmit().requestId();
      assertThat(rid).isNotEqualTo(ReplyRecords.requestId(record)); // ids are never reused
      newcomer.complete(rid);
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(2);
    }
  }

  @Test
  void aRequestWhoseChosenEngineJustDiedIsReRoutedToTheNextBest() throws Exception {
    try (TestCoordinator c = TestCoordinator.start()) {
      ReRoute r = ReRoute.run(c);
      assertThat(r.servedBy).isEqualTo(TestEngine.identityOf(1));
      // its SUBMIT was still held when the engine's disconnect note came: no send failed
      assertThat(c.count(Metric.COORDINATOR_ENGINE_UNREACHABLE_TOTAL)).isZero();
      assertThat(c.status().activeEngines()).isEqualTo(1);
      r.client.expectNothingMore();
    }
  }

  @Test
  void aRequestWhoseHeldSendFailsGoesToAnotherEngineAndTheOthersOfItsBurstAreSent()
      throws Exception {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestClient client = HeldSendFails.run(c);
      assertThat(c.count(Metric.COORDINATOR_ENGINE_UNREACHABLE_TOTAL)).isEqualTo(1);
      assertThat(c.status().activeEngines()).isEqualTo(1);
      client.expectNothingMore();
    }
  }

  /**
   * Two requests read in one burst, so that their SUBMITs are held (Outbox): request 3 for rank 1,
   * then request 4 for rank 0. The loop is stopped after request 3's SUBMIT left, rank 0 dies, and
   * request 4's send then fails: rank 0 is removed as unreachable and request 4 goes to rank 1.
   */
  static final class HeldSendFails {
    private HeldSendFails() {}

    static TestClient run(TestCoordinator c) throws InterruptedException {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client();
      long[] p = SubmitForwardingTest.tokens(32, 1000); // rank 0 will hold it
      long[] q = SubmitForwardingTest.tokens(32, 2000); // and rank 1 this one
      client.submit(1, p);
      long r1 = e0.receiveSubmit().requestId(); // a tie: the first rank
      client.submit(2, q);
      long r2 = e1.receiveSubmit().requestId(); // the less loaded
      e0.complete(r1);
      e1.complete(r2);
      assertThat(client.receiveReplies(2))
          .extracting(ClientReply::clientRequestId)
          .containsExactlyInAnyOrder(1L, 2L);

      GatedMetrics.Hold reading = c.gate().holdAtNext(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL);
      client.submit(3, q);
      reading.awaitHeld(); // accepting request 3
      client.submit(4, p);
      IoThreadProbe.awaitCaughtUp(c.endpoint()); // request 4 is ready to read behind it
      GatedMetrics.Hold sending = c.gate().holdAtNext(Metric.ROUTING_CACHE_HIT_TOTAL);
      reading.release();
      sending.awaitHeld(); // request 3's SUBMIT left; request 4's, for rank 0, is held
      e0.kill();
      IoThreadProbe.awaitCaughtUp(c.endpoint());
      sending.release();

      EngineSubmit s3 = e1.receiveSubmit();
      EngineSubmit s4 = e1.receiveSubmit();
      assertThat(s3.prompt().tokens()).containsExactly(q);
      assertThat(s4.prompt().tokens()).containsExactly(p);
      e1.complete(s3.requestId());
      e1.complete(s4.requestId());
      assertThat(client.receiveReplies(2))
          .extracting(ClientReply::clientRequestId)
          .containsExactly(3L, 4L);
      return client;
    }
  }

  /**
   * Rank 0 holds a prompt's prefix; the loop is held right after accepting the next request for
   * that prompt, rank 0 dies, and the loop goes on only once the coordinator's socket knows. The
   * route then chooses rank 0 (a fresh hit), the send fails, and the request must go to rank 1.
   */
  static final class ReRoute {
    final TestClient client;
    final String servedBy;

    private ReRoute(TestClient client, String servedBy) {
      this.client = client;
      this.servedBy = servedBy;
    }

    static ReRoute run(TestCoordinator c) throws InterruptedException {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client();
      long[] p = SubmitForwardingTest.tokens(32, 7);
      client.submit(1, p);
      e0.complete(e0.receiveSubmit().requestId());
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(1);

      GatedMetrics.Hold hold = c.gate().holdAtNext(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL);
      client.submit(2, p);
      hold.awaitHeld();
      e0.kill();
      IoThreadProbe.awaitCaughtUp(c.endpoint());
      hold.release();

      EngineSubmit s = e1.receiveSubmit();
      assertThat(s.prompt().tokens()).containsExactly(p);
      e1.complete(s.requestId());
      ClientReply reply = client.receiveReply();
      assertThat(reply.clientRequestId()).isEqualTo(2);
      assertThat(ReplyRecords.status(reply.record().toByteArray())).isEqualTo("COMPLETED");
      return new ReRoute(client, e1.identity());
    }
  }
}
