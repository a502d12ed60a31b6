package io.dpcoord.routing;

import java.util.Arrays;

/**
 * The prefix index: block hash to the engines that were sent it, each with the assignment stamp of
 * its last write. Bounded, with least-recently-assigned eviction. Used only by {@link Router}.
 */
final class PrefixIndex {
  /*
   * Design notes.
   *
   * Three structures, all primitive arrays, so lookups and updates neither box nor allocate once
   * the arrays have grown to their working size:
   *
   * 1. A hash table from block hash to entry slot: open addressing with linear probing over a
   *    power-of-two table kept at most half full, deletion by backward shift (Knuth, TAOCP vol. 3,
   *    6.4, Algorithm R), so there are no tombstones and probe chains never degrade. Block hashes
   *    are SHA-256 derived and already uniform, but callers (and tests) may use small integers,
   *    so the slot is taken from the high bits of a Fibonacci multiplication.
   *
   * 2. Entry slots (one per tracked hash) threaded on an intrusive doubly linked list in
   *    assignment order. A write moves the entry to the tail; when the index is full a new hash
   *    takes the head's slot. Both are O(1), and the index never holds more than `capacity`
   *    hashes however many distinct ones pass.
   *
   * 3. Owner nodes from a pool with a free list: each entry heads a singly linked list of
   *    (engine id, stamp, write time) nodes, at most one per engine id. A write moves the
   *    writer's node to the front, because the engine routed to is usually the one that wrote
   *    last, so the walk to find it is short.
   *
   * Staleness is not the index's business: the router's predicate says whether a node is stale
   * (engine gone, older than the epoch, past its TTL). Whoever walks an owner list drops the
   * stale nodes it meets, and an entry left without owners is deleted, so removing an engine
   * never costs a scan of the index.
   */

  /** Says whether an owner node no longer describes an engine's cache. */
  interface Staleness {
    boolean isStale(int engine, long stamp, long writtenNanos);
  }

  private static final int NONE = -1;
  private static final long FIBONACCI = 0x9E3779B97F4A7C15L;
  private static final int MIN_TABLE = 16;

  private final int capacity;
  private final int maxTable;
  private final Staleness staleness;

  // hash -> entry slot; tableSlot holds entry + 1 so that 0 marks an empty cell
  private long[] tableKey;
  private int[] tableSlot;
  private int tableShift;
  private int size;

  // entries
  private long[] entryHash;
  private int[] entryHead;
  private int[] lruPrev;
  private int[] lruNext;
  private int lruHead = NONE;
  private int lruTail = NONE;
  private int freeEntry = NONE;
  private int entriesTouched;

  // owner nodes
  private int[] nodeEngine;
  private long[] nodeStamp;
  private long[] nodeNanos;
  private int[] nodeNext;
  private int freeNode = NONE;
  private int nodesTouched;

  private long evicted;
  private long purged;
  private boolean staleSeen;

  PrefixIndex(int capacity, Staleness staleness) {
    this.capacity = capacity;
    this.staleness = staleness;
    this.maxTable = Math.max(MIN_TABLE, Integer.highestOneBit(capacity - 1 | 1) << 2);
    allocateTable(MIN_TABLE);
    int entries = Math.min(capacity, MIN_TABLE);
    entryHash = new long[entries];
    entryHead = new int[entries];
    lruPrev = new int[entries];
    lruNext = new int[entries];
    nodeEngine = new int[MIN_TABLE];
    nodeStamp = new long[MIN_TABLE];
    nodeNanos = new long[MIN_TABLE];
    nodeNext = new int[MIN_TABLE];
  }

  /** Tracked block hashes. */
  int size() {
    return size;
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
    return entryHash.length;
  }

  /** Owner nodes allocated (the pool grows to the most owners live at once). */
  int allocatedNodes() {
    return nodeNext.length;
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
    int mask = tableKey.length - 1;
    for (int i = home(hash); ; i = (i + 1) & mask) {
      int s = tableSlot[i];
      if (s == 0) {
        return NONE;
      }
      if (tableKey[i] == hash) {
        return s - 1;
      }
    }
  }

  /**
   * Copies the fresh owners of {@code entry} into {@code engines} and {@code stamps} (which must
   * hold one place per engine id in use) and returns how many there are; stale owners are dropped,
   * and an entry left with none is deleted.
   */
  int collectOwners(int entry, int[] engines, long[] stamps) {
    int count = 0;
    int prev = NONE;
    int n = entryHead[entry];
    while (n != NONE) {
      int next = nodeNext[n];
      if (staleness.isStale(nodeEngine[n], nodeStamp[n], nodeNanos[n])) {
        unlinkNode(entry, prev, n);
      } else {
        engines[count] = nodeEngine[n];
        stamps[count] = nodeStamp[n];
        count++;
        prev = n;
      }
      n = next;
    }
    if (entryHead[entry] == NONE) {
      deleteEntry(entry);
    }
    return count;
  }

  /**
   * Records that {@code engine} was sent {@code hash} at assignment {@code stamp}: the engine's
   * node is updated or added and the entry becomes the most recently assigned. A new hash in a full
   * index evicts the least recently assigned one.
   */
  void assign(long hash, int engine, long stamp, long nanos) {
    int entry = lookup(hash);
    if (entry == NONE) {
      entry = newEntry(hash);
    } else {
      moveToTail(entry);
    }
    int prev = NONE;
    int n = entryHead[entry];
    while (n != NONE) {
      int next = nodeNext[n];
      if (nodeEngine[n] == engine) {
        nodeStamp[n] = stamp;
        nodeNanos[n] = nanos;
        if (prev != NONE) {
          nodeNext[prev] = next;
          nodeNext[n] = entryHead[entry];
          entryHead[entry] = n;
        }
        return;
      }
      if (staleness.isStale(nodeEngine[n], nodeStamp[n], nodeNanos[n])) {
        unlinkNode(entry, prev, n);
      } else {
        prev = n;
      }
      n = next;
    }
    int node = newNode();
    nodeEngine[node] = engine;
    nodeStamp[node] = stamp;
    nodeNanos[node] = nanos;
    nodeNext[node] = entryHead[entry];
    entryHead[entry] = node;
  }

  // ---- owner nodes ----

  private void unlinkNode(int entry, int prev, int n) {
    if (prev == NONE) {
      entryHead[entry] = nodeNext[n];
    } else {
      nodeNext[prev] = nodeNext[n];
    }
    nodeNext[n] = freeNode;
    freeNode = n;
    purged++;
    staleSeen = true;
  }

  private int newNode() {
    if (freeNode != NONE) {
      int n = freeNode;
      freeNode = nodeNext[n];
      return n;
    }
    if (nodesTouched == nodeNext.length) {
      int grown = nodeNext.length << 1;
      nodeEngine = Arrays.copyOf(nodeEngine, grown);
      nodeStamp = Arrays.copyOf(nodeStamp, grown);
      nodeNanos = Arrays.copyOf(nodeNanos, grown);
      nodeNext = Arrays.copyOf(nodeNext, grown);
    }
    return nodesTouched++;
  }

  private void freeNodes(int entry) {
    int n = entryHead[entry];
    while (n != NONE) {
      int next = nodeNext[n];
      nodeNext[n] = freeNode;
      freeNode = n;
      n = next;
    }
    entryHead[entry] = NONE;
  }

  // ---- entries ----

  private int newEntry(long hash) {
    int entry;
    if (size == capacity) {
      entry = lruHead;
      tableDelete(entryHash[entry]);
      unlinkLru(entry);
      freeNodes(entry);
      size--;
      evicted++;
    } else if (freeEntry != NONE) {
      entry = freeEntry;
      freeEntry = lruNext[entry];
    } else {
      if (entriesTouched == entryHash.length) {
        int grown = (int) Math.min((long) capacity, (long) entryHash.length << 1);
        entryHash = Arrays.copyOf(entryHash, grown);
        entryHead = Arrays.copyOf(entryHead, grown);
        lruPrev = Arrays.copyOf(lruPrev, grown);
        lruNext = Arrays.copyOf(lruNext, grown);
      }
      entry = entriesTouched++;
    }
    entryHash[entry] = hash;
    entryHead[entry] = NONE;
    linkLruTail(entry);
    size++;
    tableInsert(hash, entry);
    return entry;
  }

  private void deleteEntry(int entry) {
    tableDelete(entryHash[entry]);
    unlinkLru(entry);
    size--;
    lruNext[entry] = freeEntry;
    freeEntry = entry;
  }

  private void moveToTail(int entry) {
    if (entry != lruTail) {
      unlinkLru(entry);
      linkLruTail(entry);
    }
  }

  private void linkLruTail(int entry) {
    lruPrev[entry] = lruTail;
    lruNext[entry] = NONE;
    if (lruTail == NONE) {
      lruHead = entry;
    } else {
      lruNext[lruTail] = entry;
    }
    lruTail = entry;
  }

  private void unlinkLru(int entry) {
    int p = lruPrev[entry];
    int n = lruNext[entry];
    if (p == NONE) {
      lruHead = n;
    } else {
      lruNext[p] = n;
    }
    if (n == NONE) {
      lruTail = p;
    } else {
      lruPrev[n] = p;
    }
  }

  // ---- hash table ----

  private int home(long hash) {
    return (int) ((hash * FIBONACCI) >>> tableShift);
  }

  private void allocateTable(int length) {
    tableKey = new long[length];
    tableSlot = new int[length];
    tableShift = 64 - Integer.numberOfTrailingZeros(length);
  }

  private void tableInsert(long hash, int entry) {
    if ((size << 1) > tableKey.length && tableKey.length < maxTable) {
      rehash(tableKey.length << 1);
    }
    int mask = tableKey.length - 1;
    int i = home(hash);
    while (tableSlot[i] != 0) {
      i = (i + 1) & mask;
    }
    tableKey[i] = hash;
    tableSlot[i] = entry + 1;
  }

  private void rehash(int length) {
    long[] oldKey = tableKey;
    int[] oldSlot = tableSlot;
    allocateTable(length);
    int mask = length - 1;
    for (int j = 0; j < oldKey.length; j++) {
      if (oldSlot[j] != 0) {
        int i = home(oldKey[j]);
        while (tableSlot[i] != 0) {
          i = (i + 1) & mask;
        }
        tableKey[i] = oldKey[j];
        tableSlot[i] = oldSlot[j];
      }
    }
  }

  private void tableDelete(long hash) {
    int mask = tableKey.length - 1;
    int i = home(hash);
    while (tableSlot[i] == 0 || tableKey[i] != hash) {
      if (tableSlot[i] == 0) {
        return;
      }
      i = (i + 1) & mask;
    }
    // Backward shift: pull later members of the probe run into the hole when their home
    // position does not lie cyclically in (hole, their position].
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      if (tableSlot[j] == 0) {
        tableSlot[i] = 0;
        return;
      }
      int k = home(tableKey[j]);
      boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        tableKey[i] = tableKey[j];
        tableSlot[i] = tableSlot[j];
        i = j;
      }
    }
  }
}
