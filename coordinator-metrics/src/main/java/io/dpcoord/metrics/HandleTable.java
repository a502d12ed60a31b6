package io.dpcoord.metrics;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The handles of one binding, indexed by catalogue ordinal, and the string-keyed API over them.
 *
 * <p>Resolving a handle is an array read after a type check; a string-keyed update is one hash
 * lookup (the catalogue caches its {@code Optional}s, so nothing is allocated) and then the same
 * handle update. Names that are unknown or of the wrong type are counted in the binding's ignored
 * updates, never thrown.
 */
final class HandleTable {
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

  /** True for a value a histogram can hold: finite and not negative (NaN fails both tests). */
  static boolean isObservation(double value) {
    return value >= 0 && value < Double.POSITIVE_INFINITY;
  }

  /** The handle of that name in {@code handles}, or null if unknown or of another type. */
  private static <T> T find(String name, T[] handles) {
    Metric metric = Metric.byName(name).orElse(null);
    return metric == null ? null : handles[metric.ordinal()];
  }
}
