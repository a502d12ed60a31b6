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
import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * What a routed request keeps for engine feedback, from its commit to its terminal record, and the
 * order in which a reply's completion and feedback reach the router. The loop's part is played by
 * hand, as {@code Conductor.route} does it; prompts are short token lists, hashed on the loop, so
 * no tokenizer worker is involved.
 */
class RequestRoutingTest {
  private static final long UNKNOWN = ReplyRecord.CACHED_TOKENS_UNKNOWN;

  /** Four blocks of 16 tokens. */
  private static final long[] P = LongStream.rangeClosed(1, 64).toArray();

  /** Four other blocks. */
  private static final long[] Q = LongStream.rangeClosed(1001, 1064).toArray();

  private final InMemoryMetrics metrics = new InMemoryMetrics();
  private final PendingRequests pending = new PendingRequests();
  private final Peer client = new Peer("client".getBytes(StandardCharsets.US_ASCII));
  private Router router;
  private RequestRouting routing;
  private int e0;

  private void start(boolean feedback) {
    RouterConfig config = RouterConfig.builder().feedback(feedback).build();
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
      routing.sent(r, d, count, false);
      pending.routed(r, d.engine());
    }
    return depths;
  }

  /** Routes one request and answers it with {@code cachedTokens}; returns its predicted depth. */
  private int roundTrip(long[] prompt, long cachedTokens) {
    PendingRequest r = enqueue(prompt);
    int depth = routeReady()[0];
    routing.completed(r, cachedTokens);
    pending.remove(r);
    return depth;
  }

  private static long[] hashes(long[] prompt) {
    BlockHasher h = new BlockHasher(16);
    return Arrays.copyOf(h.hashes(), h.hash(prompt, prompt.length / 16));
  }

  @Test
  void withFeedbackARequestKeepsItsOwnCopyOfTheHashesOnlyWhenAPrefixWasPredicted() {
    start(true);
    PendingRequest first = enqueue(P);
    routeReady();
    PendingRequest second = enqueue(P);
    routeReady();
    PendingRequest other = enqueue(Q); // hashed into the same buffer of the loop's hasher
    routeReady();

    assertThat(first.committedBlocks).isEqualTo(4);
    assertThat(first.predictedBlocks).isZero();
    assertThat(first.committedHashes).as("nothing predicted: nothing to correct").isNull();
    assertThat(second.committedBlocks).isEqualTo(4);
    assertThat(second.predictedBlocks).isEqualTo(4);
    assertThat(second.committedHashes).containsExactly(hashes(P));
    assertThat(other.predictedBlocks).isZero();
  }

  @Test
  void withFeedbackOffNoHashesAreKept() {
    start(false);
    roundTrip(P, UNKNOWN);
    PendingRequest r = enqueue(P);
    routeReady();

    assertThat(r.predictedBlocks).isEqualTo(4);
    assertThat(r.committedBlocks).isEqualTo(4);
    assertThat(r.committedHashes).isNull();
  }

  @Test
  void theTerminalRecordFreesTheHashesAndDropsWhatTheEngineDidNotServe() {
    start(true);
    roundTrip(P, 0);
    PendingRequest r = enqueue(P);
    routeReady();
    assertThat(router.pending(e0)).isEqualTo(1);

    routing.completed(r, 16);

    assertThat(r.committedHashes).isNull();
    assertThat(router.pending(e0)).isZero();
    assertThat(router.feedbackPurgedTotal()).isEqualTo(3);
    assertThat(metrics.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isEqualTo(3);
    assertThat(metrics.observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
        .containsExactly(0.0, 48.0);
    assertThat(roundTrip(P, UNKNOWN)).as("engine 0 is known for block 0 only").isEqualTo(1);
  }

  @Test
  void anUnknownCountOrOneThatCoversThePredictionChangesNoEntry() {
    start(true);
    roundTrip(P, 0);
    assertThat(roundTrip(P, UNKNOWN)).isEqualTo(4);
    assertThat(roundTrip(P, 64)).isEqualTo(4);
    assertThat(roundTrip(P, 1000)).as("more than predicted").isEqualTo(4);
    assertThat(roundTrip(P, 63)).as("63 tokens: three whole blocks served").isEqualTo(4);

    assertThat(roundTrip(P, UNKNOWN)).isEqualTo(3);
    assertThat(router.feedbackPurgedTotal()).isEqualTo(1);
    assertThat(metrics.observations(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
        .containsExactly(0.0, 0.0, 0.0, 1.0);
    assertThat(metrics.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isEqualTo(64 + 1000 + 63);
    assertThat(metrics.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isEqualTo(3 * 64);
  }

  @Test
  void aReplyQueuedBehindAWaitingRequestCarriesItsFeedbackToItsPlaceInTheOrder() {
    start(true);
    roundTrip(P, 0);
    PendingRequest answered = enqueue(P);
    routeReady();
    PendingRequest waiting = enqueue(P);
    assertThat(routing.next(false, pending)).as("held: the engines are not all there").isNull();

    routing.completed(answered, 16); // arrives after the waiting request: queued behind it

    assertThat(answered.committedHashes).as("the queued change holds them now").isNull();
    assertThat(router.feedbackPurgedTotal()).isZero();
    assertThat(router.pending(e0)).isEqualTo(1);
    assertThat(metrics.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL))
        .as("the metrics do not wait")
        .isEqualTo(16);

    // routed with the entries the feedback then drops, which is applied right after it
    assertThat(routeReady()).containsExactly(4);

    assertThat(waiting.committedHashes).containsExactly(hashes(P));
    assertThat(router.feedbackPurgedTotal()).isEqualTo(3);
    assertThat(router.pending(e0)).isEqualTo(1); // the waiting request's, not the answered one's
  }
}
