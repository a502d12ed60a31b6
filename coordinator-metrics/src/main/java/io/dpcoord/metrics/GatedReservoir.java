package io.dpcoord.metrics;

import com.codahale.metrics.Clock;
import com.codahale.metrics.Reservoir;
import com.codahale.metrics.Snapshot;

/**
 * A reservoir that passes on at most {@code budget} samples per window of {@code windowNanos} (the
 * first ones of each window) and drops the rest. The counts and rates of a Dropwizard {@code Timer}
 * or {@code Histogram} are kept outside the reservoir, so they stay exact; only the sample the
 * percentiles are drawn from thins out under heavy traffic, and light traffic is not thinned at
 * all.
 *
 * <p>Why: the decaying reservoir weights newer samples higher, so once full nearly every sample
 * replaces an old one in its skip list, which measured 3 to 7 µs of event-loop time per request at
 * 6,000 requests/s (docs/PERFORMANCE.md, "What the metrics cost"). It keeps 1,028 samples of
 * roughly the last five minutes; fed at most 1,000 samples a second it still draws them from some
 * 300,000, so the percentiles are as good. Most metrics are updated by the event loop alone; the
 * tokenizer workers share theirs, and their races on the window only let a few samples more or
 * fewer through, never a wrong value. Reads go to the inner reservoir.
 */
final class GatedReservoir implements Reservoir {
  private final Reservoir inner;
  private final Clock clock;
  private final long windowNanos;
  private final int budget;
  private long windowStart = Long.MIN_VALUE;
  private int used;

  GatedReservoir(Reservoir inner, Clock clock, long windowNanos, int budget) {
    this.inner = inner;
    this.clock = clock;
    this.windowNanos = windowNanos;
    this.budget = budget;
  }

  @Override
  public int size() {
    return inner.size();
  }

  @Override
  public void update(long value) {
    long now = clock.getTick();
    if (windowStart == Long.MIN_VALUE || now - windowStart >= windowNanos) {
      windowStart = now;
      used = 0;
    }
    if (used < budget) {
      used++;
      inner.update(value);
    }
  }

  @Override
  public Snapshot getSnapshot() {
    return inner.getSnapshot();
  }
}
