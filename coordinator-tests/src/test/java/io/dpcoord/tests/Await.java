package io.dpcoord.tests;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes; the deadline is a failure, not a wait. */
final class Await {
  /** Far above anything a healthy run needs on loopback; reached only when something is wrong. */
  static final Duration DEADLINE = Duration.ofSeconds(10);

  private static final long POLL_NANOS = Duration.ofMillis(1).toNanos();

  private Await() {}

  /** Waits until {@code condition} holds; fails naming {@code what} and the last observed state. */
  static void until(String what, BooleanSupplier condition, Supplier<Object> observed) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "timed out after "
                + DEADLINE
                + " waiting for "
                + what
                + "; observed "
                + observed.get());
      }
      LockSupport.parkNanos(POLL_NANOS);
    }
  }

  /**
   * Checks that {@code condition} holds throughout {@code period} (here the passing of time is what
   * is tested, not a wait for something); fails as soon as it does not.
   */
  static void holdsFor(
      Duration period, String what, BooleanSupplier condition, Supplier<Object> observed) {
    long end = System.nanoTime() + period.toNanos();
    do {
      if (!condition.getAsBoolean()) {
        throw new AssertionError("no longer " + what + "; observed " + observed.get());
      }
      LockSupport.parkNanos(POLL_NANOS);
    } while (System.nanoTime() - end < 0);
  }

  /** Waits until {@code condition} holds; fails naming {@code what}. */
  static void until(String what, BooleanSupplier condition) {
    until(what, condition, () -> "false");
  }
}
