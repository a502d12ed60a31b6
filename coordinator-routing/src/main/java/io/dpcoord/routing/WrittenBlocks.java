package io.dpcoord.routing;

import java.util.Arrays;

/**
 * Engine feedback's clock: per engine, how many blocks were sent to it since a given assignment
 * stamp. An engine that evicts least recently used blocks first drops a block once enough newer
 * ones have come in, so this count, not the fleet-wide assignment counter, says how old a block is
 * to that engine's cache. Used only by {@link Router}, and only with feedback on.
 */
final class WrittenBlocks {
  /*
   * Design notes.
   *
   * Each engine keeps a running total of the blocks committed to it and a ring of the last RING
   * (stamp, total after that commit) pairs, stamps ascending. The age of an entry stamped s on
   * engine e is total[e] minus the total at the commit that wrote s, found by binary search in
   * the ring. An entry older than the ring gets the age of the ring's oldest commit: a lower
   * bound, so it is never called stale on a guess. RING commits to one engine are far more than a
   * cache holds in the workloads measured (a 512-block cache fills in tens of commits), and the
   * ring costs 16 bytes per slot per engine, allocated when the engine first gets a request.
   */
  private static final int RING = 1024;

  private long[] total = new long[8];
  private long[][] stamps = new long[8][];
  private long[][] totals = new long[8][];
  private int[] size = new int[8];
  private int[] head = new int[8];

  /** Records that the commit stamped {@code stamp} sent {@code blocks} blocks to {@code engine}. */
  void record(int engine, long stamp, int blocks) {
    grow(engine);
    if (stamps[engine] == null) {
      stamps[engine] = new long[RING];
      totals[engine] = new long[RING];
    }
    total[engine] += blocks;
    int slot = (head[engine] + size[engine]) % RING;
    if (size[engine] == RING) {
      head[engine] = (head[engine] + 1) % RING;
    } else {
      size[engine]++;
    }
    stamps[engine][slot] = stamp;
    totals[engine][slot] = total[engine];
  }

  /** Blocks sent to {@code engine} by the commits after the one stamped {@code stamp}. */
  long since(int engine, long stamp) {
    if (engine >= size.length || size[engine] == 0) {
      return 0;
    }
    long[] s = stamps[engine];
    int h = head[engine];
    // the last commit whose stamp is at most `stamp`, in logical order 0..size-1
    int lo = 0;
    int hi = size[engine] - 1;
    if (s[h] > stamp) {
      return total[engine] - totals[engine][h];
    }
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (s[(h + mid) % RING] <= stamp) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return total[engine] - totals[engine][(h + lo) % RING];
  }

  /**
   * The greatest stamp whose entries on {@code engine} are more than {@code limit} blocks old by
   * {@link #since}, or 0 if none is: an entry is that old exactly when its stamp is at most this.
   */
  long staleThrough(int engine, long limit) {
    if (engine >= size.length || size[engine] == 0) {
      return 0;
    }
    long[] s = stamps[engine];
    long[] t = totals[engine];
    int h = head[engine];
    // the last commit k, in logical order, with total - totals[k] > limit (totals ascend)
    int lo = -1;
    int hi = size[engine] - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (total[engine] - t[(h + mid) % RING] > limit) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    if (lo < 0) {
      return 0;
    }
    // every stamp before the next commit's maps to k or earlier; the last commit is 0 old
    return s[(h + lo + 1) % RING] - 1;
  }

  private void grow(int engine) {
    if (engine >= size.length) {
      int n = Math.max(engine + 1, size.length * 2);
      total = Arrays.copyOf(total, n);
      stamps = Arrays.copyOf(stamps, n);
      totals = Arrays.copyOf(totals, n);
      size = Arrays.copyOf(size, n);
      head = Arrays.copyOf(head, n);
    }
  }
}
