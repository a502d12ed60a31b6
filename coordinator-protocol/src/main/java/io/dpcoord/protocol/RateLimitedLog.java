package io.dpcoord.protocol;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Warnings about what peers send that cannot flood the log: at most one line per key per interval,
 * the next line saying how many were suppressed. Used wherever a misbehaving peer could otherwise
 * turn every bad frame into a disk write (the coordinator's loop, the simulated engine).
 *
 * <p>Lines go to a sink (for example {@code logger::warn}), so that this module needs no logging
 * library. Single-threaded, like the loops that use it.
 */
public final class RateLimitedLog {
  private final Consumer<String> sink;
  private final long intervalNanos;
  private final LongSupplier nanoTime;
  private final Map<String, long[]> lastAndSuppressed = new HashMap<>();

  /** Writes at most one line per key per {@code intervalNanos} of {@code nanoTime} to sink. */
  public RateLimitedLog(Consumer<String> sink, long intervalNanos, LongSupplier nanoTime) {
    this.sink = sink;
    this.intervalNanos = intervalNanos;
    this.nanoTime = nanoTime;
  }

  /** Writes {@code message} unless a line with the same key was written within the interval. */
  public void warn(String key, String message) {
    long now = nanoTime.getAsLong();
    long[] state = lastAndSuppressed.get(key);
    if (state == null) {
      state = new long[] {now - intervalNanos, 0};
      lastAndSuppressed.put(key, state);
    }
    if (now - state[0] < intervalNanos) {
      state[1]++;
      return;
    }
    long suppressed = state[1];
    state[0] = now;
    state[1] = 0;
    sink.accept(suppressed == 0 ? message : message + " (" + suppressed + " similar suppressed)");
  }
}
