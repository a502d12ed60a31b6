package io.dpcoord.metrics;

/**
 * The reference design's three operations, plus handles resolved once for the hot path.
 * Implementations never throw into the caller.
 *
 * <p>The string-keyed operations look the name up in the {@link Metric} catalogue on every call; a
 * name that is unknown, or that belongs to a metric of another type, is ignored and counted in
 * {@link #ignoredUpdates()}. The event loop should instead resolve a handle once ({@link
 * #counter(Metric)}, {@link #histogram(Metric)}, {@link #gauge(Metric)}) and update it directly: a
 * handle pays no lookup. Resolving a handle of the wrong type is a programming error and throws
 * {@link IllegalArgumentException} at resolution time, never on an update.
 *
 * <p>Values that no metric can hold are dropped and counted in {@link #ignoredUpdates()} rather
 * than thrown: a negative counter increment, a histogram observation that is negative or not
 * finite, a gauge value that is not finite, {@link Histogram#recordNanos(long)} on a histogram that
 * is not a {@code *_seconds} metric.
 */
public interface CoordinatorMetrics extends AutoCloseable {

  /** Adds {@code value} to the counter named {@code name}. */
  void inc(String name, long value);

  /** Adds one to the counter named {@code name}. */
  default void inc(String name) {
    inc(name, 1);
  }

  /** Records one observation in the histogram named {@code name}; seconds for latencies. */
  void observe(String name, double value);

  /** Sets the gauge named {@code name}. */
  void gauge(String name, double value);

  /**
   * The handle of a counter, resolved once.
   *
   * @throws IllegalArgumentException if {@code metric} is not a {@link MetricType#COUNTER}
   */
  Counter counter(Metric metric);

  /**
   * The handle of a histogram, resolved once.
   *
   * @throws IllegalArgumentException if {@code metric} is not a {@link MetricType#HISTOGRAM}
   */
  Histogram histogram(Metric metric);

  /**
   * The handle of a gauge, resolved once.
   *
   * @throws IllegalArgumentException if {@code metric} is not a {@link MetricType#GAUGE}
   */
  Gauge gauge(Metric metric);

  /**
   * Updates dropped instead of thrown: unknown names, names of the wrong type, invalid values.
   *
   * <p>Should stay 0; a rising value means a caller passes a wrong name or value.
   */
  default long ignoredUpdates() {
    return 0;
  }

  /** Releases what the implementation holds; the default holds nothing. Never throws. */
  @Override
  default void close() {}

  /** A shared no-op whose handles are constant no-op singletons. */
  static CoordinatorMetrics noop() {
    return NoopMetrics.INSTANCE;
  }

  /** A monotonic count. */
  interface Counter {
    /** Adds one. */
    void inc();

    /** Adds {@code n}; a negative {@code n} is ignored. */
    void inc(long n);
  }

  /** A distribution of observed values. */
  interface Histogram {
    /**
     * Records one value: seconds for the {@code *_seconds} metrics, a fraction for ratios, a count
     * (tokens) for the others.
     */
    void observe(double value);

    /** For {@code *_seconds} metrics: records a duration given in nanoseconds. */
    void recordNanos(long nanos);
  }

  /** A value that readers see as set last. */
  interface Gauge {
    /** Replaces the value. */
    void set(double value);
  }
}
