package io.dpcoord.cli.monitor;

import io.dpcoord.metrics.EngineLoad;
import io.dpcoord.metrics.Metric;
import io.dpcoord.metrics.PrometheusMetrics;
import io.dpcoord.server.CoordinatorStatus;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The status page's memory: one {@link Sample} per call of {@link #sample()} (once a second), the
 * last {@link #CAPACITY} of them (15 minutes) in a ring.
 *
 * <p>Rates and the hit ratio are differences of the exact counters between two samples; the 99th
 * percentile of the routing latency is taken from the differences of its Prometheus buckets, as
 * PromQL's {@code histogram_quantile} would, so each sample describes its own second. The summary's
 * percentiles ({@link #routingLatencyMicros}) cover the last minute the same way.
 *
 * <p>Thread-safe: the sampler thread adds, HTTP threads read copies.
 */
public final class StatusSampler {
  /** Samples kept: 15 minutes at one a second. */
  public static final int CAPACITY = 900;

  /** Samples the summary's percentiles span. */
  static final int SUMMARY_SAMPLES = 60;

  private static final double MICROS_PER_SECOND = 1e6;
  private static final double NANOS_PER_SECOND = 1e9;

  /**
   * One second of the coordinator.
   *
   * @param time wall-clock time of the sample, epoch milliseconds
   * @param requestsPerSecond requests accepted per second since the sample before
   * @param hitRatio cache hits over prefix-routed requests in that interval; null if none
   * @param p99Micros the 99th percentile of the routing latency in that interval; null if none
   * @param pending each routable engine's pending requests, in rank order
   */
  public record Sample(
      long time,
      double requestsPerSecond,
      Double hitRatio,
      Double p99Micros,
      Map<String, Integer> pending) {}

  /** A sample and the cumulative routing-latency buckets it was taken with. */
  private record Entry(Sample sample, long[] routingBuckets) {}

  private final PrometheusMetrics metrics;
  private final CoordinatorStatus status;
  private final LongSupplier epochMillis;
  private final LongSupplier nanoTime;
  private final ArrayDeque<Entry> ring = new ArrayDeque<>(CAPACITY + 1);
  private final double[] bounds;
  private final long[] initialBuckets;

  private long lastNanos;
  private long lastSubmitted;
  private long lastHits;
  private long lastMisses;
  private long[] lastBuckets;

  /** Samples {@code metrics} and {@code status}; the first sample's interval starts now. */
  public StatusSampler(
      PrometheusMetrics metrics,
      CoordinatorStatus status,
      LongSupplier epochMillis,
      LongSupplier nanoTime) {
    this.metrics = metrics;
    this.status = status;
    this.epochMillis = epochMillis;
    this.nanoTime = nanoTime;
    ClassicHistogramBuckets buckets = routingBuckets();
    this.bounds = new double[buckets.size()];
    for (int i = 0; i < bounds.length; i++) {
      bounds[i] = buckets.getUpperBound(i);
    }
    this.lastNanos = nanoTime.getAsLong();
    this.lastSubmitted = metrics.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL);
    this.lastHits = metrics.count(Metric.ROUTING_CACHE_HIT_TOTAL);
    this.lastMisses = metrics.count(Metric.ROUTING_CACHE_MISS_TOTAL);
    this.initialBuckets = cumulative(buckets);
    this.lastBuckets = initialBuckets;
  }

  /** Takes one sample; the oldest falls out past {@link #CAPACITY}. */
  public synchronized void sample() {
    long now = nanoTime.getAsLong();
    long submitted = metrics.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL);
    long hits = metrics.count(Metric.ROUTING_CACHE_HIT_TOTAL);
    long misses = metrics.count(Metric.ROUTING_CACHE_MISS_TOTAL);
    long[] buckets = cumulative(routingBuckets());
    double seconds = Math.max(now - lastNanos, 1) / NANOS_PER_SECOND;
    long decisions = (hits - lastHits) + (misses - lastMisses);
    Map<String, Integer> pending = new LinkedHashMap<>();
    for (EngineLoad load : status.engines()) {
      pending.put(load.getEngine(), load.getPending());
    }
    Sample sample =
        new Sample(
            epochMillis.getAsLong(),
            (submitted - lastSubmitted) / seconds,
            decisions == 0 ? null : (double) (hits - lastHits) / decisions,
            micros(quantile(0.99, bounds, lastBuckets, buckets)),
            pending);
    ring.addLast(new Entry(sample, buckets));
    if (ring.size() > CAPACITY) {
      ring.removeFirst();
    }
    lastNanos = now;
    lastSubmitted = submitted;
    lastHits = hits;
    lastMisses = misses;
    lastBuckets = buckets;
  }

  /** The samples kept, oldest first. */
  public synchronized List<Sample> samples() {
    List<Sample> samples = new ArrayList<>(ring.size());
    for (Entry e : ring) {
      samples.add(e.sample());
    }
    return samples;
  }

  /**
   * The {@code q} quantile of the routing latency over the last {@link #SUMMARY_SAMPLES} samples,
   * in microseconds; null when no request was routed then.
   */
  public synchronized Double routingLatencyMicros(double q) {
    long[] from = initialBuckets;
    int skip = ring.size() - 1 - SUMMARY_SAMPLES;
    for (Entry e : ring) {
      if (skip-- == 0) {
        from = e.routingBuckets();
        break;
      }
    }
    return micros(quantile(q, bounds, from, lastBuckets));
  }

  private ClassicHistogramBuckets routingBuckets() {
    return metrics.distribution(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).getClassicBuckets();
  }

  private static long[] cumulative(ClassicHistogramBuckets buckets) {
    long[] sums = new long[buckets.size()];
    long sum = 0;
    for (int i = 0; i < sums.length; i++) {
      sum += buckets.getCount(i);
      sums[i] = sum;
    }
    return sums;
  }

  private static Double micros(double seconds) {
    return Double.isNaN(seconds) ? null : seconds * MICROS_PER_SECOND;
  }

  /**
   * The {@code q} quantile of the observations between two cumulative bucket readings, interpolated
   * linearly inside its bucket as PromQL's {@code histogram_quantile} does (the first bucket starts
   * at 0; a quantile in the {@code +Inf} bucket is the highest finite bound). NaN if none.
   */
  static double quantile(double q, double[] bounds, long[] before, long[] after) {
    long total = after[after.length - 1] - before[before.length - 1];
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    for (int i = 0; i < bounds.length; i++) {
      long below = i == 0 ? 0 : after[i - 1] - before[i - 1];
      long upTo = after[i] - before[i];
      if (upTo >= rank && upTo > below) {
        if (Double.isInfinite(bounds[i])) {
          return bounds[i - 1];
        }
        double lower = i == 0 ? 0 : bounds[i - 1];
        return lower + (bounds[i] - lower) * (rank - below) / (upTo - below);
      }
    }
    return bounds[bounds.length - 2];
  }
}
