package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.tokenizers.TextTokenizer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Tokenizing and detokenizing on worker threads changes neither the routing decisions (made in
 * arrival order, as Megatron's sequential loop makes them) nor the one terminal reply per request.
 * The tokenizer here is Megatron's byte-level one behind gates that the test opens, so that it
 * decides what the coordinator sees while a worker is busy.
 */
@Timeout(30)
class TokenizerWorkersTest {
  /** Four blocks of 16 bytes; tokenizing it waits for the test. */
  static final String SLOW = "gated: this text waits for the test before it is tokenized.";

  /** The byte-level tokenizer, with a gate before tokenizing {@link #SLOW} and before decoding. */
  static final class GatedTokenizer implements TextTokenizer {
    final CountDownLatch tokenizeGate = new CountDownLatch(1);
    final CountDownLatch detokenizeGate = new CountDownLatch(1);
    final CountDownLatch detokenizing = new CountDownLatch(1);
    private final TextTokenizer bytes = TestCoordinator.BYTES;

    @Override
    public long[] tokenize(String text) {
      if (text.equals(SLOW)) {
        await(tokenizeGate);
      }
      return bytes.tokenize(text);
    }

    @Override
    public String detokenize(long[] ids) {
      detokenizing.countDown();
      await(detokenizeGate);
      return bytes.detokenize(ids);
    }

    @Override
    public long eod() {
      return bytes.eod();
    }

    private static void await(CountDownLatch gate) {
      try {
        if (!gate.await(20, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the test never opened the gate");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  @Test
  void requestsAndRepliesAreAppliedToRoutingInArrivalOrderWhileATextPromptIsTokenized() {
    GatedTokenizer tokenizer = new GatedTokenizer();
    tokenizer.detokenizeGate.countDown(); // replies go through
    // two workers: one is held by the gated text, the other detokenizes the reply
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.tokenizer(tokenizer).tokenizerThreads(2))) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client();
      long[] a = SubmitForwardingTest.tokens(32, 1);
      client.submit(1, a); // both engines idle: rank 0
      long ridA = e0.receiveSubmit().requestId();

      client.submit(2, SLOW); // its tokenization waits for the gate
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 2); // (client and engine race)
      e0.complete(ridA); // arrives while request 2 waits: applied to routing after it
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(1);
      client.submit(3, a); // waits behind request 2
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 3);
      assertThat(c.observations(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS))
          .as("nothing routed behind the request being tokenized")
          .isEqualTo(1);

      tokenizer.tokenizeGate.countDown();
      // Megatron routes request 2 before it reads the reply: rank 0 still has one pending request,
      // so request 2 goes to rank 1; then the reply frees rank 0, which holds request 3's prefix.
      EngineSubmit second = e1.receiveSubmit();
      assertThat(second.prompt().text()).isEqualTo(SLOW);
      EngineSubmit third = e0.receiveSubmit();
      assertThat(third.prompt().tokens()).containsExactly(a);
      c.awaitCount(Metric.ROUTING_CACHE_HIT_TOTAL, 1); // the loop counts it right after the send
      e1.complete(second.requestId());
      e0.complete(third.requestId());
      assertThat(List.of(client.receiveReply(), client.receiveReply()))
          .extracting(ClientReply::clientRequestId)
          .containsExactlyInAnyOrder(2L, 3L);
      client.expectNothingMore();
    }
  }

  @Test
  void aRequestWhoseEngineLeavesWhileItsRecordIsDetokenizedIsAnsweredOnceWithThatRecord() {
    GatedTokenizer tokenizer = new GatedTokenizer();
    try (TestCoordinator c = TestCoordinator.start(b -> b.tokenizer(tokenizer))) {
      TestEngine e0 = c.engine(0);
      TestClient client = c.client();
      client.submit(1, SubmitForwardingTest.tokens(32, 1));
      long rid = e0.receiveSubmit().requestId();
      e0.complete(rid);
      await(tokenizer.detokenizing);

      e0.disconnect(); // the engine leaves while its record is being detokenized
      c.awaitActiveEngines(0);
      tokenizer.detokenizeGate.countDown();

      client.expectFrame(Pack.array(21, 1, Pack.raw(ReplyRecords.completedWithBytesText(rid))));
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isEqualTo(1);
      c.awaitInFlight(0);
    }
  }

  private static void await(CountDownLatch latch) {
    Await.until("the worker to start", () -> latch.getCount() == 0);
  }
}
