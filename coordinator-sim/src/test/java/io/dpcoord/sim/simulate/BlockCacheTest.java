package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The cache of the simulator's engines and of the simulated engine. */
class BlockCacheTest {

  @Test
  void countsOnlyTheLeadingRunOfCachedBlocks() {
    BlockCache cache = new BlockCache(100, Eviction.LINEAGE);
    cache.lookupAndInsert(new long[] {1, 2, 3}, 3);

    assertThat(cache.lookupAndInsert(new long[] {1, 2, 3, 4}, 4)).isEqualTo(3);
    assertThat(cache.lookupAndInsert(new long[] {9, 2, 3}, 3)).isZero();
    assertThat(cache.lookupAndInsert(new long[] {1, 2, 3, 4}, 2)).isEqualTo(2);
  }

  @Test
  void evictsTheLeastRecentlyUsedAndTheDeepestBlockFirst() {
    BlockCache cache = new BlockCache(4, Eviction.LINEAGE);
    cache.lookupAndInsert(new long[] {1, 2, 3}, 3);
    cache.lookupAndInsert(new long[] {1, 5}, 2); // touches 1 again; 2 and 3 are now eldest

    cache.lookupAndInsert(new long[] {7}, 1); // evicts the eldest: 3, the deepest of 1-2-3

    assertThat(cache.size()).isEqualTo(4);
    assertThat(cache.evictions()).isEqualTo(1);
    assertThat(cache.lookupAndInsert(new long[] {1, 2, 3}, 3)).isEqualTo(2);
  }

  @Test
  void cachedRunCountsTheLeadingRunAndLeavesTheRecencyAlone() {
    BlockCache cache = new BlockCache(3, Eviction.LRU);
    cache.lookupAndInsert(new long[] {1}, 1);
    cache.lookupAndInsert(new long[] {2, 3}, 2); // 1 is now the eldest

    assertThat(cache.cachedRun(new long[] {1, 9, 2})).isEqualTo(1);
    assertThat(cache.cachedRun(new long[] {2, 3, 4})).isEqualTo(2);
    assertThat(cache.cachedRun(new long[] {4, 1})).isZero();
    assertThat(cache.size()).isEqualTo(3);

    cache.lookupAndInsert(new long[] {4}, 1); // still evicts 1: reading it did not renew it
    assertThat(cache.cachedRun(new long[] {1})).isZero();
    assertThat(cache.cachedRun(new long[] {2, 3, 4})).isEqualTo(3);
  }

  @Test
  void sizeNeverExceedsTheCapacity() {
    BlockCache cache = new BlockCache(10, Eviction.LINEAGE);
    for (long i = 0; i < 1000; i++) {
      cache.lookupAndInsert(new long[] {i, i + 10_000, i + 20_000}, 3);
      assertThat(cache.size()).isLessThanOrEqualTo(10);
    }
  }

  @Test
  void capacityZeroCachesNothingAndClearForgetsEverything() {
    BlockCache none = new BlockCache(0, Eviction.LINEAGE);
    none.lookupAndInsert(new long[] {1}, 1);
    assertThat(none.lookupAndInsert(new long[] {1}, 1)).isZero();

    BlockCache cache = new BlockCache(8, Eviction.LINEAGE);
    cache.lookupAndInsert(new long[] {1, 2}, 2);
    cache.clear();
    assertThat(cache.lookupAndInsert(new long[] {1, 2}, 2)).isZero();
  }
}
