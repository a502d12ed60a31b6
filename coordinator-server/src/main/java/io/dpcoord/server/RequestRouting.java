package io.dpcoord.server;

import io.dpcoord.protocol.Prompt;
import io.dpcoord.routing.BlockHasher;
import io.dpcoord.routing.Decision;
import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.routing.Tokenizer;
import java.util.function.LongSupplier;

/**
 * The routing of one request, step by step: hash what the policy uses of its prompt, ask the {@link
 * Router} for an engine (again if the send fails), and record the decision once the send succeeded:
 * the router's commit, the routing metrics and the schedule output.
 */
final class RequestRouting {
  private final RouterConfig config;
  private final Router router;
  private final BlockHasher hasher;
  private final Tokenizer tokenizer;
  private final LoopMetrics metrics;
  private final ScheduleWriter schedule;
  private final LongSupplier nanoTime;

  RequestRouting(
      CoordinatorConfig config,
      Router router,
      LoopMetrics metrics,
      ScheduleWriter schedule,
      LongSupplier nanoTime) {
    this.config = config.routing();
    this.router = router;
    this.hasher = new BlockHasher(this.config.blockSize());
    this.tokenizer = config.tokenizer();
    this.metrics = metrics;
    this.schedule = schedule;
    this.nanoTime = nanoTime;
  }

  /** Hashes the blocks of the request's prompt that routing uses; returns how many. */
  int hash(EngineBound request) {
    if (!request.prefixEligible() || !config.routesByPrefix()) {
      return 0;
    }
    Prompt prompt = request.prompt();
    long[] tokens = prompt.isText() ? tokenizer.tokenize(prompt.text()) : prompt.tokens();
    return hasher.hash(tokens, config.blocksToHash(tokens.length));
  }

  /** The engine for a request whose {@code count} hashes {@link #hash} just computed. */
  Decision choose(EngineBound request, int count) {
    return router.route(hasher.hashes(), count, request.prefixEligible());
  }

  /** Records that the request went to the decision's engine; {@code stale}: any attempt met one. */
  void sent(PendingRequest r, Decision decision, int count, boolean stale) {
    router.commit(decision, hasher.hashes(), count);
    long latency = nanoTime.getAsLong() - r.receivedNanos;
    metrics.routed(decision, stale, latency, router.indexSize(), router.evictedTotal());
    if (schedule != null) {
      schedule.record(r.requestId, decision.rank(), decision.hashesUsed());
    }
  }

  /** Pushes the schedule output to the disk. */
  void flush() {
    if (schedule != null) {
      schedule.flush();
    }
  }

  /** Ends the schedule output. */
  void close() {
    if (schedule != null) {
      schedule.close();
    }
  }
}
