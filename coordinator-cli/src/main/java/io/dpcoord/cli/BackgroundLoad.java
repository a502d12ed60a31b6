package io.dpcoord.cli;

import io.dpcoord.sim.LoadGenerator;
import io.dpcoord.sim.LoadProgress;
import io.dpcoord.sim.LoadReport;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A demo's load generator, run on a thread of its own ({@code demo-load}); the demo's clock starts
 * with it.
 */
final class BackgroundLoad {
  private final LoadGenerator generator;
  private final CountDownLatch done = new CountDownLatch(1);
  private volatile LoadReport report;
  private volatile Exception failure;
  private long started;

  BackgroundLoad(LoadGenerator generator) {
    this.generator = generator;
  }

  void start() {
    started = System.nanoTime();
    new Thread(this::run, "demo-load").start();
  }

  /** Nanoseconds since {@link #start}. */
  long elapsedNanos() {
    return System.nanoTime() - started;
  }

  private void run() {
    try {
      report = generator.run();
    } catch (TimeoutException | RuntimeException e) {
      failure = e;
    } finally {
      done.countDown();
    }
  }

  /** Waits at most {@code nanos} for the load to end; returns whether it has. */
  boolean await(long nanos) throws InterruptedException {
    return done.await(nanos, TimeUnit.NANOSECONDS);
  }

  void await() throws InterruptedException {
    done.await();
  }

  LoadProgress progress() {
    return generator.progress();
  }

  /** Stops sending; what is in flight drains, then the load ends. */
  void finishSubmitting() {
    generator.finishSubmitting();
  }

  /** The load generator's report, once the load has ended without {@link #failure}. */
  LoadReport report() {
    return report;
  }

  /** Why the load generator failed, once the load has ended; null if it did not. */
  Exception failure() {
    return failure;
  }
}
