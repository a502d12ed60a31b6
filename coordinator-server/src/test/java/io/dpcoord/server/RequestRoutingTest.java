package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.ReplyRecord;
import io.dpcoord.routing.BlockHasher;
import io.dpcoord.routing.Decision;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a routed request keeps from its commit to its terminal record, and how the record's engine
 * feedback reaches the router: in arrival order, with the decision's match stamp and age. The
 * loop's part is played by hand, as {@code Conductor.route} does it; prompts are short token lists,
 * hashed on the loop, so no tokenizer worker is involved.
 *
 * <p>The rule (docs/design/routing.md, "Engine feedback"), worked by hand in each test: the router
 * predicted {@code matchDepth} blocks, the deepest of them last assigned to the engine at {@code
 * matchStamp}, {@code matchAge} commits before the decision; every commit adds one to the
 * assignment counter and stamps all of its request's hashes with it. If the record says the engine
 * served fewer blocks, the engine's horizon becomes {@code matchStamp} and its age limit {@code
 * matchAge}: its entries stamped at or before the horizon, or older than the limit, are stale and
 * dropped when a walk meets them. The request's own entries, re-stamped by its commit, stay.
 *
 * <p>Two engines, longest_prefix (Megatron's rule): both idle, a prompt nobody holds goes to rank
 * 0, engine 0. A decision walks the request's hashes from the deepest and stops at the first one
 * with a fresh owner, so a walk over four stale blocks drops four entries.
 */
class RequestRoutingTest {
  private static final long UNKNOWN = ReplyRecord.CACHED_TOKENS_UNKNOWN;

  /** Four blocks of 16 tokens. */
  private static final long[] A = LongStream.rangeClosed(1, 64).toArray();

  /** Four other blocks. */
  private static final long[] B = LongStream.rangeClosed(1001, 1064).toArray();

  /** Four blocks sharing none with A or B. */
  private static final long[] C = LongStream.rangeClosed(2001, 2064).toArray();

  private final InMemoryMetrics metrics = new InMemoryMetrics();
  private final PendingRequests pending = new PendingRequests();
  private final Peer client = new Peer("client".getBytes(StandardCharsets.US_ASCII));
  private Router router;
  private RequestRouting routing;
  private int e0;

  private void start(boolean feedback) {
    start(Policy.LONGEST_PREFIX, feedback);
  }

  private void start(Policy policy, boolean feedback) {
    RouterConfig config = RouterConfig.builder().policy(policy).feedback(feedback).build();
    router = new Router(config);
    e0 = router.registerInitial(List.of(new byte[] {0}, new byte[] {1}))[0];
    routing =
        new RequestRouting(
            CoordinatorConfig.builder().routing(config).build(),
            router,
            null, // token prompts of a few blocks never leave the loop
            new LoopMetrics(metrics),
            null,
            new RateLimitedLog(line -> {}, 1, System::nanoTime),
            System::nanoTime);
    pending.connect(client, Dialect.V0_19);
  }

  /** Accepts a request and queues it for routing. */
  private PendingRequest enqueue(long[] prompt) {
    PendingRequest r = pending.accept(client, 0, RawValue.nil(), RawValue.nil(), 0);
    r.bound = new EngineBound(new byte[0], Prompt.ofTokens(prompt), true);
    routing.enqueue(r, () -> {});
    return r;
  }

  /** Routes the requests that can go now, as the loop does; returns their decisions' depths. */
  private int[] routeReady() {
    int[] depths = new int[0];
    for (PendingRequest r; (r = routing.next(true, pending)) != null; ) {
      int count = routing.hash(r);
      Decision d = routing.choose(r, count);
      depths = Arrays.copyOf(depths, depths.length + 1);
      depths[depths.length - 1] = d.matchDepth();
      routing.sent(r, d, count);
      pending.routed(r, d.engine());
    }
    return depths;
  }

  /** Routes one request and answers it with {@code cachedTokens}; returns its predicted depth. */
  private int roundTrip(long[] prompt, long cachedTokens) {
    PendingRequest r = enqueue(prompt);
    int depth = routeReady()[0];
    answer(r, cachedTokens);
    return depth;
  }

  /** The terminal record of {@code r}, saying its engine served {@code cachedTokens}. */
  private void answer(PendingRequest r, long cachedTokens) {
    routing.completed(r, cachedTokens);
    pending.remove(r);
  }

  /**
   * The depth routing would predict for {@code prompt} now, without sending it: a decision commits
   * nothing, so no entry is re-stamped (it only drops the stale entries its walk meets).
   */
  private int predicted(long[] prompt) {
    long[] h = hashes(prompt);
    return router.route(h, h.length, true).matchDepth();
  }

  private static long[] hashes(long[] prompt) {
    BlockHasher h = new BlockHasher(16);
    int n = h.hash(prompt, prompt.length / 16); // first: it may replace the array hashes() returns
    return Arrays.copyOf(h.hashes(), n);
  }

  /**
   * Only dynamo and llm_d, which count an engine's distinct blocks in flight, keep a request's
   * hashes: its completion takes them off. Feedback needs only the decision's depth, stamp and age,
   * so with it on a Megatron policy keeps none, even for a predicted prefix (the rule that dropped
   * the request's own blocks needed them).
   */
  @ParameterizedTest
  @CsvSource({
    "LONGEST_PREFIX, true, false",
    "LONGEST_PREFIX, false, false",
    "SGLANG, true, false",
    "DYNAMO, true, true",
    "DYNAMO, false, true",
    "LLM_D, false, true"
  })
  void aRequestKeepsItsOwnCopyOfItsHashesOnlyUnderAPolicyThatCountsBlocksInFlight(
      Policy policy, boolean feedback, boolean kept) {
    start(policy, feedback);
    PendingRequest first = enqueue(A);
    routeReady();
    PendingRequest other = enqueue(B); // hashed into the same buffer of the loop's hasher
    routeReady();
    if (kept) {
      assertThat(first.committedHashes).containsExactly(hashes(A));
    } else {
      assertThat(first.committedHashes).isNull();
    }
    answer(first, 64);
    assertThat(first.committedHashes).as("given up at the terminal record").isNull();
    PendingRequest again = enqueue(A); // hashed into that buffer again
    routeReady();

    assertThat(first.committedBlocks).isEqualTo(4);
    assertThat(other.committedBlocks).isEqualTo(4);
    assertThat(again.committedBlocks).isEqualTo(4);
    assertThat(again.predictedBlocks).isEqualTo(4);
    if (kept) {
      assertThat(other.committedHashes).containsExactly(hashes(B));
      assertThat(again.committedHashes).containsExactly(hashes(A));
    } else {
      assertThat(other.committedHashes).isNull();
      assertThat(again.committedHashes).as("a predicted prefix, and still none").isNull();
    }
  }

  /**
   * Engine 0 is sent C (commit 1), then A (commit 2), then A again: a prediction of all four
   * blocks, the deepest assigned at stamp 2, 0 blocks before (commit 3 re-stamps A at 3). Its
   * record says nothing was served: horizon(engine 0) = 2, age limit 0. A, stamped 3 and of age 0
   * at the next decision, stays; C, stamped 1 (at or before the horizon, and 12 blocks old at its
   * decision), is stale: its walk drops C's four entries, deepest first, and finds no match. With
   * feedback off, C matches all four blocks and nothing is dropped; the shortfall metrics are the
   * same either way.
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aShortfallMakesTheEnginesOlderEntriesStaleButNotTheRequestsOwn(boolean feedback) {
    start(feedback);
    assertThat(roundTrip(C, 0)).isZero(); // stamp 1; nothing predicted, nothing to compare
    assertThat(roundTrip(A, 0)).isZero(); // stamp 2
    PendingRequest r = enqueue(A);
    assertThat(routeReady()).containsExactly(4);
    assertThat(r.matchStamp).isEqualTo(2);
    assertThat(r.matchAge).isZero();

    answer(r, 0);

    assertThat(router.pending(e0)).isZero();
    assertThat(router.feedbackPurgedTotal()).as("dropped only when a walk meets them").isZero();
    assertThat(roundTrip(A, UNKNOWN)).as("re-stamped by its own commit").isEqualTo(4);
    assertThat(roundTrip(C, UNKNOWN)).isEqualTo(feedback ? 0 : 4);
    assertThat(router.feedbackPurgedTotal()).isEqualTo(feedback ? 4 : 0);
    assertThat(metrics.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL))
        .as("synced after the commit that followed the walk")
        .isEqualTo(feedback ? 4 : 0);
    assertThat(metrics.observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
        .containsExactly(0.0, 0.0, 64.0);
  }

  /**
   * A shortfall's age limit keeps moving with the traffic. Engine 0 is sent A (stamp 1), B (stamp
   * 2), then A again, predicted four blocks at stamp 1, 4 blocks old (B's four were sent to engine
   * 0 after it; commit 3 re-stamps A at 3); its record says one block served: horizon 1, age limit
   * 4. B, stamp 2, is 4 blocks old and matches, until the next commit (A again, stamp 4) makes it 8
   * blocks old: hidden, although its stamp is above the horizon; kept, not dropped.
   */
  @Test
  void entriesOlderThanTheBlockAnEngineMissedBecomeHiddenAsCommitsGoOn() {
    start(true);
    roundTrip(A, UNKNOWN); // stamp 1
    roundTrip(B, UNKNOWN); // stamp 2
    PendingRequest r = enqueue(A);
    assertThat(routeReady()).containsExactly(4);
    assertThat(r.matchStamp).isEqualTo(1);
    assertThat(r.matchAge).isEqualTo(4);
    answer(r, 16);

    assertThat(predicted(B)).as("4 blocks old: within the age limit").isEqualTo(4);
    assertThat(roundTrip(A, UNKNOWN)).as("stamp 3, 0 blocks old").isEqualTo(4);
    assertThat(predicted(B)).as("8 blocks old: past the age limit").isZero();
    assertThat(router.feedbackPurgedTotal()).as("hidden, not dropped").isZero();
  }

  /**
   * A record without a count gives no feedback, and one that covers the prediction moves no
   * horizon: C, sent before all of them, still matches. Then one whose count falls a token short of
   * the fourth block (63 tokens: three whole blocks) does: horizon at A's stamp 5, so C's entries
   * (stamp 1) are stale, and A's, re-stamped at 6, stay.
   */
  @Test
  void anUnknownCountOrOneThatCoversThePredictionMakesNothingStale() {
    start(true);
    roundTrip(C, UNKNOWN); // stamp 1
    roundTrip(A, UNKNOWN); // stamp 2
    assertThat(roundTrip(A, UNKNOWN)).isEqualTo(4); // stamp 3
    assertThat(roundTrip(A, 64)).isEqualTo(4); // stamp 4
    assertThat(roundTrip(A, 1000)).as("more than predicted").isEqualTo(4); // stamp 5
    assertThat(predicted(C)).isEqualTo(4);
    assertThat(router.feedbackPurgedTotal()).isZero();

    assertThat(roundTrip(A, 63)).isEqualTo(4); // predicted at stamp 5; stamp 6
    assertThat(predicted(C)).isZero();
    assertThat(predicted(A)).isEqualTo(4);
    assertThat(router.feedbackPurgedTotal()).isEqualTo(4);
    assertThat(metrics.observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
        .containsExactly(0.0, 0.0, 1.0);
    assertThat(metrics.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isEqualTo(64 + 1000 + 63);
    assertThat(metrics.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isEqualTo(3 * 64);
  }

  /**
   * Engine 0 is sent C (stamp 1), A (stamp 2), then A again (predicted four blocks at stamp 2, age
   * 0; stamp 3), and C waits to be routed when A's record arrives (one block served): horizon 2,
   * age limit 0, from the record's place in the arrival order, behind C. So C is routed with its
   * entries of stamp 1 still fresh: all four blocks on engine 0, which A keeps busy (0.5 x 1 + 0.5
   * x 15/16 against engine 1's 0.5), and its commit re-stamps them at 4. Had the feedback come
   * first, C would have matched nothing. After it, A's entries (stamp 3, C's 4 blocks old) are past
   * the age limit, hidden: the next A matches nothing.
   */
  @Test
  void aReplyQueuedBehindAWaitingRequestCarriesItsFeedbackToItsPlaceInTheOrder() {
    start(true);
    roundTrip(C, UNKNOWN);
    roundTrip(A, UNKNOWN);
    PendingRequest answered = enqueue(A);
    routeReady();
    PendingRequest waiting = enqueue(C);
    assertThat(routing.next(false, pending)).as("held: the engines are not all there").isNull();

    answer(answered, 16); // arrives after the waiting request: queued behind it

    assertThat(router.pending(e0)).isEqualTo(1);
    assertThat(metrics.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL))
        .as("the metrics do not wait")
        .isEqualTo(16);

    assertThat(routeReady()).containsExactly(4);

    assertThat(waiting.engine).isEqualTo(e0);
    assertThat(router.pending(e0)).isEqualTo(1); // the waiting request's, not the answered one's
    assertThat(router.feedbackPurgedTotal()).isZero();
    assertThat(roundTrip(A, UNKNOWN)).isZero();
    assertThat(router.feedbackPurgedTotal()).as("hidden, not dropped").isZero();
  }
}
