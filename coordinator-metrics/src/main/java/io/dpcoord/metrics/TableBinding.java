package io.dpcoord.metrics;

/**
 * A binding whose string-keyed operations, handle resolution and ignored count are those of its
 * {@link HandleTable}.
 */
abstract class TableBinding implements CoordinatorMetrics {

  /**
   * The binding's handles. An accessor rather than a constructor argument: the handles are built in
   * the subclass constructor, where they may reach the subclass's own fields.
   */
  abstract HandleTable handles();

  @Override
  public void inc(String name, long value) {
    handles().inc(name, value);
  }

  @Override
  public void observe(String name, double value) {
    handles().observe(name, value);
  }

  @Override
  public void gauge(String name, double value) {
    handles().gauge(name, value);
  }

  @Override
  public Counter counter(Metric metric) {
    return handles().counter(metric);
  }

  @Override
  public Histogram histogram(Metric metric) {
    return handles().histogram(metric);
  }

  @Override
  public Gauge gauge(Metric metric) {
    return handles().gauge(metric);
  }

  @Override
  public long ignoredUpdates() {
    return handles().ignoredUpdates();
  }
}
