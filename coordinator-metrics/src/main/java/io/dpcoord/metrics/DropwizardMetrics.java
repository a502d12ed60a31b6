package io.dpcoord.metrics;

import com.codahale.metrics.Clock;
import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The Dropwizard Metrics binding: every catalogue metric registered in a {@link MetricRegistry}
 * under its published name.
 *
 * <p>Counters are Dropwizard {@code Counter}s. The {@code *_seconds} histograms are {@code Timer}s
 * (count, rates, and a duration distribution kept in nanoseconds), the other histograms are {@code
 * Histogram}s; ratios are kept in per cent, rounded to an integer, because Dropwizard histograms
 * hold whole numbers. Gauges are settable gauges whose value is the one set last.
 *
 * <p>Design notes: a coordinator runs for weeks, so every distribution uses a {@link
 * LockFreeExponentiallyDecayingReservoir} with its defaults (1028 samples, alpha 0.015): memory is
 * bounded whatever the traffic, and the forward-decay priority sampling of Cormode et al. ("Forward
 * Decay: A Practical Time Decay Model for Streaming Systems", ICDE 2009) weights the last five
 * minutes or so, so percentiles follow current behaviour instead of averaging over the whole
 * uptime. Updates are lock-free, which matters because the event loop and the JMX reader threads
 * touch the same reservoir. A sliding time window would track the window exactly but holds every
 * sample of the window, unbounded under a burst; a uniform reservoir would never forget the first
 * day. The decaying reservoir's known weakness: when traffic stops, the last samples stay until new
 * ones arrive, so a quiet coordinator shows its last busy percentiles.
 *
 * <p>All metrics are registered in the constructor, so a JMX console shows the whole catalogue from
 * the first second (gauges at 0). Two instances on one registry share its metrics.
 */
public final class DropwizardMetrics implements CoordinatorMetrics {
  private static final double NANOS_PER_SECOND = 1e9;
  private static final double PER_CENT = 100;

  private final MetricRegistry registry;
  private final LongAdder ignored = new LongAdder();
  private final HandleTable handles;

  /** Registers the catalogue in {@code registry}, timing with the system clock. */
  public DropwizardMetrics(MetricRegistry registry) {
    this(registry, Clock.defaultClock());
  }

  /**
   * Registers the catalogue in {@code registry}, timing reservoirs and rates with {@code clock}.
   *
   * @throws IllegalArgumentException if the registry already holds a catalogue name as a metric of
   *     another kind
   */
  public DropwizardMetrics(MetricRegistry registry, Clock clock) {
    this.registry = Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(clock, "clock");
    this.handles =
        new HandleTable(
            ignored,
            metric -> new CounterHandle(registry.counter(metric.metricName()), ignored),
            metric -> histogramHandle(registry, clock, metric, ignored),
            metric -> new GaugeHandle(settableGauge(registry, metric), ignored));
  }

  /** The registry holding the catalogue, for reporters. */
  public MetricRegistry registry() {
    return registry;
  }

  @Override
  public void inc(String name, long value) {
    handles.inc(name, value);
  }

  @Override
  public void observe(String name, double value) {
    handles.observe(name, value);
  }

  @Override
  public void gauge(String name, double value) {
    handles.gauge(name, value);
  }

  @Override
  public Counter counter(Metric metric) {
    return handles.counter(metric);
  }

  @Override
  public Histogram histogram(Metric metric) {
    return handles.histogram(metric);
  }

  @Override
  public Gauge gauge(Metric metric) {
    return handles.gauge(metric);
  }

  @Override
  public long ignoredUpdates() {
    return ignored.sum();
  }

  private static Histogram histogramHandle(
      MetricRegistry registry, Clock clock, Metric metric, LongAdder ignored) {
    if (metric.seconds()) {
      Timer timer =
          registry.timer(metric.metricName(), () -> new Timer(newReservoir(clock), clock));
      return new TimerHandle(timer, ignored);
    }
    com.codahale.metrics.Histogram histogram =
        registry.histogram(
            metric.metricName(), () -> new com.codahale.metrics.Histogram(newReservoir(clock)));
    double scale = metric.metricName().endsWith("_ratio") ? PER_CENT : 1;
    return new HistogramHandle(histogram, scale, ignored);
  }

  private static com.codahale.metrics.Reservoir newReservoir(Clock clock) {
    return LockFreeExponentiallyDecayingReservoir.builder().clock(clock).build();
  }

  private static SettableDoubleGauge settableGauge(MetricRegistry registry, Metric metric) {
    String name = metric.metricName();
    com.codahale.metrics.Metric existing = registry.getMetrics().get(name);
    if (existing == null) {
      try {
        return registry.register(name, new SettableDoubleGauge());
      } catch (IllegalArgumentException raced) {
        existing = registry.getMetrics().get(name);
      }
    }
    if (existing instanceof SettableDoubleGauge gauge) {
      return gauge;
    }
    throw new IllegalArgumentException(
        name + " is already registered as a " + existing.getClass().getName());
  }

  /** A Dropwizard gauge that shows the value set last; setting it allocates nothing. */
  static final class SettableDoubleGauge implements com.codahale.metrics.Gauge<Double> {
    private volatile double value;

    void set(double newValue) {
      value = newValue;
    }

    @Override
    public Double getValue() {
      return value;
    }
  }

  private static final class CounterHandle implements Counter {
    private final com.codahale.metrics.Counter counter;
    private final LongAdder ignored;

    CounterHandle(com.codahale.metrics.Counter counter, LongAdder ignored) {
      this.counter = counter;
      this.ignored = ignored;
    }

    @Override
    public void inc() {
      counter.inc();
    }

    @Override
    public void inc(long n) {
      if (n >= 0) {
        counter.inc(n);
      } else {
        ignored.increment();
      }
    }
  }

  private static final class TimerHandle implements Histogram {
    private final Timer timer;
    private final LongAdder ignored;

    TimerHandle(Timer timer, LongAdder ignored) {
      this.timer = timer;
      this.ignored = ignored;
    }

    @Override
    public void observe(double seconds) {
      if (HandleTable.isObservation(seconds)) {
        timer.update(Math.round(seconds * NANOS_PER_SECOND), TimeUnit.NANOSECONDS);
      } else {
        ignored.increment();
      }
    }

    @Override
    public void recordNanos(long nanos) {
      if (nanos >= 0) {
        timer.update(nanos, TimeUnit.NANOSECONDS);
      } else {
        ignored.increment();
      }
    }
  }

  private static final class HistogramHandle implements Histogram {
    private final com.codahale.metrics.Histogram histogram;
    private final double scale;
    private final LongAdder ignored;

    HistogramHandle(com.codahale.metrics.Histogram histogram, double scale, LongAdder ignored) {
      this.histogram = histogram;
      this.scale = scale;
      this.ignored = ignored;
    }

    @Override
    public void observe(double value) {
      if (HandleTable.isObservation(value)) {
        histogram.update(Math.round(value * scale));
      } else {
        ignored.increment();
      }
    }

    /** Not a duration metric: the value is dropped and counted as ignored. */
    @Override
    public void recordNanos(long nanos) {
      ignored.increment();
    }
  }

  private static final class GaugeHandle implements Gauge {
    private final SettableDoubleGauge gauge;
    private final LongAdder ignored;

    GaugeHandle(SettableDoubleGauge gauge, LongAdder ignored) {
      this.gauge = gauge;
      this.ignored = ignored;
    }

    @Override
    public void set(double value) {
      if (Double.isFinite(value)) {
        gauge.set(value);
      } else {
        ignored.increment();
      }
    }
  }
}
