package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryMetricsTest {
  private final InMemoryMetrics metrics = new InMemoryMetrics();

  @Test
  void countersSumHandleAndNamedIncrements() {
    metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc();
    metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc(4);
    metrics.inc("routing_cache_hit_total");
    metrics.inc("routing_cache_hit_total", 10);
    metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc(0);

    assertThat(metrics.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(16);
    assertThat(metrics.count(Metric.ROUTING_CACHE_MISS_TOTAL)).isZero();
    assertThat(metrics.ignoredUpdates()).isZero();
  }

  @Test
  void gaugesShowTheValueSetLast() {
    assertThat(metrics.gaugeValue(Metric.COORDINATOR_ACTIVE_ENGINES)).isZero();
    metrics.gauge(Metric.COORDINATOR_ACTIVE_ENGINES).set(4);
    metrics.gauge("coordinator_active_engines", 3);
    assertThat(metrics.gaugeValue(Metric.COORDINATOR_ACTIVE_ENGINES)).isEqualTo(3.0);
    metrics.gauge(Metric.COORDINATOR_ACTIVE_ENGINES).set(-1.5);
    assertThat(metrics.gaugeValue(Metric.COORDINATOR_ACTIVE_ENGINES)).isEqualTo(-1.5);
  }

  @Test
  void histogramsKeepEveryObservationInSeconds() {
    CoordinatorMetrics.Histogram routing =
        metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS);
    routing.recordNanos(1_500_000);
    routing.observe(0.25);
    metrics.observe("coordinator_routing_latency_seconds", 2);
    metrics.observe("routing_prefix_match_ratio", 0.75);

    assertThat(metrics.observations(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS))
        .containsExactly(0.0015, 0.25, 2.0);
    assertThat(metrics.observationCount(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS)).isEqualTo(3);
    assertThat(metrics.observations(Metric.ROUTING_PREFIX_MATCH_RATIO)).containsExactly(0.75);
    assertThat(metrics.observations(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS))
        .isEmpty();
  }

  @Test
  void observationsAreAnUnmodifiableCopy() {
    metrics.observe("routing_prefix_match_ratio", 0.5);
    List<Double> copy = metrics.observations(Metric.ROUTING_PREFIX_MATCH_RATIO);
    metrics.observe("routing_prefix_match_ratio", 1.0);
    assertThat(copy).containsExactly(0.5);
    assertThatThrownBy(() -> copy.add(1.0)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void unknownNamesAndNamesOfAnotherTypeAreIgnoredAndCounted() {
    metrics.inc("routing_cache_hits_total");
    metrics.inc(null);
    metrics.inc("coordinator_active_engines", 2);
    metrics.observe("coordinator_requests_in_flight", 1);
    metrics.gauge("routing_cache_hit_total", 1);

    assertThat(metrics.ignoredUpdates()).isEqualTo(5);
    assertThat(metrics.gaugeValue(Metric.COORDINATOR_ACTIVE_ENGINES)).isZero();
    assertThat(metrics.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isZero();
  }

  @Test
  void valuesNoMetricCanHoldAreIgnoredAndCounted() {
    metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc(-1);
    metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).observe(-0.001);
    metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).observe(Double.NaN);
    metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).recordNanos(-1);
    metrics.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO).observe(Double.POSITIVE_INFINITY);
    metrics.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO).recordNanos(1);
    metrics.gauge(Metric.COORDINATOR_KNOWN_CLIENTS).set(Double.NaN);

    assertThat(metrics.ignoredUpdates()).isEqualTo(7);
    assertThat(metrics.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isZero();
    assertThat(metrics.observationCount(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS)).isZero();
    assertThat(metrics.observationCount(Metric.ROUTING_PREFIX_MATCH_RATIO)).isZero();
    assertThat(metrics.gaugeValue(Metric.COORDINATOR_KNOWN_CLIENTS)).isZero();
  }

  @Test
  void readersOfTheWrongTypeAreRejectedWithAClearMessage() {
    assertThatThrownBy(() -> metrics.count(Metric.COORDINATOR_ACTIVE_ENGINES))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "count(Metric) needs a COUNTER metric, but coordinator_active_engines is a GAUGE");
    assertThatThrownBy(() -> metrics.gaugeValue(Metric.ROUTING_CACHE_HIT_TOTAL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("routing_cache_hit_total is a COUNTER");
    assertThatThrownBy(() -> metrics.observations(Metric.ROUTING_INDEX_ENTRIES))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("observations(Metric) needs a HISTOGRAM metric");
    assertThatThrownBy(() -> metrics.observationCount(Metric.ROUTING_INDEX_EVICTED_TOTAL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("observationCount(Metric) needs a HISTOGRAM metric");
  }

  @Test
  void resetForgetsEverything() {
    metrics.inc("routing_cache_hit_total", 3);
    metrics.gauge("coordinator_active_engines", 2);
    metrics.observe("routing_prefix_match_ratio", 0.5);
    metrics.inc("no_such_metric");

    metrics.reset();

    assertThat(metrics.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isZero();
    assertThat(metrics.gaugeValue(Metric.COORDINATOR_ACTIVE_ENGINES)).isZero();
    assertThat(metrics.observationCount(Metric.ROUTING_PREFIX_MATCH_RATIO)).isZero();
    assertThat(metrics.ignoredUpdates()).isZero();
    metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc();
    assertThat(metrics.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
  }

  @Test
  void concurrentUpdatesAreAllKept() throws InterruptedException {
    int threads = 4;
    int perThread = 20_000;
    CoordinatorMetrics.Counter counter =
        metrics.counter(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL);
    CoordinatorMetrics.Histogram histogram =
        metrics.histogram(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread worker =
          new Thread(
              () -> {
                for (int i = 0; i < perThread; i++) {
                  counter.inc();
                  histogram.recordNanos(i);
                }
              });
      workers.add(worker);
      worker.start();
    }
    for (Thread worker : workers) {
      worker.join();
    }
    assertThat(metrics.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL))
        .isEqualTo((long) threads * perThread);
    assertThat(metrics.observationCount(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS))
        .isEqualTo((long) threads * perThread);
  }

  @Test
  void toStringShowsTheRecordedValues() {
    metrics.inc("coordinator_internal_error_total", 2);
    assertThat(metrics.toString())
        .startsWith("InMemoryMetrics{routing_cache_hit_total=0")
        .contains("coordinator_internal_error_total=2")
        .endsWith("ignored=0}");
  }
}
