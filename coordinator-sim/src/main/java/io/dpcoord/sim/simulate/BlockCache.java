package io.dpcoord.sim.simulate;

import org.agrona.collections.Long2LongHashMap;

/**
 * A modelled engine's prefix cache: at most {@code capacity} block hashes, evicted least recently
 * used first in the touch order of its {@link Eviction} policy.
 *
 * <p>A lookup counts the leading run of cached blocks of a request (a block is reusable only when
 * every block before it is), then caches all of the request's blocks (the head of them, if the
 * request is longer than the cache). The blocks it reuses are touched first, so its own insertions
 * never evict them (an engine pins the blocks a running request uses); then the policy's touch
 * order decides the final recency. Slots are preallocated arrays threaded on one doubly linked
 * recency list; the hash-to-slot map is primitive. Not thread-safe: each simulation owns its
 * engines.
 */
public final class BlockCache {
  private static final int NIL = -1;

  private final int capacity;
  private final boolean deepestFirst;
  private final Long2LongHashMap slotOf = new Long2LongHashMap(NIL);
  private final long[] hashOf;
  private final int[] prev;
  private final int[] next;
  private int head = NIL; // most recent
  private int tail = NIL; // least recent
  private int size;
  private long evictions;

  /** A cache of {@code capacity} blocks (0 caches nothing) evicting by {@code eviction}. */
  public BlockCache(int capacity, Eviction eviction) {
    if (capacity < 0) {
      throw new IllegalArgumentException("cache capacity must be >= 0, got " + capacity);
    }
    this.capacity = capacity;
    this.deepestFirst = eviction == Eviction.LINEAGE;
    this.hashOf = new long[capacity];
    this.prev = new int[capacity];
    this.next = new int[capacity];
  }

  /**
   * Counts the leading blocks of {@code blocks} that are cached, then caches all of them.
   *
   * @return how many leading blocks were cached before the call
   */
  public int lookupAndInsert(long[] blocks) {
    return lookupAndInsert(blocks, blocks.length);
  }

  /** {@link #lookupAndInsert(long[])} of the first {@code n} blocks. */
  public int lookupAndInsert(long[] blocks, int n) {
    if (capacity == 0) {
      return 0;
    }
    int hits = cachedRun(blocks, n);
    // a request longer than the cache keeps only what fits: its head, as an engine would reuse it
    int kept = Math.min(n, capacity);
    // the blocks it reuses are in use: they move to the front first, so that inserting the rest
    // never evicts them
    for (int i = 0; i < hits; i++) {
      touch(blocks[i]);
    }
    if (deepestFirst) {
      for (int i = kept - 1; i >= hits; i--) {
        touch(blocks[i]);
      }
      for (int i = hits - 1; i >= 0; i--) {
        touch(blocks[i]);
      }
    } else {
      for (int i = hits; i < kept; i++) {
        touch(blocks[i]);
      }
    }
    return hits;
  }

  /** How many leading blocks of {@code blocks} are cached; the recency order does not change. */
  public int cachedRun(long[] blocks) {
    return cachedRun(blocks, blocks.length);
  }

  private int cachedRun(long[] blocks, int n) {
    int hits = 0;
    while (hits < n && slotOf.containsKey(blocks[hits])) {
      hits++;
    }
    return hits;
  }

  private void touch(long hash) {
    int slot = (int) slotOf.get(hash);
    if (slot != NIL) {
      unlink(slot);
    } else if (size < capacity) {
      slot = size++;
      slotOf.put(hash, slot);
      hashOf[slot] = hash;
    } else {
      slot = tail;
      unlink(slot);
      slotOf.remove(hashOf[slot]);
      evictions++;
      slotOf.put(hash, slot);
      hashOf[slot] = hash;
    }
    pushFront(slot);
  }

  private void unlink(int slot) {
    int p = prev[slot];
    int q = next[slot];
    if (p != NIL) {
      next[p] = q;
    } else {
      head = q;
    }
    if (q != NIL) {
      prev[q] = p;
    } else {
      tail = p;
    }
  }

  private void pushFront(int slot) {
    prev[slot] = NIL;
    next[slot] = head;
    if (head != NIL) {
      prev[head] = slot;
    }
    head = slot;
    if (tail == NIL) {
      tail = slot;
    }
  }

  /** Forgets every block (new weights make every cached block useless). */
  public void clear() {
    slotOf.clear();
    size = 0;
    head = NIL;
    tail = NIL;
  }

  /** Blocks currently cached. */
  public int size() {
    return size;
  }

  /** Blocks evicted so far. */
  public long evictions() {
    return evictions;
  }
}
