package io.dpcoord.sim.simulate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Zipf-distributed ranks: rank {@code r} of {@code 1..n} has probability proportional to {@code 1 /
 * r^s}. Sampled by binary search in the cumulative table, exact and O(log n); the table (8n bytes)
 * is immutable and shared by every iterator of a workload. Rank 1 is index 0.
 */
final class ZipfTable {
  /** The most items a table holds (32 MB). */
  static final int MAX_ITEMS = 1 << 22;

  private final double[] cumulative;

  ZipfTable(int n, double exponent) {
    if (n < 1 || n > MAX_ITEMS || !(exponent >= 0) || Double.isInfinite(exponent)) {
      throw new IllegalArgumentException("bad Zipf table: " + n + " items, exponent " + exponent);
    }
    cumulative = new double[n];
    double sum = 0;
    for (int r = 1; r <= n; r++) {
      sum += Math.pow(r, -exponent);
      cumulative[r - 1] = sum;
    }
    for (int i = 0; i < n; i++) {
      cumulative[i] /= sum;
    }
    cumulative[n - 1] = 1.0;
  }

  /** A rank, 0 for the most popular item. */
  int sample(SplittableRandom random) {
    double u = random.nextDouble();
    int i = Arrays.binarySearch(cumulative, u);
    // the first index whose cumulative probability exceeds u
    return i >= 0 ? i + 1 : -i - 1;
  }
}
