package io.dpcoord.routing;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The next, larger array of one of the index's arrays that grow by doubling, allocated ahead of
 * need on a helper thread.
 *
 * <p>Why: allocating an array zeroes it, and in a JVM whose heap has not yet reached that size
 * every page zeroed is a page fault. On a 2-vCPU VM a 32 MB {@code long[]} took 105 ms to allocate
 * in a fresh JVM (1 to 14 ms once its heap pages had been touched), and each of the index's last
 * doublings, which come in the first minutes of a server's life, stalled the event loop for that
 * long (docs/PERFORMANCE.md, "Growing without stalls"). {@link #prepare} asks the helper for the
 * array while the loop goes on, and {@link #grow} hands it over (waiting for it if it is not ready
 * yet, which is never longer than allocating it there). Arrays of under {@link #AHEAD} longs are
 * allocated on the spot. An owner that knows the largest array it will need can ask for that one
 * too ({@link #prepareFull}, the index with {@code preallocate}): its first growth after it is
 * ready goes straight to it.
 */
final class SpareArray {
  /**
   * Arrays from this many longs (32 KiB) up are allocated ahead: in a fresh JVM even a 512 KiB one
   * cost the loop 5 ms.
   */
  static final int AHEAD = 1 << 12;

  // one daemon thread for every index of the process
  private static final ExecutorService HELPER =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "coordinator-index-allocator");
            t.setDaemon(true);
            return t;
          });

  static {
    // started with the first index (over 10 ms, cold), not in the request that first grows one
    HELPER.execute(() -> {});
  }

  private Future<long[]> spare;
  private int spareLength;
  // the largest array the owner will grow to, allocated ahead once (prepareFull)
  private Future<long[]> full;
  private int fullLength;

  /** Starts allocating a zeroed array of {@code length} longs, unless it is small or on its way. */
  void prepare(int length) {
    if (length < AHEAD || (spare != null && spareLength == length)) {
      return;
    }
    if (spare != null) {
      spare.cancel(false);
    }
    spareLength = length;
    spare = HELPER.submit(() -> new long[length]);
  }

  /**
   * Starts allocating the largest array the owner will grow to, {@code length} longs (unless it is
   * small): the first {@link #next} after it is ready hands it over instead of a doubled one.
   */
  void prepareFull(int length) {
    if (length >= AHEAD) {
      fullLength = length;
      full = HELPER.submit(() -> new long[length]);
    }
  }

  /**
   * Lets the prepared arrays go (they may never be needed); the next {@link #grow} allocates anew.
   */
  void release() {
    releaseSpare();
    releaseFull();
  }

  private void releaseSpare() {
    if (spare != null) {
      spare.cancel(false);
      spare = null;
    }
  }

  private void releaseFull() {
    if (full != null) {
      full.cancel(false);
      full = null;
    }
  }

  /** Whether an array is prepared (ready or on its way) and not yet taken or released. */
  boolean held() {
    return spare != null || full != null;
  }

  /** Whether the largest array ({@link #prepareFull}) is prepared and not yet taken or let go. */
  boolean fullHeld() {
    return full != null;
  }

  /** Whether the largest array, if prepared, is allocated (or failed to be). */
  boolean fullReady() {
    return full == null || full.isDone();
  }

  /** Whether a prepared array is ready to be handed over. */
  boolean ready() {
    return spare != null && spare.isDone() && !spare.isCancelled();
  }

  /**
   * A zeroed array of {@code length} longs: the prepared one if it has that length (waiting for the
   * rest of its allocation, which is never longer than a new one's), else a new one.
   */
  long[] take(int length) {
    Future<long[]> f = spare;
    boolean usable = f != null && !f.isCancelled() && spareLength == length;
    spare = null;
    if (usable) {
      try {
        return f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException e) {
        // out of memory on the helper: try again here, where it is reported as usual
      }
    } else if (f != null) {
      f.cancel(false);
    }
    return new long[length];
  }

  /**
   * The array to follow one of {@code current} longs: the largest one ({@link #prepareFull}) if it
   * is ready and longer, the prepared one then let go; else {@link #take}{@code (length)}, and the
   * largest one is let go once the arrays reach its length without it.
   */
  long[] next(int current, int length) {
    if (full != null && fullLength > current && full.isDone() && !full.isCancelled()) {
      try {
        long[] f = full.get();
        full = null;
        releaseSpare();
        return f;
      } catch (ExecutionException | InterruptedException e) {
        full = null; // out of memory on the helper (done, so get() did not wait): go on doubling
      }
    }
    long[] next = take(length);
    if (full != null && next.length >= fullLength) {
      releaseFull();
    }
    return next;
  }

  /** {@code old} copied into the array that follows it ({@link #next}). */
  long[] grow(long[] old, int length) {
    long[] grown = next(old.length, length);
    System.arraycopy(old, 0, grown, 0, Math.min(old.length, grown.length));
    return grown;
  }
}
