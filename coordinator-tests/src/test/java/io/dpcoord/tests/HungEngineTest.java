package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.AbortRequest;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.SimulatedEngine;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Peers that hang without disconnecting: ZMTP heartbeats remove a silent engine and answer its
 * requests FAILED, peers that answer PINGs stay, and the request timeout answers a request FAILED,
 * aborts it on its engine and counts the engine's late reply.
 */
@Timeout(60)
class HungEngineTest {
  /** Longer than any pause of a healthy peer's I/O thread on a loaded test machine. */
  private static final Duration INTERVAL = Duration.ofMillis(2000);

  private static final Duration TIMEOUT = Duration.ofMillis(1500);
  private static final RouterConfig LOAD_BALANCED =
      RouterConfig.builder().policy(Policy.LOAD_BALANCED).build();
  private static final byte[] SAMPLING = Pack.value(TestClient.SAMPLING);

  @Test
  void aSilentEngineIsRemovedAfterTheHeartbeatTimeoutAndItsRequestsAnsweredFailed()
      throws Exception {
    try (TestCoordinator c =
        TestCoordinator.start(
            b -> b.expectedEngines(2).heartbeat(INTERVAL, TIMEOUT).routing(LOAD_BALANCED))) {
      TestEngine alive = c.unregisteredEngine(TestEngine.identityOf(0)).register();
      TestClient client = c.client();
      Map<Long, long[]> prompts = new TreeMap<>();
      for (long cid = 0; cid < 4; cid++) {
        prompts.put(cid, SubmitForwardingTest.tokens(16, 100 * cid));
        client.submit(cid, prompts.get(cid)); // held for the start-up engines
      }
      c.awaitInFlight(4);
      try (SilentPeer hung = new SilentPeer(c.endpoint(), TestEngine.identityOf(1))) {
        // its registration routes the held requests at once, two to each engine; then it hangs
        long silentSince = System.nanoTime(); // before its last message leaves
        hung.send(new byte[0]);
        long[] served = alive.receiveSubmitIds(2);
        assertThat(c.status().activeEngines()).isEqualTo(2);

        c.awaitActiveEngines(1);
        long removedAfter = System.nanoTime() - silentSince;
        List<ClientReply> failed = client.receiveReplies(2);
        for (ClientReply r : failed) {
          byte[] record = r.record().toByteArray();
          long rid = ReplyRecords.requestId(record);
          assertThat(served).doesNotContain(rid);
          ReplyRecords.assertFailed(
              record, rid, Pack.value(prompts.get(r.clientRequestId())), SAMPLING);
          assertThat(ReplyRecords.failureMessage(record))
              .isEqualTo("engine mp-coord-1 disconnected with the request pending");
        }
        // the PING that goes unanswered comes after its last message: no removal sooner
        assertThat(Duration.ofNanos(removedAfter)).isGreaterThanOrEqualTo(TIMEOUT);

        alive.complete(served);
        List<ClientReply> completed = client.receiveReplies(2);
        assertThat(completed)
            .extracting(r -> ReplyRecords.status(r.record().toByteArray()))
            .containsOnly("COMPLETED");
        assertThat(
                Stream.concat(failed.stream(), completed.stream())
                    .map(ClientReply::clientRequestId))
            .containsExactlyInAnyOrder(0L, 1L, 2L, 3L);
        client.expectNothingMore();
        assertThat(c.status().inFlight()).isZero();
        assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isEqualTo(2);
      }
    }
  }

  @Test
  void enginesAndClientsThatAnswerPingsStayAcrossManyTimeouts() {
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.heartbeat(INTERVAL, TIMEOUT).routing(LOAD_BALANCED))) {
      TestEngine scripted = c.engine(0);
      c.own(
          SimulatedEngine.start(
              c.endpoint(),
              EngineConfig.builder(1)
                  .base(Duration.ZERO)
                  .perPromptToken(Duration.ZERO)
                  .perGeneratedToken(Duration.ZERO)
                  .build()));
      c.awaitActiveEngines(2);
      TestClient client = c.client();
      // nobody sends a message meanwhile: only the peers' I/O threads answering PINGs keep them
      // (a jeromq 0.6.0 peer once lost its timeouts, see CoordinatorConfig.Builder.heartbeat)
      Await.holdsFor(
          INTERVAL.multipliedBy(3),
          "two engines and one client",
          () -> c.status().activeEngines() == 2 && c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS) == 1.0,
          () ->
              c.status().activeEngines()
                  + " engines, "
                  + c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS));

      // the same connections still carry requests both ways
      client.submit(0, SubmitForwardingTest.tokens(16, 1));
      client.submit(1, SubmitForwardingTest.tokens(16, 2000));
      long rid = scripted.receiveSubmit().requestId();
      // the second must be routed while the first is pending, or it goes to this engine as well
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 2);
      scripted.complete(rid);
      assertThat(client.receiveReplies(2))
          .extracting(r -> ReplyRecords.status(r.record().toByteArray()))
          .containsExactly("COMPLETED", "COMPLETED");
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isZero();
    }
  }

  @Test
  void aRequestWithoutAReplyInTimeIsAnsweredFailedAbortedAndItsLateReplyCounted() {
    Duration timeout = Duration.ofMillis(300);
    try (TestCoordinator c = TestCoordinator.start(b -> b.requestTimeout(timeout))) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      long[] prompt = SubmitForwardingTest.tokens(16, 7);
      long sent = System.nanoTime(); // before the send: the coordinator's clock starts after it
      client.submit(5, prompt);
      long rid = engine.receiveSubmit().requestId();

      ClientReply failed = client.receiveReply();
      long answeredAfter = System.nanoTime() - sent;
      assertThat(failed.clientRequestId()).isEqualTo(5);
      byte[] record = failed.record().toByteArray();
      ReplyRecords.assertFailed(record, rid, Pack.value(prompt), SAMPLING);
      assertThat(ReplyRecords.failureMessage(record))
          .isEqualTo("no reply within the request timeout of 300 ms (serve --request-timeout)");
      assertThat(Duration.ofNanos(answeredAfter)).isGreaterThanOrEqualTo(timeout);
      assertThat(engine.receive()).isEqualTo(new AbortRequest(rid));
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_TIMED_OUT_TOTAL)).isEqualTo(1);
      assertThat(c.status().inFlight()).isZero();

      engine.replyPartial(ReplyRecords.partial(rid, 2));
      engine.complete(rid); // the engine's answer to the abort, or its work finished late
      c.awaitCount(Metric.COORDINATOR_LATE_REPLIES_TOTAL, 2);
      engine.complete(rid); // a duplicate after the terminal reply is no late reply
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 1);
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isZero();

      // the engine is still in service, its load released: the next request is answered as usual
      client.submit(6, prompt);
      long next = engine.receiveSubmit().requestId();
      engine.complete(next);
      assertThat(ReplyRecords.status(client.receiveReply().record().toByteArray()))
          .isEqualTo("COMPLETED");
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_TIMED_OUT_TOTAL)).isEqualTo(1);
    }
  }

  @Test
  void aRequestHeldForTheStartUpEnginesTimesOutToo() throws Exception {
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.expectedEngines(1).requestTimeout(Duration.ofMillis(200)))) {
      TestClient client = c.client();
      client.submit(1, SubmitForwardingTest.tokens(16, 7));
      ClientReply failed = client.receiveReply();
      assertThat(ReplyRecords.failureMessage(failed.record().toByteArray()))
          .contains("request timeout of 200 ms");
      TestEngine engine = c.engine(0);
      assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
      client.submit(2, SubmitForwardingTest.tokens(16, 7));
      assertThat(engine.receiveSubmit().requestId())
          .as("the timed-out request was never sent")
          .isEqualTo(1);
    }
  }
}
