package io.dpcoord.server;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Warnings that cannot flood the log: at most one line per key per interval, the next line saying
 * how many were suppressed. Used by the event loop, where a misbehaving peer could otherwise turn
 * every bad frame into a disk write.
 */
final class RateLimitedLog {
  private final Logger log;
  private final long intervalNanos;
  private final LongSupplier nanoTime;
  private final Map<String, long[]> lastAndSuppressed = new HashMap<>();

  RateLimitedLog(Logger log, long intervalNanos, LongSupplier nanoTime) {
    this.log = log;
    this.intervalNanos = intervalNanos;
    this.nanoTime = nanoTime;
  }

  /**
   * Logs {@code message} at WARN unless a line with the same key was logged within the interval.
   */
  void warn(String key, String message) {
    if (!log.isWarnEnabled()) {
      return;
    }
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
    log.warn(suppressed == 0 ? message : message + " (" + suppressed + " similar suppressed)");
  }
}
