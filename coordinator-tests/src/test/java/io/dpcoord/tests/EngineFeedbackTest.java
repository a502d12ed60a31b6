package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.SimulatedEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Engine feedback over real sockets: what a finished record's {@code num_cached_tokens} says the
 * engine served from its cache, against what routing predicted (the decision's match depth), in the
 * metrics always and, with {@code RouterConfig.feedback}, in the routing index.
 *
 * <p>Prompts are token lists of whole blocks of 16 tokens (the default block size). Requests go one
 * at a time, so every engine is idle at each decision: a prompt nobody holds goes to rank 0.
 */
@Timeout(30)
class EngineFeedbackTest {
  /** Four blocks. */
  private static final long[] P = SubmitForwardingTest.tokens(64, 1);

  private static TestCoordinator start(Policy policy, boolean feedback) {
    RouterConfig routing = RouterConfig.builder().policy(policy).feedback(feedback).build();
    return TestCoordinator.start(b -> b.routing(routing));
  }

  /**
   * Sends {@code prompt}, expects it on {@code engine}, which answers with {@code record} (made for
   * the request id it got); the client must get that record as it was sent.
   */
  private static void roundTrip(
      TestClient client, TestEngine engine, long cid, long[] prompt, RecordFor record) {
    client.submit(cid, prompt);
    long rid = engine.receiveSubmit().requestId();
    byte[] sent = record.of(rid);
    engine.reply(sent);
    client.expectFrame(Pack.array(21, cid, Pack.raw(sent)));
  }

  /** A record for a request id. */
  private interface RecordFor {
    byte[] of(long rid);
  }

  private static RecordFor cachedTokens(Object numCachedTokens) {
    return rid -> ReplyRecords.completedWithCachedTokens(rid, numCachedTokens);
  }

  @Test
  void aShortfallWithFeedbackDropsTheEnginesEntriesPastTheBlocksItServed() {
    try (TestCoordinator c = start(Policy.LONGEST_PREFIX, true)) {
      TestEngine e0 = c.engine(0);
      c.engine(1);
      TestClient client = c.client();

      roundTrip(client, e0, 1, P, cachedTokens(0)); // first sight: predicted 0, served 0
      roundTrip(client, e0, 2, P, cachedTokens(16)); // predicted 4 blocks; served 1
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL))
          .as("blocks 1, 2 and 3 of engine 0")
          .isEqualTo(3);
      roundTrip(client, e0, 3, P, ReplyRecords::completed); // engine 0 is known for block 0 only

      assertThat(c.metrics().observations(Metric.ROUTING_PREFIX_MATCH_RATIO))
          .containsExactly(0.0, 1.0, 0.25);
      assertThat(c.metrics().observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
          .containsExactly(0.0, 64.0 - 16.0);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isEqualTo(64);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isEqualTo(16);
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isEqualTo(3);
    }
  }

  @Test
  void withFeedbackOffNothingIsPurgedButTheShortfallIsStillRecorded() {
    try (TestCoordinator c = start(Policy.LONGEST_PREFIX, false)) {
      TestEngine e0 = c.engine(0);
      c.engine(1);
      TestClient client = c.client();

      roundTrip(client, e0, 1, P, cachedTokens(0));
      roundTrip(client, e0, 2, P, cachedTokens(16));
      roundTrip(client, e0, 3, P, ReplyRecords::completed); // the index still says all four

      assertThat(c.metrics().observations(Metric.ROUTING_PREFIX_MATCH_RATIO))
          .containsExactly(0.0, 1.0, 1.0);
      assertThat(c.metrics().observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
          .containsExactly(0.0, 48.0);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isEqualTo(64);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isEqualTo(16);
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isZero();
    }
  }

  /**
   * SGLang's rule takes the longest match only above 30 % of the request, else the engine the index
   * names for the fewest blocks: once feedback leaves engine 0 known for one block of four (25 %),
   * the prompt goes to engine 1, which holds none.
   */
  @ParameterizedTest
  @CsvSource({"true, 1", "false, 0"})
  void feedbackChangesTheEngineAPolicyChoosesForThePrefix(boolean feedback, int expectedRank) {
    try (TestCoordinator c = start(Policy.SGLANG, feedback)) {
      TestEngine[] engines = {c.engine(0), c.engine(1)};
      TestClient client = c.client();
      roundTrip(client, engines[0], 1, P, cachedTokens(0)); // no match anywhere: rank 0
      roundTrip(client, engines[0], 2, P, cachedTokens(16)); // all four blocks on rank 0

      roundTrip(client, engines[expectedRank], 3, P, ReplyRecords::completed);

      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isEqualTo(feedback ? 3 : 0);
    }
  }

  @Test
  void aRecordThatDoesNotSayWhatItServedGivesNoFeedbackAndIsNoError() {
    List<RecordFor> silent =
        List.of(
            ReplyRecords::completed, // no num_cached_tokens at all, as Megatron 0.18's records
            cachedTokens(16.0),
            cachedTokens("16"),
            cachedTokens(null),
            cachedTokens(-16),
            // failed or aborted before its prefill: its 0 says nothing about the cache
            rid ->
                Pack.value(
                    Pack.map("request_id", rid, "status", "FAILED", "num_cached_tokens", 0)));
    try (TestCoordinator c = start(Policy.LONGEST_PREFIX, true)) {
      TestEngine e0 = c.engine(0);
      c.engine(1);
      TestClient client = c.client();
      roundTrip(client, e0, 0, P, ReplyRecords::completed);

      for (int i = 0; i < silent.size(); i++) {
        roundTrip(client, e0, i + 1, P, silent.get(i)); // predicted: all four blocks, each time
      }

      assertThat(c.metrics().observations(Metric.ROUTING_PREFIX_MATCH_RATIO))
          .as("a miss, then all four blocks every time: nothing was dropped")
          .containsExactly(0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0);
      assertThat(c.observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL)).isZero();
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isZero();
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isZero();
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isEqualTo(7);
    }
  }

  /**
   * A reply that arrives while a request waits for its hashes is applied to routing after that
   * request, feedback included: the waiting request is routed with the entries the feedback then
   * drops, and the request after it without them.
   */
  @Test
  void feedbackIsAppliedInArrivalOrderBehindARequestWaitingForItsHashes() {
    TokenizerWorkersTest.GatedTokenizer tokenizer = new TokenizerWorkersTest.GatedTokenizer();
    tokenizer.detokenizeGate.countDown(); // replies go through
    RouterConfig routing = RouterConfig.builder().feedback(true).build();
    long[] a = SubmitForwardingTest.tokens(48, 1); // three blocks
    // two workers: one is held by the gated text, the other detokenizes the replies
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.routing(routing).tokenizer(tokenizer).tokenizerThreads(2))) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client();
      client.submit(1, a); // nobody holds it: rank 0
      e0.complete(e0.receiveSubmit().requestId());
      client.receiveReply();
      client.submit(2, a); // rank 0 holds all three blocks
      long second = e0.receiveSubmit().requestId();

      client.submit(3, TokenizerWorkersTest.SLOW); // its tokenization waits for the gate
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 3); // (client and engine race)
      e0.reply(ReplyRecords.completedWithCachedTokens(second, 16)); // one block of three served
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(2);
      client.submit(4, a); // waits behind request 3
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 4);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL))
          .as("recorded when the record arrives")
          .isEqualTo(16);
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL))
          .as("applied behind the request being tokenized")
          .isZero();

      tokenizer.tokenizeGate.countDown();
      // request 3 is routed before the reply is applied: rank 0 still has request 2 pending
      EngineSubmit third = e1.receiveSubmit();
      EngineSubmit fourth = e0.receiveSubmit(); // then rank 0 is free and known for block 0
      e1.complete(third.requestId());
      e0.complete(fourth.requestId());
      client.receiveReplies(2);

      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isEqualTo(2);
      List<Double> ratios = c.metrics().observations(Metric.ROUTING_PREFIX_MATCH_RATIO);
      assertThat(ratios).hasSize(4);
      assertThat(ratios.subList(0, 3)).containsExactly(0.0, 1.0, 0.0);
      assertThat(ratios.get(3)).isCloseTo(1.0 / 3, within(1e-12));
    }
  }

  /**
   * The simulated engine with a cache of four blocks reports what it served; the hits, worked out
   * by hand: a (three blocks) misses; b (two other blocks) misses and evicts a's deepest block, a2;
   * a again finds a0 and a1 (32 tokens) where routing predicted all three (48), so feedback drops
   * engine 0's entry for a2, although that request's prefill put a2 back; a once more finds all
   * three (48) where routing now predicts two (32): a surplus, a shortfall of 0.
   */
  @Test
  void theSimulatedEnginesCountDrivesTheFeedback() throws ProtocolException {
    RouterConfig routing = RouterConfig.builder().feedback(true).build();
    try (TestCoordinator c = TestCoordinator.start(b -> b.routing(routing))) {
      c.own(
          SimulatedEngine.start(
              c.endpoint(),
              EngineConfig.builder(0)
                  .cacheBlocks(4)
                  .base(Duration.ZERO)
                  .perPromptToken(Duration.ZERO)
                  .perGeneratedToken(Duration.ZERO)
                  .build()));
      c.awaitActiveEngines(1);
      TestClient client = c.client();
      long[] a = SubmitForwardingTest.tokens(48, 1);
      long[] b = SubmitForwardingTest.tokens(32, 1001);
      long[][] prompts = {a, b, a, a};

      List<Long> reported = new ArrayList<>();
      for (int i = 0; i < prompts.length; i++) {
        client.submit(i, prompts[i]);
        ClientReply reply = client.receiveReply();
        assertThat(reply.clientRequestId()).isEqualTo(i);
        reported.add(reply.record().get("num_cached_tokens").asLong());
      }

      assertThat(reported).containsExactly(0L, 0L, 32L, 48L);
      assertThat(c.metrics().observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
          .containsExactly(0.0, 0.0, 16.0, 0.0);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isEqualTo(48 + 32);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isEqualTo(32 + 48);
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isEqualTo(1);
    }
  }
}
