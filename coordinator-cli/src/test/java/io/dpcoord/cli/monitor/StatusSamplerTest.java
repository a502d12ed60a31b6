package io.dpcoord.cli.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.codahale.metrics.MetricRegistry;
import io.dpcoord.metrics.CoordinatorMetrics;
import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.metrics.PrometheusMetrics;
import io.dpcoord.server.CoordinatorStatus;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StatusSamplerTest {
  private final PrometheusMetrics metrics =
      new PrometheusMetrics(new DropwizardMetrics(new MetricRegistry()), "t");
  private final AtomicLong nanos = new AtomicLong();
  private final StatusSampler sampler =
      new StatusSampler(
          metrics, new CoordinatorStatus(0), () -> nanos.get() / 1_000_000, nanos::get);

  private void tick(long millis) {
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    sampler.sample();
  }

  @Test
  void eachSampleHoldsTheRatesOfItsOwnInterval() {
    metrics.counter(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL).inc(500);
    metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc(3);
    metrics.counter(Metric.ROUTING_CACHE_MISS_TOTAL).inc(1);
    tick(500);
    tick(1000);
    metrics.counter(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL).inc(10);
    tick(2000);

    assertThat(sampler.samples())
        .extracting(StatusSampler.Sample::requestsPerSecond)
        .containsExactly(1000.0, 0.0, 5.0);
    assertThat(sampler.samples())
        .extracting(StatusSampler.Sample::hitRatio)
        .containsExactly(0.75, null, null);
    assertThat(sampler.samples())
        .extracting(StatusSampler.Sample::time)
        .containsExactly(500L, 1500L, 3500L);
  }

  @Test
  void theRingKeepsTheLastFifteenMinutes() {
    for (int i = 0; i < StatusSampler.CAPACITY + 25; i++) {
      tick(1000);
    }
    assertThat(sampler.samples()).hasSize(StatusSampler.CAPACITY);
    assertThat(sampler.samples().get(0).time()).isEqualTo(26_000);
  }

  @Test
  void percentilesComeFromTheBucketsOfTheirIntervalOnly() {
    routing().recordNanos(TimeUnit.SECONDS.toNanos(3)); // before: not counted
    tick(1000);
    for (int i = 0; i < 100; i++) {
      routing().recordNanos(15_000); // 15 us, in the (10, 20] us bucket
    }
    tick(1000);
    assertThat(sampler.samples().get(0).p99Micros()).isCloseTo(2e6 + 3e6 * 0.99, within(1e-3));
    // histogram_quantile's interpolation: 10 + 10 * 0.99
    assertThat(sampler.samples().get(1).p99Micros()).isCloseTo(19.9, within(1e-9));
    tick(1000);
    assertThat(sampler.samples().get(2).p99Micros()).isNull();
    // the summary spans the last minute: all 101 observations
    assertThat(sampler.routingLatencyMicros(0.5)).isCloseTo(10 + 10 * 50.5 / 100, within(1e-9));
  }

  @Test
  void quantileAgreesWithTheSortedObservationsToWithinABucket() {
    double[] bounds = {1, 2, 5, 10, 20, 50, 100, Double.POSITIVE_INFINITY};
    Random random = new Random(7);
    for (int round = 0; round < 200; round++) {
      double[] values = random.doubles(1 + random.nextInt(500), 0, 90).toArray();
      long[] cumulative = new long[bounds.length];
      for (double v : values) {
        for (int i = 0; i < bounds.length; i++) {
          if (v <= bounds[i]) {
            cumulative[i]++;
          }
        }
      }
      Arrays.sort(values);
      double q = random.nextDouble();
      double exact = values[(int) Math.max(0, Math.ceil(q * values.length) - 1)];
      double estimate = StatusSampler.quantile(q, bounds, new long[bounds.length], cumulative);
      int bucket = 0;
      while (exact > bounds[bucket]) {
        bucket++;
      }
      double lower = bucket == 0 ? 0 : bounds[bucket - 1];
      assertThat(estimate)
          .as("q=%s of %s values", q, values.length)
          .isBetween(lower, bounds[bucket]);
    }
    assertThat(StatusSampler.quantile(0.5, bounds, new long[8], new long[8])).isNaN();
  }

  private CoordinatorMetrics.Histogram routing() {
    return metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS);
  }
}
