package io.dpcoord.server;

import org.agrona.collections.LongHashSet;

/**
 * The requests answered FAILED for the request timeout whose engines may still reply: their replies
 * are late, dropped and counted as such rather than as invalid.
 *
 * <p>Bounded: an engine that never replies (it hung, or it cannot abort and is slow) would
 * otherwise keep its ids here for ever. The ids go into a ring of {@link #CAPACITY} in the order
 * they timed out; when it is full, the oldest id is forgotten, and a reply for it later counts as
 * an ordinary reply for a request that is not pending. A request's terminal reply takes its id out
 * at once. No allocation per id: a primitive set (Agrona) and a {@code long[]} ring.
 */
final class TimedOutRequests {
  /** Ids remembered at most: a 512 KiB ring, 10 s of timeouts at 6,000 requests a second. */
  static final int CAPACITY = 1 << 16;

  private final long[] ring;
  private final LongHashSet ids;
  private int next;
  private boolean full;

  TimedOutRequests() {
    this(CAPACITY);
  }

  TimedOutRequests(int capacity) {
    ring = new long[capacity];
    ids = new LongHashSet(Math.min(capacity, 1024));
  }

  /** Remembers that {@code requestId} was answered FAILED while its engine still had it. */
  void add(long requestId) {
    if (full) {
      ids.remove(ring[next]);
    }
    ring[next] = requestId;
    ids.add(requestId);
    next = (next + 1) % ring.length;
    full |= next == 0;
  }

  /**
   * Whether a reply for {@code requestId} is late (its request timed out); a terminal reply ({@code
   * last}) also forgets the id, as its engine will send nothing more for it.
   */
  boolean late(long requestId, boolean last) {
    return last ? ids.remove(requestId) : ids.contains(requestId);
  }

  /** Ids remembered. */
  int size() {
    return ids.size();
  }
}
