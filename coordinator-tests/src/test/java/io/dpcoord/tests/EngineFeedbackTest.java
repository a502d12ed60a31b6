package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

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
 * <p>The rule (docs/design/routing.md, "Engine feedback"), worked by hand in each test: every
 * commit adds one to the assignment counter and stamps all of its request's hashes with it. A
 * decision predicted {@code matchDepth} blocks, the deepest last assigned to the engine at {@code
 * matchStamp}, {@code matchAge} commits before. When the record says the engine served fewer, the
 * engine's horizon becomes {@code matchStamp} and its age limit {@code matchAge}: its entries
 * stamped at or before the horizon, or older than the limit, are stale, dropped (and counted in
 * {@code routing_index_feedback_purged_total}) when a walk or a write meets them. The request's own
 * entries, re-stamped by its commit, stay.
 *
 * <p>Prompts are token lists of whole blocks of 16 tokens (the default block size). Requests go one
 * at a time, so every engine is idle at each decision: a prompt nobody holds goes to rank 0.
 */
@Timeout(30)
class EngineFeedbackTest {
  /** Four blocks. */
  private static final long[] A = SubmitForwardingTest.tokens(64, 1);

  /** Four other blocks. */
  private static final long[] B = SubmitForwardingTest.tokens(64, 1001);

  /** Four blocks sharing none with A or B. */
  private static final long[] C = SubmitForwardingTest.tokens(64, 2001);

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

  /**
   * Under longest_prefix everything goes to engine 0: C (stamp 1), A (stamp 2), then A again,
   * predicted all four blocks at stamp 2, 0 commits old (stamp 3), and its record says one block
   * served. With feedback: horizon 2, age limit 0. A once more matches all four (stamp 3, 0 commits
   * old at its decision); C, stamped 1, is stale: its walk (deepest block first, on to the next
   * while none has a fresh owner) drops its four entries and finds no match.
   */
  private static void shortfallTrace(TestCoordinator c) {
    TestEngine e0 = c.engine(0);
    c.engine(1);
    TestClient client = c.client();
    roundTrip(client, e0, 1, C, cachedTokens(0)); // first sight: predicted 0, served 0
    roundTrip(client, e0, 2, A, cachedTokens(0));
    roundTrip(client, e0, 3, A, cachedTokens(16)); // predicted 4 blocks; served 1
    roundTrip(client, e0, 4, A, ReplyRecords::completed);
    roundTrip(client, e0, 5, C, ReplyRecords::completed);
  }

  @Test
  void aShortfallWithFeedbackMakesTheEntriesAssignedBeforeTheMissedBlockStale() {
    try (TestCoordinator c = start(Policy.LONGEST_PREFIX, true)) {
      shortfallTrace(c);

      assertThat(c.metrics().observations(Metric.ROUTING_PREFIX_MATCH_RATIO))
          .as("A keeps its own entries; C's are stale")
          .containsExactly(0.0, 0.0, 1.0, 1.0, 0.0);
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isEqualTo(4);
      assertThat(c.metrics().observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
          .containsExactly(0.0, 0.0, 64.0 - 16.0);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isEqualTo(64);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isEqualTo(16);
    }
  }

  @Test
  void withFeedbackOffNothingIsPurgedButTheShortfallIsStillRecorded() {
    try (TestCoordinator c = start(Policy.LONGEST_PREFIX, false)) {
      shortfallTrace(c);

      assertThat(c.metrics().observations(Metric.ROUTING_PREFIX_MATCH_RATIO))
          .as("the index still says engine 0 holds C")
          .containsExactly(0.0, 0.0, 1.0, 1.0, 1.0);
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isZero();
      assertThat(c.metrics().observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
          .containsExactly(0.0, 0.0, 48.0);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isEqualTo(64);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isEqualTo(16);
    }
  }

  /**
   * SGLang's rule takes the longest match above 30 % of the request, else the engine the index
   * names for the fewest blocks. C goes to engine 0 (both name none; stamp 1), B to engine 1
   * (engine 0 is named for 4; stamp 2), A to engine 0 (4 each; stamp 3), and A again to engine 0,
   * which holds it all: predicted 4 blocks at stamp 3, 0 commits old (stamp 4), and its record says
   * none served. With feedback, horizon(engine 0) = 3: C's entries on engine 0 (stamp 1) are stale.
   * C's walk, from its first block, drops the first one's and stops there, as no engine extends the
   * run: no match anywhere, so the engine named for fewer blocks, engine 1 (4 against 8, a stale
   * node counting until it is dropped). Its commit to engine 1 drops engine 0's stale nodes of the
   * three other blocks as it writes them: 4 dropped. Without feedback, C matches all four blocks on
   * engine 0.
   */
  @ParameterizedTest
  @CsvSource({"true, 1, 4", "false, 0, 0"})
  void feedbackChangesTheEngineAPolicyChoosesForThePrefix(
      boolean feedback, int expectedRank, long purged) {
    try (TestCoordinator c = start(Policy.SGLANG, feedback)) {
      TestEngine[] engines = {c.engine(0), c.engine(1)};
      TestClient client = c.client();
      roundTrip(client, engines[0], 1, C, cachedTokens(0));
      roundTrip(client, engines[1], 2, B, cachedTokens(0));
      roundTrip(client, engines[0], 3, A, cachedTokens(0));
      roundTrip(client, engines[0], 4, A, cachedTokens(0)); // predicted 4 blocks; served 0

      roundTrip(client, engines[expectedRank], 5, C, ReplyRecords::completed);

      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isEqualTo(purged);
    }
  }

  /**
   * Records that do not say what the engine served give no feedback: read as a shortfall, any of
   * them would move engine 0's horizon to A's last stamp, past C's, and C would no longer match.
   */
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
      roundTrip(client, e0, 0, C, ReplyRecords::completed); // stamp 1
      roundTrip(client, e0, 1, A, ReplyRecords::completed); // stamp 2

      for (int i = 0; i < silent.size(); i++) {
        roundTrip(client, e0, i + 2, A, silent.get(i)); // predicted: all four blocks, each time
      }
      roundTrip(client, e0, 8, C, ReplyRecords::completed);

      assertThat(c.metrics().observations(Metric.ROUTING_PREFIX_MATCH_RATIO))
          .as("two misses, then all four blocks every time: nothing became stale")
          .containsExactly(0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0);
      assertThat(c.observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL)).isZero();
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isZero();
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isZero();
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
      c.awaitCount(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL, 9); // counted after the forward
    }
  }

  /**
   * A reply that arrives while a request waits for its hashes is applied to routing after that
   * request, feedback included. Engine 0 is sent the tokens of the gated text (three blocks, stamp
   * 1), then a (three other blocks, stamp 2), then a again: predicted three blocks at stamp 2, 0
   * commits old (stamp 3). The gated text, submitted next, waits for its tokenizer while a's record
   * (one block served) arrives: horizon 2, age limit 0, queued behind it. So the text is routed
   * with its blocks' entries (stamp 1) still fresh: all three on engine 0, which a's request still
   * keeps busy (0.5 x 1 + 0.5 x 15/16 against engine 1's 0.5); its commit re-stamps them at 4. (Had
   * the feedback come first, they would have been stale: no match.) Then the feedback: a, queued
   * behind the text, finds its entries (stamp 3) one commit old, past the limit: three hidden
   * (kept, not dropped), no match, and it goes to engine 1, as engine 0 has the text.
   */
  @Test
  void feedbackIsAppliedInArrivalOrderBehindARequestWaitingForItsHashes() {
    TokenizerWorkersTest.GatedTokenizer tokenizer = new TokenizerWorkersTest.GatedTokenizer();
    tokenizer.detokenizeGate.countDown(); // replies go through
    RouterConfig routing = RouterConfig.builder().feedback(true).build();
    long[] text = TestCoordinator.BYTES.tokenize(TokenizerWorkersTest.SLOW); // 59 tokens
    long[] a = SubmitForwardingTest.tokens(48, 1); // three blocks
    // two workers: one is held by the gated text, the other detokenizes the replies
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.routing(routing).tokenizer(tokenizer).tokenizerThreads(2))) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client();
      client.submit(1, text); // nobody holds it: rank 0
      e0.complete(e0.receiveSubmit().requestId());
      client.receiveReply();
      client.submit(2, a); // nobody holds it: rank 0
      e0.complete(e0.receiveSubmit().requestId());
      client.receiveReply();
      client.submit(3, a); // rank 0 holds all three blocks
      long third = e0.receiveSubmit().requestId();

      client.submit(4, TokenizerWorkersTest.SLOW); // its tokenization waits for the gate
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 4); // (client and engine race)
      e0.reply(ReplyRecords.completedWithCachedTokens(third, 16)); // one block of three served
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(3);
      client.submit(5, a); // waits behind request 4
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 5);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL))
          .as("recorded when the record arrives")
          .isEqualTo(16);

      tokenizer.tokenizeGate.countDown();
      EngineSubmit fourth = e0.receiveSubmit();
      EngineSubmit fifth = e1.receiveSubmit();
      e0.complete(fourth.requestId());
      e1.complete(fifth.requestId());
      client.receiveReplies(2);

      assertThat(c.metrics().observations(Metric.ROUTING_PREFIX_MATCH_RATIO))
          .containsExactly(0.0, 0.0, 1.0, 1.0, 0.0);
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isZero();
    }
  }

  /**
   * The simulated engine, with a cache of four blocks evicting the least recently used and the
   * deepest block first, reports what it served; one engine, so every request goes to it. Worked by
   * hand: a (three blocks) misses (stamp 1); b (two other blocks) misses and evicts a's deepest
   * block, a2 (stamp 2); a again finds a0 and a1 (32 tokens) where routing predicted all three (48)
   * at stamp 1, 2 blocks old (b's): horizon 1, age limit 2 (stamp 3). Its prefill put a2 back,
   * evicting b1, and a once more finds all three (48), as routing predicts: its entries are its
   * own, stamp 3, 0 blocks old (stamp 4). b, stamp 2, is now 6 blocks old, past the limit: its two
   * entries are hidden (kept, not dropped) and nothing is predicted, where the engine serves b0
   * (16) and without feedback routing would predict both blocks. That surplus, with b0's entry
   * hidden at 6 blocks old, raises the limit to 6 (stamp 5; the engine evicts a2). c (two new
   * blocks) evicts a1 and a0 (stamp 6). a once more: its entries (stamp 4) are 4 blocks old, hidden
   * under the limit of 2, shown under 6: three blocks predicted, none served.
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
      long[] c2 = SubmitForwardingTest.tokens(32, 2001);
      long[][] prompts = {a, b, a, a, b, c2, a};

      List<Long> reported = new ArrayList<>();
      for (int i = 0; i < prompts.length; i++) {
        client.submit(i, prompts[i]);
        ClientReply reply = client.receiveReply();
        assertThat(reply.clientRequestId()).isEqualTo(i);
        reported.add(reply.record().get("num_cached_tokens").asLong());
      }

      assertThat(reported).containsExactly(0L, 0L, 32L, 48L, 16L, 0L, 0L);
      assertThat(c.metrics().observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
          .containsExactly(0.0, 0.0, 16.0, 0.0, 0.0, 0.0, 48.0);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isEqualTo(48 + 48 + 48);
      assertThat(c.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isEqualTo(32 + 48 + 16);
      assertThat(c.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isZero();
    }
  }
}
