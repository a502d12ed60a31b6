package io.dpcoord.sim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An engine's modelled prefix cache: a set of block hashes with a capacity and LRU eviction.
 *
 * <p>Not thread-safe: it belongs to one engine thread.
 */
final class PrefixCache {
  /*
   * Design notes.
   *
   * A block is reusable only when every block before it is too (block hashes chain, and an engine
   * resumes prefill after the last cached block), so a lookup counts the leading run of present
   * hashes, not every present hash. After the lookup all of the prompt's blocks are touched,
   * deepest first, so that the shared head of a prompt is the most recently used: under pressure
   * the unique tails of prompts are evicted before the system prompts they hang from, as a real
   * engine frees leaf blocks before their parents.
   *
   * An access-ordered LinkedHashMap gives O(1) lookup, touch and eviction of the eldest entry.
   * The boxing it costs is irrelevant at simulation rates (one lookup per request).
   */

  private final int capacity;
  private final LinkedHashMap<Long, Boolean> blocks;

  /** A cache of {@code capacity} blocks; 0 caches nothing. */
  PrefixCache(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("cache capacity must be >= 0, got " + capacity);
    }
    this.capacity = capacity;
    this.blocks =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
            return size() > PrefixCache.this.capacity;
          }
        };
  }

  /**
   * Counts the leading blocks of {@code hashes[0..n)} that are cached, then caches all n.
   *
   * @return how many leading blocks were already cached
   */
  int lookupAndInsert(long[] hashes, int n) {
    if (capacity == 0) {
      return 0;
    }
    int hits = 0;
    while (hits < n && blocks.containsKey(hashes[hits])) {
      hits++;
    }
    for (int i = n - 1; i >= 0; i--) {
      blocks.put(hashes[i], Boolean.TRUE);
    }
    return hits;
  }

  /** Forgets every block (new weights make every cached block useless). */
  void clear() {
    blocks.clear();
  }

  /** Blocks currently cached. */
  int size() {
    return blocks.size();
  }
}
