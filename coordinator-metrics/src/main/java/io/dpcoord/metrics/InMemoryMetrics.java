package io.dpcoord.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * For tests: remembers everything.
 *
 * <p>Counters keep their exact sum, gauges their last value, histograms every observation in order
 * (seconds for the {@code *_seconds} metrics, whether given as seconds or as nanoseconds). Memory
 * grows with the number of observations, so this binding is for tests, never for a long-running
 * coordinator. It is thread-safe: the event loop may update it while a test thread reads it. The
 * same values are ignored as in every binding (see {@link CoordinatorMetrics}).
 */
public final class InMemoryMetrics extends TableBinding {
  private final AtomicLongArray counts = new AtomicLongArray(Metric.values().length);
  private final AtomicLongArray gaugeBits = new AtomicLongArray(Metric.values().length);
  private final List<List<Double>> observations = new ArrayList<>();
  private final LongAdder ignored = new LongAdder();
  private final HandleTable handles;

  /** An empty recorder: counters and gauges at 0, no observations. */
  public InMemoryMetrics() {
    for (int i = 0; i < Metric.values().length; i++) {
      observations.add(new ArrayList<>());
    }
    handles = new HandleTable(ignored, CounterHandle::new, HistogramHandle::new, GaugeHandle::new);
  }

  @Override
  HandleTable handles() {
    return handles;
  }

  /** The sum of a counter. */
  public long count(Metric metric) {
    return counts.get(Metric.require(metric, MetricType.COUNTER, "count(Metric)").ordinal());
  }

  /** The value a gauge was set to last (0 before the first set). */
  public double gaugeValue(Metric metric) {
    return Double.longBitsToDouble(
        gaugeBits.get(Metric.require(metric, MetricType.GAUGE, "gaugeValue(Metric)").ordinal()));
  }

  /** How many values a histogram recorded. */
  public long observationCount(Metric metric) {
    List<Double> values = recorded(metric, "observationCount(Metric)");
    synchronized (values) {
      return values.size();
    }
  }

  /** Every value a histogram recorded, in order: seconds for latency metrics. A copy. */
  public List<Double> observations(Metric metric) {
    List<Double> values = recorded(metric, "observations(Metric)");
    synchronized (values) {
      return List.copyOf(values);
    }
  }

  /** Forgets everything: counters and gauges back to 0, no observations, no ignored updates. */
  public void reset() {
    for (Metric metric : Metric.values()) {
      counts.set(metric.ordinal(), 0);
      gaugeBits.set(metric.ordinal(), 0);
      List<Double> values = observations.get(metric.ordinal());
      synchronized (values) {
        values.clear();
      }
    }
    ignored.reset();
  }

  @Override
  public String toString() {
    StringBuilder text = new StringBuilder("InMemoryMetrics{");
    for (Metric metric : Metric.values()) {
      text.append(metric.ordinal() == 0 ? "" : ", ").append(metric.metricName()).append('=');
      switch (metric.type()) {
        case COUNTER -> text.append(count(metric));
        case GAUGE -> text.append(gaugeValue(metric));
        case HISTOGRAM -> text.append(observationCount(metric)).append(" observations");
      }
    }
    return text.append(", ignored=").append(ignoredUpdates()).append('}').toString();
  }

  private List<Double> recorded(Metric metric, String operation) {
    return observations.get(Metric.require(metric, MetricType.HISTOGRAM, operation).ordinal());
  }

  private final class CounterHandle extends HandleTable.CheckedCounter {
    private final int index;

    CounterHandle(Metric metric) {
      super(ignored);
      this.index = metric.ordinal();
    }

    @Override
    void add(long n) {
      counts.addAndGet(index, n);
    }
  }

  private final class HistogramHandle extends HandleTable.CheckedHistogram {
    private final List<Double> values;

    HistogramHandle(Metric metric) {
      super(metric, ignored);
      this.values = observations.get(metric.ordinal());
    }

    @Override
    void record(double value) {
      synchronized (values) {
        values.add(value);
      }
    }
  }

  private final class GaugeHandle extends HandleTable.CheckedGauge {
    private final int index;

    GaugeHandle(Metric metric) {
      super(ignored);
      this.index = metric.ordinal();
    }

    @Override
    void store(double value) {
      gaugeBits.set(index, Double.doubleToRawLongBits(value));
    }
  }
}
