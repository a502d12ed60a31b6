package io.dpcoord.sim;

import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a {@link LoadGenerator} run saw.
 *
 * @param sent requests sent
 * @param completed first replies for a sent id whose status is not FAILED
 * @param failed first replies for a sent id whose status is FAILED (answered, not lost)
 * @param lost sent requests without any reply when the run ended (idle timeout)
 * @param duplicated replies for an id that had already been answered
 * @param unknownIds replies for an id that was never sent
 * @param partials ENGINE_REPLY_PARTIAL messages received
 * @param invalidFrames frames that did not decode as a message to a client
 * @param elapsedNanos from the first request to the end of the run
 * @param latency percentiles of the completed requests, send to reply
 * @param perRank completed requests per serving rank, from the records' {@code served_by_rank}
 */
public record LoadReport(
    long sent,
    long completed,
    long failed,
    long lost,
    long duplicated,
    long unknownIds,
    long partials,
    long invalidFrames,
    long elapsedNanos,
    Latency latency,
    SortedMap<Integer, Long> perRank) {

  /**
   * Latency percentiles in milliseconds (nearest rank); all 0 when nothing completed.
   *
   * @param count the number of samples
   * @param p999 the 99.9th percentile
   */
  public record Latency(long count, double p50, double p90, double p99, double p999, double max) {

    /** The percentiles of {@code nanos[0..n)}; sorts that range in place. */
    static Latency of(long[] nanos, int n) {
      if (n == 0) {
        return new Latency(0, 0, 0, 0, 0, 0);
      }
      java.util.Arrays.sort(nanos, 0, n);
      return new Latency(
          n,
          rank(nanos, n, 0.50),
          rank(nanos, n, 0.90),
          rank(nanos, n, 0.99),
          rank(nanos, n, 0.999),
          ms(nanos[n - 1]));
    }

    private static double rank(long[] sorted, int n, double p) {
      int index = (int) Math.ceil(p * n) - 1;
      return ms(sorted[Math.max(0, Math.min(n - 1, index))]);
    }

    private static double ms(long nanos) {
      return nanos / 1e6;
    }
  }

  /** Copies the per-rank map. */
  public LoadReport {
    perRank = new TreeMap<>(perRank);
  }

  /** Requests that got a reply: completed + failed. */
  public long answered() {
    return completed + failed;
  }

  /** Answered requests per second of the run. */
  public double requestsPerSecond() {
    return elapsedNanos <= 0 ? 0.0 : answered() * 1e9 / elapsedNanos;
  }

  /** True when nothing was lost or duplicated. */
  public boolean ok() {
    return lost == 0 && duplicated == 0;
  }

  /** The report as a few aligned lines of text, ending with a line break. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    line(
        sb,
        "requests",
        String.format(
            Locale.ROOT,
            "sent %d  completed %d  failed %d  lost %d  duplicated %d",
            sent,
            completed,
            failed,
            lost,
            duplicated));
    if (unknownIds > 0 || invalidFrames > 0) {
      line(
          sb,
          "anomalies",
          String.format(
              Locale.ROOT,
              "replies for unknown ids %d  invalid frames %d",
              unknownIds,
              invalidFrames));
    }
    line(
        sb,
        "throughput",
        String.format(
            Locale.ROOT, "%.1f req/s over %.2f s", requestsPerSecond(), elapsedNanos / 1e9));
    line(
        sb,
        "latency (ms)",
        String.format(
            Locale.ROOT,
            "p50 %.2f  p90 %.2f  p99 %.2f  max %.2f",
            latency.p50(),
            latency.p90(),
            latency.p99(),
            latency.max()));
    if (partials > 0) {
      line(sb, "partials", Long.toString(partials));
    }
    if (!perRank.isEmpty()) {
      StringBuilder ranks = new StringBuilder();
      for (Map.Entry<Integer, Long> e : perRank.entrySet()) {
        if (ranks.length() > 0) {
          ranks.append("  ");
        }
        ranks.append("rank ").append(e.getKey()).append(": ").append(e.getValue());
      }
      line(sb, "per engine", ranks.toString());
    }
    return sb.toString();
  }

  /** Appends {@code label} padded to a column, then {@code value} and a line break. */
  static void line(StringBuilder sb, String label, String value) {
    sb.append(String.format(Locale.ROOT, "%-14s%s%n", label, value));
  }
}
