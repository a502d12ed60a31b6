package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NoopMetricsTest {

  @Test
  void noopIsOneSharedInstance() {
    assertThat(CoordinatorMetrics.noop()).isSameAs(CoordinatorMetrics.noop());
  }

  @Test
  void handlesAreConstantSingletons() {
    CoordinatorMetrics noop = CoordinatorMetrics.noop();
    assertThat(noop.counter(Metric.ROUTING_CACHE_HIT_TOTAL))
        .isSameAs(noop.counter(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL));
    assertThat(noop.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS))
        .isSameAs(noop.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO));
    assertThat(noop.gauge(Metric.COORDINATOR_ACTIVE_ENGINES))
        .isSameAs(noop.gauge(Metric.ROUTING_INDEX_ENTRIES));
  }

  @Test
  void noopCountsNothingAndSurvivesClose() {
    CoordinatorMetrics noop = CoordinatorMetrics.noop();
    noop.inc("no_such_metric");
    noop.close();
    noop.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc();
    assertThat(noop.ignoredUpdates()).isZero();
    assertThat(noop).hasToString("CoordinatorMetrics.noop()");
  }
}
