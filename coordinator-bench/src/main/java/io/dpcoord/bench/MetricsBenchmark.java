package io.dpcoord.bench;

import com.codahale.metrics.MetricRegistry;
import io.dpcoord.metrics.CoordinatorMetrics;
import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.metrics.PrometheusMetrics;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one metric update on the event loop thread, per binding and per API.
 *
 * <p>Expectations: the no-op counter is indistinguishable from the empty baseline (the call inlines
 * to nothing); a Dropwizard counter (a {@code LongAdder}) stays well under 50 ns; a timer update
 * pays for the decaying reservoir; the string-keyed increment adds one hash lookup to the counter.
 * Run: {@code java -jar coordinator-bench/target/benchmarks.jar MetricsBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MetricsBenchmark {
  private static final int SIZE = 1024;
  private static final int MASK = SIZE - 1;

  private final long[] durations = new long[SIZE];
  private final double[] ratios = new double[SIZE];
  private int index;

  private CoordinatorMetrics noop;
  private CoordinatorMetrics.Counter noopCounter;
  private CoordinatorMetrics dropwizard;
  private CoordinatorMetrics.Counter dropwizardCounter;
  private CoordinatorMetrics.Histogram dropwizardTimer;
  private CoordinatorMetrics.Histogram dropwizardRatio;
  private CoordinatorMetrics.Gauge dropwizardGauge;
  private CoordinatorMetrics.Histogram prometheusTimer;
  private CoordinatorMetrics.Histogram prometheusRatio;

  /** Resolves the handles once and precomputes the recorded values. */
  @Setup
  public void setUp() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < SIZE; i++) {
      durations[i] = random.nextLong(10_000, 10_000_000); // 10 us to 10 ms
      ratios[i] = random.nextDouble();
    }
    noop = CoordinatorMetrics.noop();
    noopCounter = noop.counter(Metric.ROUTING_CACHE_HIT_TOTAL);
    dropwizard = new DropwizardMetrics(new MetricRegistry());
    dropwizardCounter = dropwizard.counter(Metric.ROUTING_CACHE_HIT_TOTAL);
    dropwizardTimer = dropwizard.histogram(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS);
    dropwizardRatio = dropwizard.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO);
    dropwizardGauge = dropwizard.gauge(Metric.COORDINATOR_REQUESTS_IN_FLIGHT);
    PrometheusMetrics prometheus =
        new PrometheusMetrics(new DropwizardMetrics(new MetricRegistry()), "bench");
    prometheusTimer = prometheus.histogram(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS);
    prometheusRatio = prometheus.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO);
  }

  /** An empty method: the floor every other figure is compared with. */
  @Benchmark
  public void baseline() {
    // intentionally empty
  }

  /** A counter increment through the no-op binding's handle. */
  @Benchmark
  public void noopCounterInc() {
    noopCounter.inc();
  }

  /** A string-keyed increment through the no-op binding. */
  @Benchmark
  public void noopStringKeyedInc() {
    noop.inc("routing_cache_hit_total");
  }

  /** A counter increment through a Dropwizard handle. */
  @Benchmark
  public void dropwizardCounterInc() {
    dropwizardCounter.inc();
  }

  /** A duration recorded in a Dropwizard timer (decaying reservoir plus meter). */
  @Benchmark
  public void dropwizardTimerRecord() {
    dropwizardTimer.recordNanos(durations[index++ & MASK]);
  }

  /** A ratio recorded in a Dropwizard histogram. */
  @Benchmark
  public void dropwizardRatioObserve() {
    dropwizardRatio.observe(ratios[index++ & MASK]);
  }

  /** A gauge set through a Dropwizard handle. */
  @Benchmark
  public void dropwizardGaugeSet() {
    dropwizardGauge.set(index++ & MASK);
  }

  /**
   * A duration recorded with {@code --prometheus-port}: the Dropwizard timer plus the Prometheus
   * buckets; the difference to {@link #dropwizardTimerRecord} is what the exporter costs.
   */
  @Benchmark
  public void prometheusTimerRecord() {
    prometheusTimer.recordNanos(durations[index++ & MASK]);
  }

  /** A ratio recorded with {@code --prometheus-port}: Dropwizard histogram plus buckets. */
  @Benchmark
  public void prometheusRatioObserve() {
    prometheusRatio.observe(ratios[index++ & MASK]);
  }

  /** A string-keyed increment through the Dropwizard binding: lookup plus counter. */
  @Benchmark
  public void dropwizardStringKeyedInc() {
    dropwizard.inc("routing_cache_hit_total");
  }
}
