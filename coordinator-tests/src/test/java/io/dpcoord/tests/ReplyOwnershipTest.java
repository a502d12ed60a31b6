package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.tests.TestEngine.Delivery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Only the engine a request was given to may answer it. */
@Timeout(30)
class ReplyOwnershipTest {

  @Test
  void aReplyFromARegisteredEngineForARequestGivenToAnotherIsDroppedCountedAndNeverDelivered() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client();
      client.submit(1, "given to one engine");
      Delivery given = TestEngine.receiveSubmitOnAny(e0, e1);
      TestEngine owner = given.engine();
      TestEngine other = owner == e0 ? e1 : e0;
      long rid = given.requestId();

      other.reply(ReplyRecords.completed(rid, "from the engine it was not given to"));
      Await.until(
          "the coordinator handled the reply of " + other,
          () ->
              c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)
                      + c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)
                  > 0);
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL))
          .as("replies delivered after %s answered request %s, given to %s", other, rid, owner)
          .isZero();
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isEqualTo(1);
      client.expectNothingMore();
      assertThat(c.status().inFlight()).isEqualTo(1);

      // the owner's reply is the one delivered, once
      owner.reply(ReplyRecords.completed(rid, "from its engine"));
      client.expectFrame(
          Pack.array(21, 1, Pack.raw(ReplyRecords.completed(rid, "from its engine"))));
      client.submit(2, "the next request");
      Delivery next = TestEngine.receiveSubmitOnAny(e0, e1);
      next.engine().complete(next.requestId());
      // the next message is this reply: no other copy of request 1's reply was queued before it
      client.expectFrame(Pack.array(21, 2, Pack.raw(ReplyRecords.completed(next.requestId()))));
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isEqualTo(2);
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
      assertThat(c.status().activeEngines()).isEqualTo(2);
    }
  }
}
