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
 * allocated on the spot.
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

  /** Lets a prepared array go (it may never be needed); the next {@link #grow} allocates anew. */
  void release() {
    if (spare != null) {
      spare.cancel(false);
      spare = null;
    }
  }

  /** Whether an array is prepared (ready or on its way) and not yet taken or released. */
  boolean held() {
    return spare != null;
  }

  /** Whether a prepared array is ready to be handed over. */
  boolean ready() {
    return spare != null && spare.isDone() && !spare.isCancelled();
  }

  /**
   * Whether the prepared array has {@code length} longs and is ready to be handed over; one whose
   * allocation failed (out of memory on the helper) is let go, and this stays false.
   */
  boolean readyFor(int length) {
    if (spare == null || spareLength != length || !spare.isDone() || spare.isCancelled()) {
      return false;
    }
    try {
      spare.get();
      return true;
    } catch (ExecutionException | InterruptedException e) {
      spare = null; // done, so get() did not wait: it failed
      return false;
    }
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

  /** {@code old} copied into an array of {@code length} longs from {@link #take}. */
  long[] grow(long[] old, int length) {
    long[] grown = take(length);
    System.arraycopy(old, 0, grown, 0, Math.min(old.length, length));
    return grown;
  }
}
