package io.dpcoord.metrics;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The handles of one binding, indexed by catalogue ordinal, and the string-keyed API over them.
 *
 * <p>Resolving a handle is an array read after a type check; a string-keyed update is one hash
 * lookup (the catalogue caches its {@code Optional}s, so nothing is allocated) and then the same
 * handle update. Names that are unknown or of the wrong type are counted in the binding's ignored
 * updates, never thrown. The checked handles below drop and count the values no metric can hold
 * (see {@link CoordinatorMetrics}), so every binding ignores the same values.
 */
final class HandleTable {
  private static final double NANOS_PER_SECOND = 1e9;

  private final CoordinatorMetrics.Counter[] counters;
  private final CoordinatorMetrics.Histogram[] histograms;
  private final CoordinatorMetrics.Gauge[] gauges;
  private final LongAdder ignored;

  HandleTable(
      LongAdder ignored,
      Function<Metric, CoordinatorMetrics.Counter> newCounter,
      Function<Metric, CoordinatorMetrics.Histogram> newHistogram,
      Function<Metric, CoordinatorMetrics.Gauge> newGauge) {
    Metric[] catalogue = Metric.values();
    this.counters = new CoordinatorMetrics.Counter[catalogue.length];
    this.histograms = new CoordinatorMetrics.Histogram[catalogue.length];
    this.gauges = new CoordinatorMetrics.Gauge[catalogue.length];
    this.ignored = ignored;
    for (Metric metric : catalogue) {
      switch (metric.type()) {
        case COUNTER -> counters[metric.ordinal()] = newCounter.apply(metric);
        case HISTOGRAM -> histograms[metric.ordinal()] = newHistogram.apply(metric);
        case GAUGE -> gauges[metric.ordinal()] = newGauge.apply(metric);
      }
    }
  }

  CoordinatorMetrics.Counter counter(Metric metric) {
    return counters[Metric.require(metric, MetricType.COUNTER, "counter(Metric)").ordinal()];
  }

  CoordinatorMetrics.Histogram histogram(Metric metric) {
    return histograms[Metric.require(metric, MetricType.HISTOGRAM, "histogram(Metric)").ordinal()];
  }

  CoordinatorMetrics.Gauge gauge(Metric metric) {
    return gauges[Metric.require(metric, MetricType.GAUGE, "gauge(Metric)").ordinal()];
  }

  void inc(String name, long value) {
    CoordinatorMetrics.Counter counter = find(name, counters);
    if (counter == null) {
      ignored.increment();
    } else {
      counter.inc(value);
    }
  }

  void observe(String name, double value) {
    CoordinatorMetrics.Histogram histogram = find(name, histograms);
    if (histogram == null) {
      ignored.increment();
    } else {
      histogram.observe(value);
    }
  }

  void gauge(String name, double value) {
    CoordinatorMetrics.Gauge gauge = find(name, gauges);
    if (gauge == null) {
      ignored.increment();
    } else {
      gauge.set(value);
    }
  }

  long ignoredUpdates() {
    return ignored.sum();
  }

  /** The handle of that name in {@code handles}, or null if unknown or of another type. */
  private static <T> T find(String name, T[] handles) {
    Metric metric = Metric.byName(name).orElse(null);
    return metric == null ? null : handles[metric.ordinal()];
  }

  /** A counter that drops and counts a negative increment; the binding adds the valid ones. */
  abstract static class CheckedCounter implements CoordinatorMetrics.Counter {
    private final LongAdder ignored;

    CheckedCounter(LongAdder ignored) {
      this.ignored = ignored;
    }

    /** Adds {@code n}, which is not negative. */
    abstract void add(long n);

    @Override
    public final void inc() {
      add(1);
    }

    @Override
    public final void inc(long n) {
      if (n >= 0) {
        add(n);
      } else {
        ignored.increment();
      }
    }
  }

  /**
   * A histogram that drops and counts an observation that is negative or not finite, and a duration
   * that is negative or given to a metric that is not a {@code *_seconds} one.
   */
  abstract static class CheckedHistogram implements CoordinatorMetrics.Histogram {
    private final LongAdder ignored;
    private final boolean seconds;

    CheckedHistogram(Metric metric, LongAdder ignored) {
      this.ignored = ignored;
      this.seconds = metric.seconds();
    }

    /** Records {@code value}, which is finite and not negative. */
    abstract void record(double value);

    /** Records a duration of a {@code *_seconds} metric, not negative; by default in seconds. */
    void recordDuration(long nanos) {
      record(nanos / NANOS_PER_SECOND);
    }

    @Override
    public final void observe(double value) {
      // NaN fails both tests
      if (value >= 0 && value < Double.POSITIVE_INFINITY) {
        record(value);
      } else {
        ignored.increment();
      }
    }

    @Override
    public final void recordNanos(long nanos) {
      if (seconds && nanos >= 0) {
        recordDuration(nanos);
      } else {
        ignored.increment();
      }
    }
  }

  /** A gauge that drops and counts a value that is not finite; the binding stores the others. */
  abstract static class CheckedGauge implements CoordinatorMetrics.Gauge {
    private final LongAdder ignored;

    CheckedGauge(LongAdder ignored) {
      this.ignored = ignored;
    }

    /** Stores {@code value}, which is finite. */
    abstract void store(double value);

    @Override
    public final void set(double value) {
      if (Double.isFinite(value)) {
        store(value);
      } else {
        ignored.increment();
      }
    }
  }
}
