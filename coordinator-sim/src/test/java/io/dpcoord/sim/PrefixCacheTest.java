package io.dpcoord.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrefixCacheTest {

  @Test
  void countsOnlyTheLeadingRunOfCachedBlocks() {
    PrefixCache cache = new PrefixCache(100);
    cache.lookupAndInsert(new long[] {1, 2, 3}, 3);

    assertThat(cache.lookupAndInsert(new long[] {1, 2, 3, 4}, 4)).isEqualTo(3);
    assertThat(cache.lookupAndInsert(new long[] {9, 2, 3}, 3)).isZero();
    assertThat(cache.lookupAndInsert(new long[] {1, 2, 3, 4}, 2)).isEqualTo(2);
  }

  @Test
  void evictsTheLeastRecentlyUsedAndTheDeepestBlockFirst() {
    PrefixCache cache = new PrefixCache(4);
    cache.lookupAndInsert(new long[] {1, 2, 3}, 3);
    cache.lookupAndInsert(new long[] {1, 5}, 2); // touches 1 again; 2 and 3 are now eldest

    cache.lookupAndInsert(new long[] {7}, 1); // evicts the eldest: 3, the deepest of 1-2-3

    assertThat(cache.size()).isEqualTo(4);
    assertThat(cache.lookupAndInsert(new long[] {1, 2, 3}, 3)).isEqualTo(2);
  }

  @Test
  void sizeNeverExceedsTheCapacity() {
    PrefixCache cache = new PrefixCache(10);
    for (long i = 0; i < 1000; i++) {
      cache.lookupAndInsert(new long[] {i, i + 10_000, i + 20_000}, 3);
      assertThat(cache.size()).isLessThanOrEqualTo(10);
    }
  }

  @Test
  void capacityZeroCachesNothingAndClearForgetsEverything() {
    PrefixCache none = new PrefixCache(0);
    none.lookupAndInsert(new long[] {1}, 1);
    assertThat(none.lookupAndInsert(new long[] {1}, 1)).isZero();

    PrefixCache cache = new PrefixCache(8);
    cache.lookupAndInsert(new long[] {1, 2}, 2);
    cache.clear();
    assertThat(cache.lookupAndInsert(new long[] {1, 2}, 2)).isZero();
  }
}
