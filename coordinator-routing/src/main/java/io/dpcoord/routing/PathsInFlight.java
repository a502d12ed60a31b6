package io.dpcoord.routing;

import java.util.Arrays;

/**
 * The requests in flight on one engine, each as the block hashes it was committed with, and the
 * number of distinct blocks among them (the blocks in flight that dynamo and llm_d weigh).
 */
final class PathsInFlight {
  /*
   * Design notes.
   *
   * Block hashes are chained: a block's hash covers every block before it in its prompt. So two
   * requests share a block hash exactly when they share the prompt up to that block, and the
   * distinct hashes of the requests in flight are the distinct prefixes of their hash sequences,
   * the nodes of their trie. With the sequences sorted lexicographically, that count is the sum
   * of their lengths less the common prefix of each adjacent pair. Inserting s between p and q
   * changes it by |s| - lcp(p, s) - lcp(s, q) + lcp(p, q), and lcp(p, q) is the smaller of the
   * other two, so it adds |s| - max(lcp(p, s), lcp(s, q)); removing s takes as much away.
   *
   * Each commit and completion is then a binary search (log k comparisons, each an
   * Arrays.mismatch, which the JDK vectorises) and an arraycopy of k references, for k requests in
   * flight on the engine, instead of a hash-table update for every block in two tables far larger
   * than the caches (a multiset of hashes per engine, until 2026-12-02; PERFORMANCE.md). A
   * completion whose hashes match no request in flight changes nothing. The sequences are copies
   * (the caller reuses its buffer), in arrays pooled by power-of-two length.
   */

  private final Pool pool;
  private long[][] paths = new long[8][];
  private int[] lengths = new int[8];
  private int size;
  private long distinct;

  PathsInFlight(Pool pool) {
    this.pool = pool;
  }

  /** The distinct block hashes of the requests in flight. */
  long distinct() {
    return distinct;
  }

  /** A request of {@code hashes[0..count)} is in flight. */
  void add(long[] hashes, int count) {
    if (count == 0) {
      return;
    }
    int at = search(hashes, count);
    int pos = at < 0 ? -at - 1 : at;
    distinct += count - sharedWithNeighbours(hashes, count, pos - 1, pos);
    if (size == paths.length) {
      paths = Arrays.copyOf(paths, size * 2);
      lengths = Arrays.copyOf(lengths, size * 2);
    }
    System.arraycopy(paths, pos, paths, pos + 1, size - pos);
    System.arraycopy(lengths, pos, lengths, pos + 1, size - pos);
    long[] copy = pool.take(count);
    System.arraycopy(hashes, 0, copy, 0, count);
    paths[pos] = copy;
    lengths[pos] = count;
    size++;
  }

  /** A request of {@code hashes[0..count)} is done; nothing if none such is in flight. */
  void remove(long[] hashes, int count) {
    if (count == 0) {
      return;
    }
    int pos = search(hashes, count);
    if (pos < 0) {
      return;
    }
    distinct -= count - sharedWithNeighbours(hashes, count, pos - 1, pos + 1);
    pool.give(paths[pos]);
    System.arraycopy(paths, pos + 1, paths, pos, size - pos - 1);
    System.arraycopy(lengths, pos + 1, lengths, pos, size - pos - 1);
    paths[--size] = null;
  }

  /**
   * The longer common prefix of the sequence with the paths at {@code before} and {@code after}.
   */
  private int sharedWithNeighbours(long[] hashes, int count, int before, int after) {
    int shared = before >= 0 ? commonPrefix(hashes, count, before) : 0;
    return after < size ? Math.max(shared, commonPrefix(hashes, count, after)) : shared;
  }

  private int commonPrefix(long[] hashes, int count, int path) {
    int i = Arrays.mismatch(hashes, 0, count, paths[path], 0, lengths[path]);
    return i < 0 ? count : i;
  }

  /**
   * The index of a path equal to the sequence, or -(insertion point) - 1 (as Arrays.binarySearch).
   */
  private int search(long[] hashes, int count) {
    int lo = 0;
    int hi = size - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = compare(paths[mid], lengths[mid], hashes, count);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -(lo + 1);
  }

  /** Lexicographic order of hash sequences (a prefix first; hashes as signed longs). */
  private static int compare(long[] a, int aCount, long[] b, int bCount) {
    int i = Arrays.mismatch(a, 0, aCount, b, 0, bCount);
    if (i < 0) {
      return 0;
    }
    return i < Math.min(aCount, bCount) ? Long.compare(a[i], b[i]) : aCount - bCount;
  }

  /** Arrays of power-of-two lengths, taken and given back, shared by every engine's paths. */
  static final class Pool {
    private final long[][][] free = new long[32][][];
    private final int[] freeCount = new int[32];

    /** An array of at least {@code count} (at least 1) longs. */
    long[] take(int count) {
      int k = 32 - Integer.numberOfLeadingZeros(count - 1);
      if (freeCount[k] == 0) {
        return new long[1 << k];
      }
      long[] a = free[k][--freeCount[k]];
      free[k][freeCount[k]] = null;
      return a;
    }

    void give(long[] a) {
      int k = Integer.numberOfTrailingZeros(a.length);
      if (free[k] == null) {
        free[k] = new long[8][];
      } else if (freeCount[k] == free[k].length) {
        free[k] = Arrays.copyOf(free[k], freeCount[k] * 2);
      }
      free[k][freeCount[k]++] = a;
    }
  }
}
