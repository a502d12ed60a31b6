package io.dpcoord.cli;

import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.metrics.Metric;

/** The coordinator's counters as the demo shows them, read from its metrics. */
final class DemoCounters {
  private final DropwizardMetrics metrics;

  DemoCounters(DropwizardMetrics metrics) {
    this.metrics = metrics;
  }

  long count(Metric metric) {
    return metrics.registry().counter(metric.metricName()).getCount();
  }

  /** Cache hits out of the prefix-routed requests, 0 to 1; 0 before any. */
  double cacheHitRate() {
    long hits = count(Metric.ROUTING_CACHE_HIT_TOTAL);
    long all = hits + count(Metric.ROUTING_CACHE_MISS_TOTAL);
    return all == 0 ? 0.0 : (double) hits / all;
  }
}
