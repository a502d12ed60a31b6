package io.dpcoord.sim.simulate;

import java.util.Arrays;

/**
 * What one simulated configuration measured. Ratios are over the whole run; latencies are
 * nearest-rank percentiles in virtual milliseconds.
 *
 * @param config the configuration simulated
 * @param requests requests served (all of the workload's)
 * @param promptBlocks complete prompt blocks over all requests
 * @param cachedBlocks of those, blocks the chosen engine served from its cache
 * @param promptTokens prompt tokens over all requests
 * @param cachedTokens prompt tokens served from cache (an engine recomputes at least the last one)
 * @param predictedBlocks blocks the router believed cached on the engine it chose (its match)
 * @param predictedCached of those, blocks that really were cached when the engine took the request
 * @param outputTokens tokens generated
 * @param ttftMs time to first token: p50, p90, p99
 * @param e2eMs arrival to last token: p50, p90, p99
 * @param makespanSeconds from the first arrival to the last token
 * @param busySeconds per engine: time spent in steps
 * @param requestsPerEngine per engine: requests routed to it
 * @param evictions blocks evicted, all engines
 * @param boundSingleCachedBlocks blocks an infinite cache shared by every request would reuse
 * @param boundRoutedCachedBlocks blocks an infinite cache per engine would reuse under this routing
 * @param bestNowCachedBlocks over all requests, the most leading blocks of the request that any
 *     engine's cache held at its arrival (the caches as this routing left them)
 */
public record SimResult(
    SimConfig config,
    long requests,
    long promptBlocks,
    long cachedBlocks,
    long promptTokens,
    long cachedTokens,
    long predictedBlocks,
    long predictedCached,
    long outputTokens,
    double[] ttftMs,
    double[] e2eMs,
    double makespanSeconds,
    double[] busySeconds,
    long[] requestsPerEngine,
    long evictions,
    long boundSingleCachedBlocks,
    long boundRoutedCachedBlocks,
    long bestNowCachedBlocks) {

  /** Engine-side prefix hit ratio in blocks: blocks served from cache / prompt blocks. */
  public double hitRatio() {
    return ratio(cachedBlocks, promptBlocks);
  }

  /** Engine-side prefix hit ratio in tokens. */
  public double tokenHitRatio() {
    return ratio(cachedTokens, promptTokens);
  }

  /** The router's predicted hit ratio: blocks it believed cached / prompt blocks. */
  public double predictedHitRatio() {
    return ratio(predictedBlocks, promptBlocks);
  }

  /** Of the blocks the router believed cached on the chosen engine, the share that were. */
  public double precision() {
    return ratio(predictedCached, predictedBlocks);
  }

  /** The hit ratio of one infinite cache shared by all requests: what any cache could reuse. */
  public double boundSingle() {
    return ratio(boundSingleCachedBlocks, promptBlocks);
  }

  /** The hit ratio with an infinite cache per engine under this routing: what routing costs. */
  public double boundRouted() {
    return ratio(boundRoutedCachedBlocks, promptBlocks);
  }

  /**
   * The hit ratio had every request gone to the engine whose cache held the most of it at its
   * arrival: a reference that keeps the finite caches (not a bound: blocks cached between a
   * request's arrival and its admission can lift the real hit ratio above it).
   */
  public double bestNow() {
    return ratio(bestNowCachedBlocks, promptBlocks);
  }

  /** Completed requests per virtual second. */
  public double requestsPerSecond() {
    return makespanSeconds > 0 ? requests / makespanSeconds : 0;
  }

  /** Generated tokens per virtual second. */
  public double outputTokensPerSecond() {
    return makespanSeconds > 0 ? outputTokens / makespanSeconds : 0;
  }

  /** Coefficient of variation of per-engine busy time (population standard deviation / mean). */
  public double loadCv() {
    double mean = Arrays.stream(busySeconds).average().orElse(0);
    if (mean == 0) {
      return 0;
    }
    double var = Arrays.stream(busySeconds).map(b -> (b - mean) * (b - mean)).sum();
    return Math.sqrt(var / busySeconds.length) / mean;
  }

  /** Busiest engine's busy time over the median engine's (the lower median for an even count). */
  public double loadMaxOverMedian() {
    double[] sorted = busySeconds.clone();
    Arrays.sort(sorted);
    double median = sorted[(sorted.length - 1) / 2];
    return median > 0 ? sorted[sorted.length - 1] / median : 0;
  }

  private static double ratio(long a, long b) {
    return b == 0 ? 0 : (double) a / b;
  }
}
