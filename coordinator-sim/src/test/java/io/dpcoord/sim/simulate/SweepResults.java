package io.dpcoord.sim.simulate;

import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Hand-made results of a sweep, with numbers chosen so that every value is easy to predict. */
final class SweepResults {
  static final double[] ALPHAS = {0.0, 0.25, 0.5, 0.75, 1.0};
  static final long PROMPT_BLOCKS = 100_000;

  private SweepResults() {}

  /**
   * longest_prefix and first_prefix_block at each of {@link #ALPHAS}, then load_balanced once (at
   * alpha 0.5): 11 results on 4 engines. The block hit ratio of result {@code i} is {@code hit(i)},
   * its TTFT p99 {@code ttft99(i)}.
   */
  static List<SimResult> policiesByAlpha() {
    List<SimResult> results = new ArrayList<>();
    for (Policy p : List.of(Policy.LONGEST_PREFIX, Policy.FIRST_PREFIX_BLOCK)) {
      for (double a : ALPHAS) {
        results.add(result(config(p, a, 4, 16_384), results.size()));
      }
    }
    results.add(result(config(Policy.LOAD_BALANCED, 0.5, 4, 16_384), results.size()));
    return results;
  }

  static SimConfig config(Policy policy, double alpha, int engines, int cacheBlocks) {
    RouterConfig routing =
        RouterConfig.builder().policy(policy).alpha(alpha).ttl(Duration.ofSeconds(30)).build();
    return SimConfig.builder(routing, 16).engines(engines).cacheBlocks(cacheBlocks).build();
  }

  /** Cached blocks of result {@code i}: 50,000 + 3,000 i (a hit ratio of 0.5 + 0.03 i). */
  static long cachedBlocks(int i) {
    return 50_000 + 3_000L * i;
  }

  static double hit(int i) {
    return cachedBlocks(i) / (double) PROMPT_BLOCKS;
  }

  static double ttft99(int i) {
    return 400.125 + 37.5 * i;
  }

  /** A result of {@code config} whose numbers depend on {@code i} only. */
  static SimResult result(SimConfig config, int i) {
    int n = config.engines();
    long[] requests = new long[n];
    double[] busy = new double[n];
    for (int e = 0; e < n; e++) {
      requests[e] = 500 + 7L * e + i;
      busy[e] = 10.25 + 0.5 * e + i / 8.0;
    }
    return new SimResult(
        config,
        4096,
        PROMPT_BLOCKS,
        cachedBlocks(i),
        1_700_000,
        850_000 + 1_000L * i,
        60_000,
        45_000 + 500L * i,
        512_000,
        new double[] {120.5 + i, 250.75 + i, ttft99(i)},
        new double[] {2_000.5 + i, 4_000.25 + i, 9_000.125 + i},
        64.0 + i,
        busy,
        requests,
        12_345 + i,
        81_234,
        70_000 + 100L * i,
        60_000 + 200L * i);
  }
}
