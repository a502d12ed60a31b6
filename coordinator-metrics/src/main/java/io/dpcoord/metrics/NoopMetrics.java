package io.dpcoord.metrics;

/**
 * The no-op binding: every operation does nothing, every handle is one constant singleton.
 *
 * <p>Handles still check their type at resolution, so code that runs against the no-op and resolves
 * a wrong handle fails the same way as it would against a real binding. Updates through a handle
 * are empty methods of a final class: once inlined they cost nothing measurable (see
 * MetricsBenchmark).
 */
enum NoopMetrics implements CoordinatorMetrics {
  INSTANCE;

  @Override
  public void inc(String name, long value) {}

  @Override
  public void observe(String name, double value) {}

  @Override
  public void gauge(String name, double value) {}

  @Override
  public Counter counter(Metric metric) {
    Metric.require(metric, MetricType.COUNTER, "counter(Metric)");
    return NoopHandle.INSTANCE;
  }

  @Override
  public Histogram histogram(Metric metric) {
    Metric.require(metric, MetricType.HISTOGRAM, "histogram(Metric)");
    return NoopHandle.INSTANCE;
  }

  @Override
  public Gauge gauge(Metric metric) {
    Metric.require(metric, MetricType.GAUGE, "gauge(Metric)");
    return NoopHandle.INSTANCE;
  }

  @Override
  public String toString() {
    return "CoordinatorMetrics.noop()";
  }

  /** The one no-op handle, of every type. */
  enum NoopHandle implements Counter, Histogram, Gauge {
    INSTANCE;

    @Override
    public void inc() {}

    @Override
    public void inc(long n) {}

    @Override
    public void observe(double value) {}

    @Override
    public void recordNanos(long nanos) {}

    @Override
    public void set(double value) {}
  }
}
