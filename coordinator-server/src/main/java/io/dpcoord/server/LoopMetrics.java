package io.dpcoord.server;

import io.dpcoord.metrics.CoordinatorMetrics;
import io.dpcoord.metrics.CoordinatorMetrics.Counter;
import io.dpcoord.metrics.CoordinatorMetrics.Gauge;
import io.dpcoord.metrics.CoordinatorMetrics.Histogram;
import io.dpcoord.metrics.Metric;

/**
 * The event loop's metric handles (docs/spec/METRICS.md), resolved once when the loop is built and
 * then updated directly: no name lookup per event.
 */
final class LoopMetrics {
  final Counter cacheHit;
  final Counter cacheMiss;
  final Counter staleDetected;
  final Counter invalidMessage;
  final Counter internalError;
  final Counter unknownSender;
  final Counter engineUnreachable;
  final Counter allEnginesExhausted;
  final Counter submitted;
  final Counter completed;
  final Counter failed;
  final Counter indexEvicted;
  final Counter textPromptUntokenized;
  final Counter detokenizeFailed;
  final Counter cachedTokensPredicted;
  final Counter cachedTokensServed;
  final Counter feedbackPurged;
  final Counter refusedEngine;
  final Counter refusedClient;
  final Counter refusedControl;
  final Counter limitRejected;
  final Counter clientsReleased;
  final Counter timedOut;
  final Counter lateReplies;
  final Histogram tokenizeLatency;
  final Histogram detokenizeLatency;
  final Histogram routingLatency;
  final Histogram processingLatency;
  final Histogram prefixMatchRatio;
  final Histogram cachedTokensShortfall;
  final Gauge activeEngines;
  final Gauge inFlight;
  final Gauge knownClients;
  final Gauge indexEntries;

  private long lastEvictedTotal;

  LoopMetrics(CoordinatorMetrics m) {
    cacheHit = m.counter(Metric.ROUTING_CACHE_HIT_TOTAL);
    cacheMiss = m.counter(Metric.ROUTING_CACHE_MISS_TOTAL);
    staleDetected = m.counter(Metric.ROUTING_STALE_DETECTED_TOTAL);
    invalidMessage = m.counter(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL);
    internalError = m.counter(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL);
    unknownSender = m.counter(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL);
    engineUnreachable = m.counter(Metric.COORDINATOR_ENGINE_UNREACHABLE_TOTAL);
    allEnginesExhausted = m.counter(Metric.COORDINATOR_ALL_ENGINES_EXHAUSTED_TOTAL);
    submitted = m.counter(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL);
    completed = m.counter(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL);
    failed = m.counter(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL);
    indexEvicted = m.counter(Metric.ROUTING_INDEX_EVICTED_TOTAL);
    textPromptUntokenized = m.counter(Metric.ROUTING_TEXT_PROMPT_UNTOKENIZED_TOTAL);
    detokenizeFailed = m.counter(Metric.COORDINATOR_DETOKENIZE_FAILED_TOTAL);
    cachedTokensPredicted = m.counter(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL);
    cachedTokensServed = m.counter(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL);
    feedbackPurged = m.counter(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL);
    refusedEngine = m.counter(Metric.COORDINATOR_REFUSED_ENGINE_TOTAL);
    refusedClient = m.counter(Metric.COORDINATOR_REFUSED_CLIENT_TOTAL);
    refusedControl = m.counter(Metric.COORDINATOR_REFUSED_CONTROL_TOTAL);
    limitRejected = m.counter(Metric.COORDINATOR_LIMIT_REJECTED_TOTAL);
    clientsReleased = m.counter(Metric.COORDINATOR_CLIENTS_RELEASED_TOTAL);
    timedOut = m.counter(Metric.COORDINATOR_REQUESTS_TIMED_OUT_TOTAL);
    lateReplies = m.counter(Metric.COORDINATOR_LATE_REPLIES_TOTAL);
    tokenizeLatency = m.histogram(Metric.COORDINATOR_TOKENIZE_LATENCY_SECONDS);
    detokenizeLatency = m.histogram(Metric.COORDINATOR_DETOKENIZE_LATENCY_SECONDS);
    routingLatency = m.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS);
    processingLatency = m.histogram(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS);
    prefixMatchRatio = m.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO);
    cachedTokensShortfall = m.histogram(Metric.ROUTING_CACHED_TOKENS_SHORTFALL);
    activeEngines = m.gauge(Metric.COORDINATOR_ACTIVE_ENGINES);
    inFlight = m.gauge(Metric.COORDINATOR_REQUESTS_IN_FLIGHT);
    knownClients = m.gauge(Metric.COORDINATOR_KNOWN_CLIENTS);
    indexEntries = m.gauge(Metric.ROUTING_INDEX_ENTRIES);
  }

  /**
   * Records a request sent to its engine: routing latency, cache hit or miss and match ratio when
   * prefix routing applied, a stale detection if any attempt to route it met one.
   */
  void routed(PendingRequest r) {
    routingLatency.recordNanos(r.routingLatencyNanos);
    if (r.prefixApplied) {
      (r.predictedBlocks > 0 ? cacheHit : cacheMiss).inc();
      prefixMatchRatio.observe(r.matchFraction);
    }
    if (r.staleSeen) {
      staleDetected.inc();
    }
  }

  /** Records the index's size and evictions after a commit. */
  void indexChanged(long indexSize, long evictedTotal) {
    if (evictedTotal != lastEvictedTotal) {
      indexEvicted.inc(evictedTotal - lastEvictedTotal);
      lastEvictedTotal = evictedTotal;
    }
    indexEntries.set(indexSize);
  }

  /**
   * Records what the engine of a completed request served from its prefix cache ({@code
   * num_cached_tokens}) against what routing predicted it held, both in tokens: the shortfall (0
   * when it served as many or more: histograms hold no negative values) and both totals.
   */
  void cachedTokens(long predicted, long served) {
    cachedTokensShortfall.observe(Math.max(0, predicted - served));
    cachedTokensPredicted.inc(predicted);
    cachedTokensServed.inc(served);
  }
}
