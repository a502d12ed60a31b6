package io.dpcoord.routing;

import java.util.Arrays;

/**
 * The prefix index as it was before cells held their entries: hash table, entry array and owner
 * nodes apart, linked by slot numbers. Tests compare {@link PrefixIndex} with it operation by
 * operation.
 */
final class LinkedPrefixIndex {
  private static final int NONE = -1;
  private static final int MIN_LENGTH = 16;

  // entry fields, ENTRY longs apart
  private static final int ENTRY = 4;
  private static final int HASH = 0;
  private static final int HEAD = 1;
  private static final int PREV = 2;
  private static final int NEXT = 3;

  // owner node fields, NODE longs apart
  private static final int NODE = 4;
  private static final int ENGINE = 0;
  private static final int LINK = 1;
  private static final int STAMP = 2;
  private static final int WRITTEN = 3;

  private final int capacity;
  private final PrefixIndex.Staleness staleness;
  private final LongIntTable hashes;

  private long[] entries;
  private int lruHead = NONE;
  private int lruTail = NONE;
  private int freeEntry = NONE;
  private int entriesTouched;

  private long[] nodes;
  private int freeNode = NONE;
  private int nodesTouched;

  private long evicted;
  private long purged;
  private boolean staleSeen;

  LinkedPrefixIndex(int capacity, PrefixIndex.Staleness staleness) {
    this.capacity = capacity;
    this.staleness = staleness;
    int maxHashTable = Math.max(MIN_LENGTH, Integer.highestOneBit(capacity - 1 | 1) << 2);
    this.hashes = new LongIntTable(MIN_LENGTH, maxHashTable);
    int initial = Math.min(capacity, MIN_LENGTH);
    entries = new long[initial * ENTRY];
    nodes = new long[MIN_LENGTH * NODE];
  }

  /** Tracked block hashes. */
  int size() {
    return hashes.size();
  }

  /** Hashes evicted to stay within capacity. */
  long evicted() {
    return evicted;
  }

  /** Stale owner nodes dropped. */
  long purged() {
    return purged;
  }

  /** Entry slots allocated (they never exceed the capacity). */
  int allocatedEntries() {
    return entries.length / ENTRY;
  }

  /** Owner nodes allocated (the pool grows to the most owners live at once). */
  int allocatedNodes() {
    return nodes.length / NODE;
  }

  /** Clears the stale-seen flag; call before the owner walks of one decision. */
  void resetStaleSeen() {
    staleSeen = false;
  }

  /** Whether an owner walk since {@link #resetStaleSeen()} dropped a stale node. */
  boolean staleSeen() {
    return staleSeen;
  }

  /** The entry slot of {@code hash}, or -1 if it is not tracked. */
  int lookup(long hash) {
    return hashes.get(hash);
  }

  /**
   * Copies the fresh owners of {@code entry} into {@code engines} and {@code stamps} (which must
   * hold one place per engine id in use) and returns how many there are; stale owners are dropped,
   * and an entry left with none is deleted.
   */
  int collectOwners(int entry, int[] engines, long[] stamps) {
    int count = 0;
    int prev = NONE;
    int n = field(entries, entry * ENTRY + HEAD);
    while (n != NONE) {
      int at = n * NODE;
      int engine = (int) nodes[at + ENGINE];
      int next = (int) nodes[at + LINK];
      long stamp = nodes[at + STAMP];
      if (staleness.isStale(engine, stamp, nodes[at + WRITTEN])) {
        if (prev == NONE) {
          entries[entry * ENTRY + HEAD] = next;
        } else {
          nodes[prev * NODE + LINK] = next;
        }
        freeNode(n);
        purged++;
        staleSeen = true;
      } else {
        engines[count] = engine;
        stamps[count] = stamp;
        count++;
        prev = n;
      }
      n = next;
    }
    if (field(entries, entry * ENTRY + HEAD) == NONE) {
      hashes.remove(entries[entry * ENTRY + HASH]);
      unlinkLru(entry);
      entries[entry * ENTRY + NEXT] = freeEntry;
      freeEntry = entry;
    }
    return count;
  }

  /**
   * Records that {@code engine} was sent {@code hash} at assignment {@code stamp}: the engine's
   * node is updated or added and the entry becomes the most recently assigned. A new hash in a full
   * index evicts the least recently assigned one.
   */
  void assign(long hash, int engine, long stamp, long nanos) {
    int entry = hashes.get(hash);
    if (entry == NONE) {
      entry = newEntry(hash);
    } else if (entry != lruTail) {
      unlinkLru(entry);
      linkLruTail(entry);
    }
    int head = field(entries, entry * ENTRY + HEAD);
    int prev = NONE;
    for (int n = head; n != NONE; ) {
      int at = n * NODE;
      int next = (int) nodes[at + LINK];
      if (nodes[at + ENGINE] == engine) {
        nodes[at + STAMP] = stamp;
        nodes[at + WRITTEN] = nanos;
        if (prev != NONE) {
          nodes[prev * NODE + LINK] = next;
          nodes[at + LINK] = head;
          entries[entry * ENTRY + HEAD] = n;
        }
        return;
      }
      if (staleness.isStale((int) nodes[at + ENGINE], nodes[at + STAMP], nodes[at + WRITTEN])) {
        if (prev == NONE) {
          head = next;
          entries[entry * ENTRY + HEAD] = next;
        } else {
          nodes[prev * NODE + LINK] = next;
        }
        freeNode(n);
        purged++;
      } else {
        prev = n;
      }
      n = next;
    }
    int node = newNode();
    nodes[node * NODE + ENGINE] = engine;
    nodes[node * NODE + LINK] = head;
    nodes[node * NODE + STAMP] = stamp;
    nodes[node * NODE + WRITTEN] = nanos;
    entries[entry * ENTRY + HEAD] = node;
  }

  private static int field(long[] array, int index) {
    return (int) array[index];
  }

  // ---- owner nodes ----

  private int newNode() {
    if (freeNode != NONE) {
      int n = freeNode;
      freeNode = field(nodes, n * NODE + LINK);
      return n;
    }
    if (nodesTouched * NODE == nodes.length) {
      nodes = Arrays.copyOf(nodes, nodes.length * 2);
    }
    return nodesTouched++;
  }

  private void freeNode(int n) {
    nodes[n * NODE + LINK] = freeNode;
    freeNode = n;
  }

  // ---- entries ----

  private int newEntry(long hash) {
    int entry;
    if (hashes.size() == capacity) {
      entry = evictHead();
    } else if (freeEntry != NONE) {
      entry = freeEntry;
      freeEntry = field(entries, entry * ENTRY + NEXT);
    } else {
      if (entriesTouched * ENTRY == entries.length) {
        long grown = Math.min((long) capacity, (long) entriesTouched * 2);
        entries = Arrays.copyOf(entries, (int) grown * ENTRY);
      }
      entry = entriesTouched++;
    }
    entries[entry * ENTRY + HASH] = hash;
    entries[entry * ENTRY + HEAD] = NONE;
    linkLruTail(entry);
    hashes.insert(hash, entry);
    return entry;
  }

  /** Frees the least recently assigned entry and its owners; returns its slot for reuse. */
  private int evictHead() {
    int entry = lruHead;
    hashes.remove(entries[entry * ENTRY + HASH]);
    unlinkLru(entry);
    int n = field(entries, entry * ENTRY + HEAD);
    while (n != NONE) {
      int next = field(nodes, n * NODE + LINK);
      freeNode(n);
      n = next;
    }
    evicted++;
    return entry;
  }

  private void linkLruTail(int entry) {
    entries[entry * ENTRY + PREV] = lruTail;
    entries[entry * ENTRY + NEXT] = NONE;
    if (lruTail == NONE) {
      lruHead = entry;
    } else {
      entries[lruTail * ENTRY + NEXT] = entry;
    }
    lruTail = entry;
  }

  private void unlinkLru(int entry) {
    int p = field(entries, entry * ENTRY + PREV);
    int n = field(entries, entry * ENTRY + NEXT);
    if (p == NONE) {
      lruHead = n;
    } else {
      entries[p * ENTRY + NEXT] = n;
    }
    if (n == NONE) {
      lruTail = p;
    } else {
      entries[n * ENTRY + PREV] = p;
    }
  }
}
