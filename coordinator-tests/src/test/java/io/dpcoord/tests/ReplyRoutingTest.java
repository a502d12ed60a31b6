package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.AbortRequest;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** ENGINE_REPLY and ENGINE_REPLY_PARTIAL, engine to client. */
@Timeout(30)
class ReplyRoutingTest {

  @Test
  void partialAndFinalRepliesReachTheOwningClientUnderItsOwnId() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient a = c.client();
      TestClient b = c.client();
      a.submit(5, "for a");
      EngineSubmit sa = engine.receiveSubmit();
      b.submit(9, "for b");
      EngineSubmit sb = engine.receiveSubmit();
      long ra = sa.requestId();
      long rb = sb.requestId();

      // one engine message carries records of both clients, in the other order
      engine.replyPartial(ReplyRecords.partial(rb, 1), ReplyRecords.partial(ra, 1));
      engine.replyPartial(ReplyRecords.partial(ra, 2));
      engine.reply(ReplyRecords.completed(ra, "a"), ReplyRecords.completed(rb, "b"));

      a.expectFrame(Pack.array(22, 5, Pack.raw(ReplyRecords.partial(ra, 1))));
      a.expectFrame(Pack.array(22, 5, Pack.raw(ReplyRecords.partial(ra, 2))));
      a.expectFrame(Pack.array(21, 5, Pack.raw(ReplyRecords.completed(ra, "a"))));
      b.expectFrame(Pack.array(22, 9, Pack.raw(ReplyRecords.partial(rb, 1))));
      b.expectFrame(Pack.array(21, 9, Pack.raw(ReplyRecords.completed(rb, "b"))));
      a.expectNothingMore();
      b.expectNothingMore();
    }
  }

  @Test
  void aMegatronShapedRecordOfThirtySixFieldsIsForwardedByteForByte() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      long[] prompt = SubmitForwardingTest.tokens(300, 1000);
      client.submit(123_456_789_012L, prompt);
      long rid = engine.receiveSubmit().requestId();
      byte[] record = ReplyRecords.megatronShaped(rid, prompt);
      engine.reply(record);
      client.expectFrame(Pack.array(21, 123_456_789_012L, Pack.raw(record)));
    }
  }

  @Test
  void aDuplicateOrLateReplyIsDroppedCountedAndNeverDeliveredTwice() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.submit(1, "once");
      long rid = engine.receiveSubmit().requestId();

      // the same record twice in one message, then again later, and a never-assigned id
      engine.reply(ReplyRecords.completed(rid), ReplyRecords.completed(rid));
      client.expectFrame(Pack.array(21, 1, Pack.raw(ReplyRecords.completed(rid))));
      engine.reply(ReplyRecords.completed(rid));
      engine.replyPartial(ReplyRecords.partial(rid, 3));
      engine.reply(ReplyRecords.completed(rid + 1000));
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 4);
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
    }
  }

  @Test
  void repliesForAClientThatWentAwayAreDroppedAndOthersAreStillServed() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient gone = c.client();
      TestClient stays = c.client();
      gone.submit(1, "orphan");
      long orphan = engine.receiveSubmit().requestId();
      gone.close();
      c.awaitGauge(Metric.COORDINATOR_KNOWN_CLIENTS, 1);

      engine.complete(orphan);
      stays.submit(2, "still served");
      EngineSubmit next = nextSubmitSkippingAbortOf(engine, orphan);
      engine.complete(next.requestId());
      stays.expectFrame(Pack.array(21, 2, Pack.raw(ReplyRecords.completed(next.requestId()))));
      c.awaitInFlight(0);
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
    }
  }

  /**
   * The next SUBMIT; an ABORT for {@code orphan} may come first (the coordinator may spare the
   * engine the work of a client that left), anything else fails.
   */
  private static EngineSubmit nextSubmitSkippingAbortOf(TestEngine engine, long orphan) {
    Message m = engine.receive();
    if (m instanceof AbortRequest abort) {
      assertThat(abort.requestId()).isEqualTo(orphan);
      m = engine.receive();
    }
    assertThat(m).isInstanceOf(EngineSubmit.class);
    return (EngineSubmit) m;
  }
}
