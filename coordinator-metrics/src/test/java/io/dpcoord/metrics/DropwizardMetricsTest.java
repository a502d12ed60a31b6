package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.codahale.metrics.Clock;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DropwizardMetricsTest {
  private final MetricRegistry registry = new MetricRegistry();
  private final DropwizardMetrics metrics = new DropwizardMetrics(registry);

  @Test
  void theWholeCatalogueIsRegisteredUpFrontWithItsKind() {
    assertThat(registry.getNames())
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(Metric.values()).map(Metric::metricName).toList());
    for (Metric metric : Metric.values()) {
      String name = metric.metricName();
      switch (metric.type()) {
        case COUNTER -> assertThat(registry.getCounters()).containsKey(name);
        case GAUGE -> assertThat(registry.getGauges()).containsKey(name);
        case HISTOGRAM -> {
          if (metric.seconds()) {
            assertThat(registry.getTimers()).containsKey(name);
          } else {
            assertThat(registry.getHistograms()).containsKey(name);
          }
        }
      }
    }
    assertThat(metrics.registry()).isSameAs(registry);
  }

  @Test
  void countersCountHandleAndNamedIncrements() {
    metrics.counter(Metric.COORDINATOR_ALL_ENGINES_EXHAUSTED_TOTAL).inc();
    metrics.counter(Metric.COORDINATOR_ALL_ENGINES_EXHAUSTED_TOTAL).inc(5);
    metrics.inc("coordinator_all_engines_exhausted_total");
    assertThat(registry.counter("coordinator_all_engines_exhausted_total").getCount()).isEqualTo(7);
  }

  @Test
  void latenciesAreTimedInNanosecondsWhetherGivenInSecondsOrNanos() {
    metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).recordNanos(2_000_000);
    metrics.observe("coordinator_routing_latency_seconds", 0.004);
    Timer timer = registry.timer("coordinator_routing_latency_seconds");
    assertThat(timer.getCount()).isEqualTo(2);
    assertThat(timer.getSnapshot().getMin()).isEqualTo(2_000_000);
    assertThat(timer.getSnapshot().getMax()).isEqualTo(4_000_000);
  }

  @Test
  void ratiosAreKeptInPerCent() {
    for (double ratio : new double[] {0, 0.25, 0.5, 0.754, 1}) {
      metrics.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO).observe(ratio);
    }
    Snapshot snapshot = registry.histogram("routing_prefix_match_ratio").getSnapshot();
    assertThat(snapshot.getValues()).containsExactly(0, 25, 50, 75, 100);
  }

  @Test
  void gaugesShowTheValueSetLast() {
    metrics.gauge(Metric.ROUTING_INDEX_ENTRIES).set(100);
    metrics.gauge("routing_index_entries", 42);
    assertThat(registry.getGauges().get("routing_index_entries").getValue()).isEqualTo(42.0);
  }

  @Test
  void invalidUpdatesLeaveTheMetricsUntouchedAndAreCounted() {
    metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc(-3);
    metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).observe(Double.NaN);
    metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).recordNanos(-1);
    metrics.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO).observe(-0.5);
    metrics.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO).recordNanos(5);
    metrics.gauge(Metric.COORDINATOR_ACTIVE_ENGINES).set(Double.NEGATIVE_INFINITY);
    metrics.inc("routing_cache_hit");
    metrics.gauge("routing_cache_hit_total", 1);

    assertThat(metrics.ignoredUpdates()).isEqualTo(8);
    assertThat(registry.counter("routing_cache_hit_total").getCount()).isZero();
    assertThat(registry.timer("coordinator_routing_latency_seconds").getCount()).isZero();
    assertThat(registry.histogram("routing_prefix_match_ratio").getCount()).isZero();
    assertThat(registry.getGauges().get("coordinator_active_engines").getValue()).isEqualTo(0.0);
  }

  @Test
  void twoBindingsOnOneRegistryShareItsMetrics() {
    DropwizardMetrics second = new DropwizardMetrics(registry);
    metrics.inc("routing_cache_miss_total");
    second.inc("routing_cache_miss_total");
    second.gauge("coordinator_known_clients", 9);
    assertThat(registry.counter("routing_cache_miss_total").getCount()).isEqualTo(2);
    assertThat(registry.getGauges().get("coordinator_known_clients").getValue()).isEqualTo(9.0);
  }

  @Test
  void aCatalogueNameTakenByAnotherKindOfMetricIsRejected() {
    MetricRegistry taken = new MetricRegistry();
    taken.meter("routing_cache_hit_total");
    assertThatThrownBy(() -> new DropwizardMetrics(taken))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("routing_cache_hit_total");

    MetricRegistry gaugeTaken = new MetricRegistry();
    gaugeTaken.registerGauge("coordinator_active_engines", () -> 1);
    assertThatThrownBy(() -> new DropwizardMetrics(gaugeTaken))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("coordinator_active_engines is already registered as a ");
  }

  @Test
  void percentilesFollowRecentTrafficAndForgetOldSamples() {
    ManualClock clock = new ManualClock();
    MetricRegistry decaying = new MetricRegistry();
    CoordinatorMetrics.Histogram latency =
        new DropwizardMetrics(decaying, clock)
            .histogram(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS);
    for (int i = 0; i < 2_000; i++) {
      latency.recordNanos(TimeUnit.SECONDS.toNanos(1));
      clock.advance(DropwizardMetrics.SAMPLE_WINDOW_NANOS / DropwizardMetrics.SAMPLES_PER_WINDOW);
    }
    clock.advance(TimeUnit.MINUTES.toNanos(30));
    for (int i = 0; i < 2_000; i++) {
      latency.recordNanos(TimeUnit.MILLISECONDS.toNanos(1));
      clock.advance(DropwizardMetrics.SAMPLE_WINDOW_NANOS / DropwizardMetrics.SAMPLES_PER_WINDOW);
    }
    Snapshot snapshot =
        decaying.timer("coordinator_message_processing_latency_seconds").getSnapshot();
    // bounded memory: the reservoir keeps 1028 samples of the 4000, and only recent ones
    assertThat(snapshot.size()).isEqualTo(1028);
    assertThat(snapshot.getMax()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(1));
    assertThat(snapshot.get99thPercentile()).isCloseTo(1e6, within(1.0));
  }

  @Test
  void underHeavyTrafficAtMostAHundredSamplesPerWindowReachTheReservoirButCountsStayExact() {
    ManualClock clock = new ManualClock();
    MetricRegistry registry = new MetricRegistry();
    CoordinatorMetrics.Histogram latency =
        new DropwizardMetrics(registry, clock)
            .histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS);
    // 150 samples 100 µs apart, all in one 100 ms window: the first 100 are sampled
    for (int i = 0; i < 150; i++) {
      latency.recordNanos(1_000 + i);
      clock.advance(100_000);
    }
    clock.advance(DropwizardMetrics.SAMPLE_WINDOW_NANOS); // a new window: sampled again
    latency.recordNanos(7_000);
    Timer timer = registry.timer("coordinator_routing_latency_seconds");
    assertThat(timer.getCount()).as("every update counts").isEqualTo(151);
    long[] expected = new long[101];
    for (int i = 0; i < 100; i++) {
      expected[i] = 1_000 + i;
    }
    expected[100] = 7_000;
    assertThat(timer.getSnapshot().getValues()).containsExactly(expected);
  }

  /** A clock that moves only when told to. */
  static final class ManualClock extends Clock {
    private long nanos = TimeUnit.DAYS.toNanos(1);

    void advance(long deltaNanos) {
      nanos += deltaNanos;
    }

    @Override
    public long getTick() {
      return nanos;
    }

    @Override
    public long getTime() {
      return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
  }
}
