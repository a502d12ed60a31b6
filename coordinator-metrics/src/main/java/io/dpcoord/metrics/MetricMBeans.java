package io.dpcoord.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;

/**
 * The MBean of each catalogue metric: the attributes metrics-jmx's reporter gives a Dropwizard
 * metric of that kind (same names, same units), each with a description and a {@code units}
 * descriptor, the metric's meaning from METRICS.md as the MBean's description, and counters with
 * the rates of {@link CounterRates}.
 */
final class MetricMBeans {
  private static final double NANOS_PER_SECOND = 1e9;

  private MetricMBeans() {}

  /** The MBean of {@code metric}, reading its Dropwizard metric in {@code registry}. */
  static DescribedMBean of(Metric metric, MetricRegistry registry, CounterRates rates) {
    String description = metric.metricName() + ": " + metric.description();
    String unit = unitOf(metric);
    String name = metric.metricName();
    return switch (metric.type()) {
      case COUNTER ->
          new DescribedMBean(
              new CounterView(metric, registry.counter(name), rates),
              CounterMBean.class,
              false,
              description,
              unit);
      case GAUGE ->
          new DescribedMBean(
              new GaugeView(registry.getGauges().get(name)),
              GaugeMBean.class,
              false,
              description,
              unit);
      case HISTOGRAM ->
          metric.seconds()
              ? new DescribedMBean(
                  new TimerView(registry.timer(name)),
                  TimerMBean.class,
                  false,
                  description + " (durations in seconds)",
                  unit)
              : new DescribedMBean(
                  new HistogramView(registry.histogram(name)),
                  HistogramMBean.class,
                  false,
                  description,
                  unit);
    };
  }

  /** What one count or one sample of {@code metric} is, as a JMX {@code units} value. */
  static String unitOf(Metric metric) {
    String name = metric.metricName();
    if (metric.seconds()) {
      return "seconds";
    }
    if (name.endsWith("_ratio")) {
      return "percent";
    }
    if (name.contains("_tokens_")) {
      return "tokens";
    }
    if (name.startsWith("routing_index_")) {
      return "entries";
    }
    return switch (metric) {
      case COORDINATOR_ACTIVE_ENGINES -> "engines";
      case COORDINATOR_KNOWN_CLIENTS, COORDINATOR_CLIENTS_RELEASED_TOTAL -> "clients";
      case COORDINATOR_INVALID_MESSAGE_TOTAL,
          COORDINATOR_UNKNOWN_SENDER_TOTAL,
          COORDINATOR_REFUSED_CLIENT_TOTAL,
          COORDINATOR_REFUSED_CONTROL_TOTAL ->
          "messages";
      case COORDINATOR_REFUSED_CONNECTION_TOTAL -> "connections";
      case COORDINATOR_REFUSED_ENGINE_TOTAL -> "registrations";
      case COORDINATOR_INTERNAL_ERROR_TOTAL -> "errors";
      case COORDINATOR_ENGINE_UNREACHABLE_TOTAL -> "sends";
      case ROUTING_STALE_DETECTED_TOTAL -> "decisions";
      case COORDINATOR_DETOKENIZE_FAILED_TOTAL -> "records";
      case COORDINATOR_LATE_REPLIES_TOTAL -> "replies";
      default -> "requests";
    };
  }

  /** Rates of events, as a Dropwizard meter shows them. */
  public interface RatesMBean {
    @JmxDoc(value = "Events per second since the coordinator started", units = "events/s")
    double getMeanRate();

    @JmxDoc(
        value = "Events per second over the last minute (exponentially weighted)",
        units = "events/s")
    double getOneMinuteRate();

    @JmxDoc(
        value = "Events per second over the last five minutes (exponentially weighted)",
        units = "events/s")
    double getFiveMinuteRate();

    @JmxDoc(
        value = "Events per second over the last fifteen minutes (exponentially weighted)",
        units = "events/s")
    double getFifteenMinuteRate();

    @JmxDoc(value = "The unit of the rates", units = "text")
    String getRateUnit();
  }

  /** A counter: its total and its rates. */
  public interface CounterMBean extends RatesMBean {
    @JmxDoc(value = "Total since the coordinator started", units = JmxDoc.SAMPLE_UNIT)
    long getCount();
  }

  /** A gauge: the value set last. */
  public interface GaugeMBean {
    @JmxDoc(value = "The value set last", units = JmxDoc.SAMPLE_UNIT)
    double getValue();
  }

  /** What histograms and timers share: a distribution of recent samples and their count. */
  public interface DistributionMBean {
    @JmxDoc(value = "Samples recorded since the coordinator started", units = "samples")
    long getCount();

    @JmxDoc(value = "Mean of the recent samples", units = JmxDoc.SAMPLE_UNIT)
    double getMean();

    @JmxDoc(value = "Standard deviation of the recent samples", units = JmxDoc.SAMPLE_UNIT)
    double getStdDev();

    @JmxDoc(value = "Median of the recent samples", units = JmxDoc.SAMPLE_UNIT)
    double get50thPercentile();

    @JmxDoc(value = "75th percentile of the recent samples", units = JmxDoc.SAMPLE_UNIT)
    double get75thPercentile();

    @JmxDoc(value = "95th percentile of the recent samples", units = JmxDoc.SAMPLE_UNIT)
    double get95thPercentile();

    @JmxDoc(value = "98th percentile of the recent samples", units = JmxDoc.SAMPLE_UNIT)
    double get98thPercentile();

    @JmxDoc(value = "99th percentile of the recent samples", units = JmxDoc.SAMPLE_UNIT)
    double get99thPercentile();

    @JmxDoc(value = "99.9th percentile of the recent samples", units = JmxDoc.SAMPLE_UNIT)
    double get999thPercentile();

    @JmxDoc(value = "Recent samples kept (at most 1028)", units = "samples")
    long getSnapshotSize();
  }

  /**
   * A distribution of recent samples (roughly the last five minutes), in whole units as Dropwizard
   * keeps them.
   */
  public interface HistogramMBean extends DistributionMBean {
    @JmxDoc(value = "Smallest recent sample", units = JmxDoc.SAMPLE_UNIT)
    long getMin();

    @JmxDoc(value = "Largest recent sample", units = JmxDoc.SAMPLE_UNIT)
    long getMax();
  }

  /** A duration distribution in seconds, with the rates of its events. */
  public interface TimerMBean extends DistributionMBean, RatesMBean {
    @JmxDoc(value = "Shortest recent duration", units = JmxDoc.SAMPLE_UNIT)
    double getMin();

    @JmxDoc(value = "Longest recent duration", units = JmxDoc.SAMPLE_UNIT)
    double getMax();

    @JmxDoc(value = "The unit of the durations", units = "text")
    String getDurationUnit();
  }

  private record CounterView(Metric metric, Counter counter, CounterRates rates)
      implements CounterMBean {
    @Override
    public long getCount() {
      return counter.getCount();
    }

    @Override
    public double getMeanRate() {
      return rates.mean(metric);
    }

    @Override
    public double getOneMinuteRate() {
      return rates.oneMinute(metric);
    }

    @Override
    public double getFiveMinuteRate() {
      return rates.fiveMinutes(metric);
    }

    @Override
    public double getFifteenMinuteRate() {
      return rates.fifteenMinutes(metric);
    }

    @Override
    public String getRateUnit() {
      return "events/second";
    }
  }

  private record GaugeView(Gauge<?> gauge) implements GaugeMBean {
    @Override
    public double getValue() {
      return ((Number) gauge.getValue()).doubleValue();
    }
  }

  /** The distribution attributes of a snapshot, scaled by {@code scale} (1 / 1e9 for seconds). */
  private abstract static class Distribution implements DistributionMBean {
    final double scale;

    Distribution(double scale) {
      this.scale = scale;
    }

    abstract Snapshot snapshot();

    @Override
    public double getMean() {
      return snapshot().getMean() * scale;
    }

    @Override
    public double getStdDev() {
      return snapshot().getStdDev() * scale;
    }

    @Override
    public double get50thPercentile() {
      return snapshot().getMedian() * scale;
    }

    @Override
    public double get75thPercentile() {
      return snapshot().get75thPercentile() * scale;
    }

    @Override
    public double get95thPercentile() {
      return snapshot().get95thPercentile() * scale;
    }

    @Override
    public double get98thPercentile() {
      return snapshot().get98thPercentile() * scale;
    }

    @Override
    public double get99thPercentile() {
      return snapshot().get99thPercentile() * scale;
    }

    @Override
    public double get999thPercentile() {
      return snapshot().get999thPercentile() * scale;
    }

    @Override
    public long getSnapshotSize() {
      return snapshot().size();
    }
  }

  private static final class HistogramView extends Distribution implements HistogramMBean {
    private final Histogram histogram;

    HistogramView(Histogram histogram) {
      super(1);
      this.histogram = histogram;
    }

    @Override
    Snapshot snapshot() {
      return histogram.getSnapshot();
    }

    @Override
    public long getCount() {
      return histogram.getCount();
    }

    @Override
    public long getMin() {
      return snapshot().getMin();
    }

    @Override
    public long getMax() {
      return snapshot().getMax();
    }
  }

  private static final class TimerView extends Distribution implements TimerMBean {
    private final Timer timer;

    TimerView(Timer timer) {
      super(1 / NANOS_PER_SECOND);
      this.timer = timer;
    }

    @Override
    Snapshot snapshot() {
      return timer.getSnapshot();
    }

    @Override
    public long getCount() {
      return timer.getCount();
    }

    @Override
    public double getMin() {
      return snapshot().getMin() * scale;
    }

    @Override
    public double getMax() {
      return snapshot().getMax() * scale;
    }

    @Override
    public double getMeanRate() {
      return timer.getMeanRate();
    }

    @Override
    public double getOneMinuteRate() {
      return timer.getOneMinuteRate();
    }

    @Override
    public double getFiveMinuteRate() {
      return timer.getFiveMinuteRate();
    }

    @Override
    public double getFifteenMinuteRate() {
      return timer.getFifteenMinuteRate();
    }

    @Override
    public String getRateUnit() {
      return "events/second";
    }

    @Override
    public String getDurationUnit() {
      return "seconds";
    }
  }
}
