package io.dpcoord.tests;

import io.dpcoord.metrics.CoordinatorMetrics;
import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.metrics.Metric;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@link InMemoryMetrics} with a gate: a test can make the event loop stop inside its next update
 * of one counter and hold it there until released.
 *
 * <p>This is how a test puts the loop at an exact point of its work (say, after a SUBMIT was
 * accepted and before it is sent to an engine) while something changes around it, without timing
 * assumptions.
 */
final class GatedMetrics implements CoordinatorMetrics {
  private final InMemoryMetrics recorded = new InMemoryMetrics();
  private final AtomicReference<Hold> hold = new AtomicReference<>();

  /** A stop of the loop thread at one counter update. */
  static final class Hold {
    private final Metric metric;
    private final CountDownLatch reached = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    private Hold(Metric metric) {
      this.metric = metric;
    }

    /** Waits until the loop is held; fails the test if it does not get there in time. */
    void awaitHeld() throws InterruptedException {
      if (!reached.await(Await.DEADLINE.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new AssertionError("the loop did not reach the update of " + metric);
      }
    }

    /** Lets the loop go on. Idempotent. */
    void release() {
      released.countDown();
    }

    private void block() {
      reached.countDown();
      try {
        // bounded, so a failed test can never leave the loop thread stuck
        released.await(Duration.ofSeconds(30).toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** What the coordinator recorded. */
  InMemoryMetrics recorded() {
    return recorded;
  }

  /** Makes the next increment of {@code counter} hold the loop thread until released. */
  Hold holdAtNext(Metric counter) {
    Hold h = new Hold(counter);
    if (!hold.compareAndSet(null, h)) {
      throw new IllegalStateException("a hold is already armed");
    }
    return h;
  }

  /** Releases any hold, armed or reached (for clean-up). */
  void releaseAll() {
    Hold h = hold.getAndSet(null);
    if (h != null) {
      h.release();
    }
  }

  @Override
  public void inc(String name, long value) {
    recorded.inc(name, value);
  }

  @Override
  public void observe(String name, double value) {
    recorded.observe(name, value);
  }

  @Override
  public void gauge(String name, double value) {
    recorded.gauge(name, value);
  }

  @Override
  public Counter counter(Metric metric) {
    Counter inner = recorded.counter(metric);
    return new Counter() {
      @Override
      public void inc() {
        passGate(metric);
        inner.inc();
      }

      @Override
      public void inc(long n) {
        passGate(metric);
        inner.inc(n);
      }
    };
  }

  @Override
  public Histogram histogram(Metric metric) {
    return recorded.histogram(metric);
  }

  @Override
  public Gauge gauge(Metric metric) {
    return recorded.gauge(metric);
  }

  @Override
  public long ignoredUpdates() {
    return recorded.ignoredUpdates();
  }

  private void passGate(Metric metric) {
    Hold h = hold.get();
    if (h != null && h.metric == metric && hold.compareAndSet(h, null)) {
      h.block();
    }
  }
}
