package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrometheusMetricsTest {
  private final DropwizardMetrics dropwizard = new DropwizardMetrics(new MetricRegistry());
  private final PrometheusMetrics metrics = new PrometheusMetrics(dropwizard, "c1");

  private String exposition() {
    return PrometheusTextFormatWriter.create().toDebugString(metrics.registry().scrape());
  }

  @Test
  void everyCatalogueMetricIsExposedUnderItsNameWithTheCoordinatorLabel() {
    String text = exposition();
    for (Metric metric : Metric.values()) {
      String sample =
          switch (metric.type()) {
            case COUNTER, GAUGE -> metric.metricName() + "{coordinator=\"c1\"} ";
            case HISTOGRAM -> metric.metricName() + "_count{coordinator=\"c1\"} ";
          };
      assertThat(text).as(metric.metricName()).contains(sample);
      assertThat(text).contains("# HELP " + metric.metricName());
    }
  }

  @Test
  void countersAndGaugesAreReadFromTheDropwizardBindingWhenScraped() {
    metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc(3);
    metrics.inc("routing_cache_hit_total");
    metrics.gauge(Metric.COORDINATOR_ACTIVE_ENGINES).set(4);
    String text = exposition();
    assertThat(text).contains("routing_cache_hit_total{coordinator=\"c1\"} 4");
    assertThat(text).contains("coordinator_active_engines{coordinator=\"c1\"} 4");
    assertThat(dropwizard.registry().counter("routing_cache_hit_total").getCount()).isEqualTo(4);
    assertThat(metrics.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(4);
  }

  @Test
  void latenciesFallIntoMicrosecondToSecondBucketsAndReachDropwizardToo() {
    CoordinatorMetrics.Histogram routing =
        metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS);
    routing.recordNanos(1_500); // 1.5 us
    routing.recordNanos(30_000); // 30 us
    routing.observe(0.003); // 3 ms
    routing.recordNanos(20_000_000_000L); // 20 s: only +Inf

    ClassicHistogramBuckets buckets =
        metrics.distribution(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).getClassicBuckets();
    assertThat(countUpTo(buckets, 2e-6)).isEqualTo(1);
    assertThat(countUpTo(buckets, 5e-5)).isEqualTo(2);
    assertThat(countUpTo(buckets, 5e-3)).isEqualTo(3);
    assertThat(countUpTo(buckets, Double.POSITIVE_INFINITY)).isEqualTo(4);
    assertThat(dropwizard.registry().timer("coordinator_routing_latency_seconds").getCount())
        .isEqualTo(4);
    assertThat(exposition())
        .contains("coordinator_routing_latency_seconds_bucket{coordinator=\"c1\",le=\"1.0E-6\"} 0")
        .contains("coordinator_routing_latency_seconds_bucket{coordinator=\"c1\",le=\"2.0E-6\"} 1")
        .contains("coordinator_routing_latency_seconds_bucket{coordinator=\"c1\",le=\"+Inf\"} 4");
  }

  @Test
  void bucketsPerKindOfHistogram() {
    assertThat(PrometheusMetrics.bucketsOf(Metric.COORDINATOR_TOKENIZE_LATENCY_SECONDS))
        .startsWith(1e-6)
        .endsWith(10.0)
        .hasSize(22);
    assertThat(PrometheusMetrics.bucketsOf(Metric.ROUTING_PREFIX_MATCH_RATIO))
        .startsWith(0.0, 0.1)
        .endsWith(1.0);
    assertThat(PrometheusMetrics.bucketsOf(Metric.ROUTING_CACHED_TOKENS_SHORTFALL))
        .startsWith(0.0, 16.0)
        .endsWith(65536.0);
    for (double[] bounds :
        List.of(
            PrometheusMetrics.SECONDS_BUCKETS,
            PrometheusMetrics.RATIO_BUCKETS,
            PrometheusMetrics.TOKEN_BUCKETS)) {
      assertThat(bounds).isSorted().doesNotHaveDuplicates();
    }
  }

  @Test
  void ratiosAreFractionsInPrometheusAndPerCentInDropwizard() {
    metrics.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO).observe(0.75);
    assertThat(metrics.distribution(Metric.ROUTING_PREFIX_MATCH_RATIO).getSum()).isEqualTo(0.75);
    assertThat(dropwizard.registry().histogram("routing_prefix_match_ratio").getSnapshot().getMax())
        .isEqualTo(75);
  }

  @Test
  void invalidUpdatesAreIgnoredOnceAndCountedWhereJmxReadsThem() {
    metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).observe(Double.NaN);
    metrics.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO).recordNanos(5);
    metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc(-1);
    metrics.inc("no_such_metric");
    assertThat(metrics.ignoredUpdates()).isEqualTo(4);
    assertThat(dropwizard.ignoredUpdates()).isEqualTo(4);
    assertThat(metrics.distribution(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).getCount())
        .isZero();
    assertThat(metrics.distribution(Metric.ROUTING_PREFIX_MATCH_RATIO).getCount()).isZero();
  }

  private static long countUpTo(ClassicHistogramBuckets buckets, double bound) {
    long sum = 0;
    for (int i = 0; i < buckets.size() && buckets.getUpperBound(i) <= bound; i++) {
      sum += buckets.getCount(i);
    }
    return sum;
  }

  @Test
  void bucketCountsAreNotCumulativeInTheSnapshot() {
    metrics.histogram(Metric.ROUTING_CACHED_TOKENS_SHORTFALL).observe(10);
    metrics.histogram(Metric.ROUTING_CACHED_TOKENS_SHORTFALL).observe(100);
    ClassicHistogramBuckets buckets =
        metrics.distribution(Metric.ROUTING_CACHED_TOKENS_SHORTFALL).getClassicBuckets();
    long[] counts = new long[buckets.size()];
    Arrays.setAll(counts, buckets::getCount);
    assertThat(counts).containsExactly(0, 1, 0, 1, 0, 0, 0, 0, 0);
  }
}
