package io.dpcoord.metrics;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * One histogram's fixed buckets, counted on the hot path and handed to the Prometheus client as a
 * {@link HistogramSnapshot} when scraped; the client writes the exposition.
 *
 * <p>Why not the client's own {@code Histogram}: its {@code observe} pays a scrape-consistency
 * buffer, a separate count and native-histogram checks, about twice this class's cost
 * (docs/design/metrics.md, "Prometheus"). Here an observation is a binary search over the bounds
 * and two uncontended atomic adds (its bucket, the sum), with no allocation; the count is the sum
 * of the buckets. A scrape reads the buckets and the sum one after the other, so while updates run
 * the sum may include an observation the buckets do not yet show, or the reverse: a difference of
 * one observation in millions, never a wrong bucket.
 */
final class BucketCounts implements Collector {
  private final String name;
  private final String help;
  private final Labels labels;
  private final double[] bounds; // finite upper bounds, ascending; +Inf is implicit
  private final double[] boundsWithInf;
  private final AtomicLongArray counts;
  private final DoubleAdder sum = new DoubleAdder();

  BucketCounts(String name, String help, Labels labels, double[] bounds) {
    this.name = name;
    this.help = help;
    this.labels = labels;
    this.bounds = bounds.clone();
    this.boundsWithInf = Arrays.copyOf(bounds, bounds.length + 1);
    boundsWithInf[bounds.length] = Double.POSITIVE_INFINITY;
    this.counts = new AtomicLongArray(bounds.length + 1);
  }

  /** Counts {@code value}, finite and not negative, in the first bucket whose bound holds it. */
  void observe(double value) {
    int i = Arrays.binarySearch(bounds, value);
    counts.getAndIncrement(i >= 0 ? i : -i - 1);
    sum.add(value);
  }

  /** The buckets (not cumulative, {@code +Inf} last) and the sum now. */
  HistogramDataPointSnapshot snapshot() {
    long[] now = new long[counts.length()];
    for (int i = 0; i < now.length; i++) {
      now[i] = counts.get(i);
    }
    return HistogramDataPointSnapshot.builder()
        .classicHistogramBuckets(ClassicHistogramBuckets.of(boundsWithInf, now))
        .sum(sum.sum())
        .labels(labels)
        .build();
  }

  @Override
  public HistogramSnapshot collect() {
    return HistogramSnapshot.builder().name(name).help(help).dataPoint(snapshot()).build();
  }
}
