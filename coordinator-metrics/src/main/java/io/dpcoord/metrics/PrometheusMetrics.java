package io.dpcoord.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * The Dropwizard binding, also published in a Prometheus registry under the catalogue's names, each
 * labelled {@code coordinator=<tag>}.
 *
 * <p>Counters and gauges cost the hot path nothing more: the registry reads them from the
 * Dropwizard ones when it is scraped, so they are exact. Every histogram is also recorded, value by
 * value, into fixed buckets published as a Prometheus classic histogram, because Prometheus
 * aggregates and takes quantiles from bucket counts that a sampled reservoir cannot give:
 *
 * <ul>
 *   <li>{@code *_seconds}: 1, 2 and 5 per decade from 1 µs to 10 s ({@link #SECONDS_BUCKETS});
 *   <li>{@code *_ratio}: the fraction itself (not per cent as in JMX), in tenths from 0 to 1;
 *   <li>token counts: 0, then powers of 4 from 16 to 65,536.
 * </ul>
 *
 * <p>Design notes: a bucketed observation costs a binary search and two uncontended atomic adds,
 * with no allocation ({@link BucketCounts}). That cost is paid only by a coordinator built with
 * this binding, that is one started with {@code --prometheus-port}; docs/design/metrics.md has the
 * figures. Updates the Dropwizard binding would ignore are ignored here too, counted in the same
 * {@link #ignoredUpdates()}, so JMX's Publication MBean still shows them.
 */
public final class PrometheusMetrics extends TableBinding {
  /** Latency bounds in seconds: 1, 2, 5 per decade, 1 µs to 10 s. */
  static final double[] SECONDS_BUCKETS = {
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1,
    0.2, 0.5, 1, 2, 5, 10
  };

  /** Fraction bounds: tenths from 0 to 1. */
  static final double[] RATIO_BUCKETS = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1};

  /** Token-count bounds: 0, then 16 to 65,536 by powers of 4. */
  static final double[] TOKEN_BUCKETS = {0, 16, 64, 256, 1024, 4096, 16384, 65536};

  private final DropwizardMetrics dropwizard;
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Labels labels;
  private final BucketCounts[] distributions = new BucketCounts[Metric.values().length];
  private final HandleTable handles;

  /**
   * Publishes {@code dropwizard}'s catalogue under the tag {@code coordinator}; the coordinator
   * must then record into this binding, not into {@code dropwizard}, for the histograms to fill.
   */
  public PrometheusMetrics(DropwizardMetrics dropwizard, String coordinator) {
    this.dropwizard = Objects.requireNonNull(dropwizard, "dropwizard");
    this.labels = Labels.of("coordinator", Objects.requireNonNull(coordinator, "coordinator"));
    for (Metric metric : Metric.values()) {
      switch (metric.type()) {
        case COUNTER -> publishCounter(metric);
        case GAUGE -> publishGauge(metric);
        case HISTOGRAM -> distributions[metric.ordinal()] = newDistribution(metric);
      }
    }
    this.handles =
        new HandleTable(
            dropwizard.ignored(),
            dropwizard::counter,
            metric ->
                new BucketedHistogram(
                    metric,
                    dropwizard.histogram(metric),
                    distributions[metric.ordinal()],
                    dropwizard.ignored()),
            dropwizard::gauge);
  }

  /** The registry to scrape. */
  public PrometheusRegistry registry() {
    return registry;
  }

  /** The constant labels of every series: {@code coordinator=<tag>}. */
  public Labels labels() {
    return labels;
  }

  /** A counter's total, as the Dropwizard binding holds it. */
  public long count(Metric counter) {
    Metric.require(counter, MetricType.COUNTER, "count(Metric)");
    return dropwizard.registry().counter(counter.metricName()).getCount();
  }

  /** A histogram's cumulative buckets, count and sum now. */
  public HistogramDataPointSnapshot distribution(Metric histogram) {
    Metric.require(histogram, MetricType.HISTOGRAM, "distribution(Metric)");
    return distributions[histogram.ordinal()].snapshot();
  }

  @Override
  HandleTable handles() {
    return handles;
  }

  private void publishCounter(Metric metric) {
    com.codahale.metrics.Counter counter = dropwizard.registry().counter(metric.metricName());
    CounterWithCallback.builder()
        .name(metric.metricName())
        .help(metric.description())
        .constLabels(labels)
        .callback(callback -> callback.call(counter.getCount()))
        .register(registry);
  }

  private void publishGauge(Metric metric) {
    com.codahale.metrics.Gauge<?> gauge =
        dropwizard.registry().getGauges().get(metric.metricName());
    GaugeWithCallback.builder()
        .name(metric.metricName())
        .help(metric.description())
        .constLabels(labels)
        .callback(callback -> callback.call(((Number) gauge.getValue()).doubleValue()))
        .register(registry);
  }

  private BucketCounts newDistribution(Metric metric) {
    BucketCounts buckets =
        new BucketCounts(metric.metricName(), metric.description(), labels, bucketsOf(metric));
    registry.register(buckets);
    return buckets;
  }

  /** The bucket bounds of a histogram of the catalogue. */
  static double[] bucketsOf(Metric metric) {
    if (metric.seconds()) {
      return SECONDS_BUCKETS;
    }
    return metric.metricName().endsWith("_ratio") ? RATIO_BUCKETS : TOKEN_BUCKETS;
  }

  /** Records a valid value in both the Dropwizard handle and the Prometheus buckets. */
  private static final class BucketedHistogram extends HandleTable.CheckedHistogram {
    private static final double NANOS_PER_SECOND = 1e9;

    private final Histogram dropwizard;
    private final BucketCounts buckets;

    BucketedHistogram(
        Metric metric, Histogram dropwizard, BucketCounts buckets, LongAdder ignored) {
      super(metric, ignored);
      this.dropwizard = dropwizard;
      this.buckets = buckets;
    }

    @Override
    void record(double value) {
      dropwizard.observe(value);
      buckets.observe(value);
    }

    @Override
    void recordDuration(long nanos) {
      dropwizard.recordNanos(nanos);
      buckets.observe(nanos / NANOS_PER_SECOND);
    }
  }
}
