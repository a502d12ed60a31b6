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
 * hold whole numbers, and counts (tokens) as they are. Gauges are settable gauges whose value is
 * the one set last.
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
public final class DropwizardMetrics extends TableBinding {
  private static final double NANOS_PER_SECOND = 1e9;
  private static final double PER_CENT = 100;

  /**
   * At most 100 samples per 100 ms reach a reservoir ({@link GatedReservoir}): 1,000 a second, and
   * bursts of up to 100 whole.
   */
  static final long SAMPLE_WINDOW_NANOS = 100_000_000;

  static final int SAMPLES_PER_WINDOW = 100;

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

  /** The count of ignored updates, shared with a binding that wraps this one. */
  LongAdder ignored() {
    return ignored;
  }

  @Override
  HandleTable handles() {
    return handles;
  }

  private static Histogram histogramHandle(
      MetricRegistry registry, Clock clock, Metric metric, LongAdder ignored) {
    if (metric.seconds()) {
      Timer timer =
          registry.timer(metric.metricName(), () -> new Timer(newReservoir(clock), clock));
      return new TimerHandle(metric, timer, ignored);
    }
    com.codahale.metrics.Histogram histogram =
        registry.histogram(
            metric.metricName(), () -> new com.codahale.metrics.Histogram(newReservoir(clock)));
    double scale = metric.metricName().endsWith("_ratio") ? PER_CENT : 1;
    return new HistogramHandle(metric, histogram, scale, ignored);
  }

  /** The decaying reservoir, fed at most {@link #SAMPLES_PER_WINDOW} samples per window. */
  private static com.codahale.metrics.Reservoir newReservoir(Clock clock) {
    return new GatedReservoir(
        LockFreeExponentiallyDecayingReservoir.builder().clock(clock).build(),
        clock,
        SAMPLE_WINDOW_NANOS,
        SAMPLES_PER_WINDOW);
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

  private static final class CounterHandle extends HandleTable.CheckedCounter {
    private final com.codahale.metrics.Counter counter;

    CounterHandle(com.codahale.metrics.Counter counter, LongAdder ignored) {
      super(ignored);
      this.counter = counter;
    }

    @Override
    void add(long n) {
      counter.inc(n);
    }
  }

  private static final class TimerHandle extends HandleTable.CheckedHistogram {
    private final Timer timer;

    TimerHandle(Metric metric, Timer timer, LongAdder ignored) {
      super(metric, ignored);
      this.timer = timer;
    }

    @Override
    void record(double seconds) {
      timer.update(Math.round(seconds * NANOS_PER_SECOND), TimeUnit.NANOSECONDS);
    }

    @Override
    void recordDuration(long nanos) {
      timer.update(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Not a duration metric: a duration given to it is dropped and counted as ignored. */
  private static final class HistogramHandle extends HandleTable.CheckedHistogram {
    private final com.codahale.metrics.Histogram histogram;
    private final double scale;

    HistogramHandle(
        Metric metric, com.codahale.metrics.Histogram histogram, double scale, LongAdder ignored) {
      super(metric, ignored);
      this.histogram = histogram;
      this.scale = scale;
    }

    @Override
    void record(double value) {
      histogram.update(Math.round(value * scale));
    }
  }

  private static final class GaugeHandle extends HandleTable.CheckedGauge {
    private final SettableDoubleGauge gauge;

    GaugeHandle(SettableDoubleGauge gauge, LongAdder ignored) {
      super(ignored);
      this.gauge = gauge;
    }

    @Override
    void store(double value) {
      gauge.set(value);
    }
  }
}
