package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.tokenizers.TextTokenizer;
import io.dpcoord.tokenizers.Tokenizers;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An exception thrown inside a handler: the loop counts it as an internal error, goes on serving
 * every client, and still answers the request it was handling.
 */
@Timeout(30)
class HandlerFailureTest {
  /** A text prompt of several blocks, so that prefix routing tokenizes it on the SUBMIT path. */
  private static final String POISON =
      "the one prompt this tokenizer cannot read: " + "x".repeat(40);

  /** The bytes tokenizer, except that it fails (not as a bad text, as a bug) on {@link #POISON}. */
  private static final TextTokenizer FAILS_ON_POISON =
      new TextTokenizer() {
        private final TextTokenizer bytes = Tokenizers.fromSpec("bytes");

        @Override
        public long[] tokenize(String text) {
          if (text.equals(POISON)) {
            throw new IllegalStateException("tokenizer failure injected by the test");
          }
          return bytes.tokenize(text);
        }

        @Override
        public String detokenize(long[] ids) {
          return bytes.detokenize(ids);
        }

        @Override
        public long eod() {
          return bytes.eod();
        }
      };

  @Test
  void anExceptionInAHandlerIsCountedOnceTheLoopServesOnAndTheRequestIsAnsweredFailedOnce() {
    // one worker detokenizes the replies in the order they came, so a's is sent before b's
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.tokenizer(FAILS_ON_POISON).tokenizerThreads(1))) {
      TestEngine engine = c.engine(0);
      TestClient a = c.client();
      TestClient b = c.client();

      a.submit(1, POISON);
      c.awaitCount(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL, 1);

      // the loop still serves the client whose request failed, and another one
      a.submit(2, "the same client, after the failure");
      EngineSubmit second = engine.receiveSubmit(); // the failed request never reached it
      assertThat(second.prompt().text()).isEqualTo("the same client, after the failure");
      b.submit(3, "another client, after the failure");
      EngineSubmit third = engine.receiveSubmit();
      assertThat(third.prompt().text()).isEqualTo("another client, after the failure");
      engine.complete(second.requestId(), third.requestId()); // one message: a's reply goes first
      b.expectFrame(
          Pack.array(21, 3, Pack.raw(ReplyRecords.completedWithBytesText(third.requestId()))));
      List<ClientReply> toA = a.receiveRepliesBeforeHandshake();
      assertThat(records(toA, 2))
          .as("replies to client a for request 2")
          .containsExactly(Pack.describe(ReplyRecords.completedWithBytesText(second.requestId())));
      b.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL)).isEqualTo(3);
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isEqualTo(2);
      assertThat(c.status().activeEngines()).isEqualTo(1);

      // nothing accepted is lost: the request whose handling threw got one FAILED reply, while
      // the coordinator serves (not only when it shuts down)
      List<ClientReply> failed = toA.stream().filter(r -> r.clientRequestId() == 1).toList();
      assertThat(failed)
          .as("replies to client a for request 1, whose handling threw (all replies: %s)", toA)
          .hasSize(1);
      byte[] record = failed.get(0).record().toByteArray();
      long rid = ReplyRecords.requestId(record);
      assertThat(rid)
          .as("its request id, assigned before request 2's")
          .isLessThan(second.requestId());
      ReplyRecords.assertFailed(record, rid, Pack.value(POISON), Pack.value(TestClient.SAMPLING));
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isEqualTo(1);
      c.awaitInFlight(0);
    }
  }

  /** The records of the replies for client request {@code cid}, described for comparison. */
  private static List<String> records(List<ClientReply> replies, long cid) {
    return replies.stream()
        .filter(r -> r.clientRequestId() == cid)
        .map(r -> Pack.describe(r.record().toByteArray()))
        .toList();
  }
}
