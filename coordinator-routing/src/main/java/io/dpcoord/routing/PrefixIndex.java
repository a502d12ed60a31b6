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
   * Everything lives in primitive arrays that grow by doubling to their working size and are then
   * reused, so lookups and updates neither box nor allocate in steady state. Each doubled array is
   * allocated ahead on a helper thread (SpareArray), and the hash table moves its keys over a few
   * at a time (LongIntTable), so that growing does not stall the loop.
   *
   * 1. `hashes`: block hash -> entry slot (LongIntTable: open addressing, backward-shift delete).
   *
   * 2. Entry slots, one per tracked hash, packed four longs apart (hash, owner list head, LRU
   *    previous, LRU next) so that one cache line holds an entry. The slots are threaded on an
   *    intrusive doubly linked list in assignment order: a write moves its entry to the tail, a
   *    new hash in a full index takes the head's slot. Both O(1); the index never holds more than
   *    `capacity` hashes however many distinct ones pass.
   *
   * 3. Owner nodes from a pool with a free list, packed like entries: each entry heads a singly
   *    linked list of (engine id, next, stamp, write time) nodes, at most one per engine id. A
   *    write moves the writer's node to the front, because the engine a prefix is routed to is
   *    usually the one that wrote it last, so the walk to find it is short; the walk is bounded by
   *    the engines that share the hash. (A side table from (entry, engine) to node made writes
   *    O(1) but measured no faster on RoutingDecisionBenchmark, and at 1M hashes it needs about
   *    64 MB of its own. Tried again for the policies beyond Megatron's, whose writers are often
   *    far down lists of many owners: it halved dynamo's decision at 64 ranks, but its probe is a
   *    cache miss per write, and every other policy and shape became 2 to 5 times slower.)
   *
   * 4. Owner masks, for the forward walk of the policies beyond Megatron's (FleetWalk), which
   *    needs to know which engines own each hash, not their stamps. The mask has MASK_WORDS (2)
   *    words: engine id e below 127 has bit e % 64 of word e / 64, set while e has a node there,
   *    stale or not; the top bit of the last word (HIGH_IDS) stands for every id from 127 up, so
   *    it is set while one of them may have a node. Every change of an owner list keeps the mask:
   *    a new node sets its bit, a node dropped by assign clears it (HIGH_IDS excepted),
   *    collectOwners recomputes it from the nodes it keeps, and a reused slot starts at 0. The
   *    oldest stamp and write time are lower bounds over the entry's nodes (a new node can only
   *    lower them; a rewrite or a drop leaves them, still bounds), made exact again by every
   *    collectOwners; with them the walk tells, without reading a node, that an entry has no
   *    stale owner. A walk over the masks is one word per
   *    hash instead of one node per owner: dynamo at 64 ranks had some 48 owners per hash (see
   *    PERFORMANCE.md). The four fields (two mask words, oldest stamp and write time) live in
   *    an array of their own, four longs per entry slot, kept only for those policies (32 MB at
   *    a million hashes): inside the entries they made every entry two cache lines' worth, and
   *    writes with new blocks measured 5 to 9 % slower under longest_prefix and up to 1.6 times
   *    slower under the new policies.
   *
   * Cache misses. At a million hashes every table is tens of megabytes, so what costs is the
   * number of cache lines a write touches that are not already close, and whether those misses
   * come one at a time or together.
   *
   *  - Successor hint. Entry slots are handed out in eviction order, so the hashes of one request
   *    sit in consecutive slots, and the LRU list links each to the one assigned after it. When a
   *    write moves an entry to the tail, the entry that used to follow it is kept as a guess for
   *    the next write; a commit of a request seen before then finds every entry after the first
   *    without touching the hash table: one compare against the guessed entry's hash (and its
   *    owner list, which is empty only in a free slot) replaces a lookup in a table far bigger
   *    than any cache. A wrong guess costs that compare and falls back to the lookup. The
   *    router's forward walk (policies beyond Megatron's) reads the same way, with lookupAfter:
   *    the entry after the previous hash's, then the table. (On RoutingDecisionBenchmark, 8 ranks
   *    and 64 repeated hashes, it took a decision under sglang from 4.6 to 1.5 times
   *    longest_prefix's, under llm_d from 8.5 to 4.0 times; see PERFORMANCE.md.)
   *
   *  - Eviction warm-up. The hashes to evict next are known (the head of the LRU list), but each
   *    removal needs its hash-table cell, one miss per new hash. Every WARM evictions, one loop
   *    reads the cells of the next WARM heads' hashes; the loads are independent, so the misses
   *    overlap, and the removals that follow find their cells in the cache. `warm` does the same
   *    for the router's deepest-first lookups of a request's hashes that are not tracked.
   *
   * Staleness is not the index's business: the router's predicate says whether a node is stale
   * (engine gone, older than the epoch, past its TTL). Every walk of an owner list drops the
   * stale nodes it meets (a read deletes an entry left with none); eviction frees whatever an
   * entry still holds. Removing an engine therefore never scans the index, and a stale node
   * costs memory only until its entry is next walked or evicted.
   */

  /** Says whether an owner node no longer describes an engine's cache. */
  interface Staleness {
    boolean isStale(int engine, long stamp, long writtenNanos);
  }

  private static final int NONE = -1;
  private static final int MIN_LENGTH = 16;

  /** Cache lines fetched together by the warm-ups (see the design notes). */
  static final int WARM = 16;

  // entry fields, ENTRY longs apart
  private static final int ENTRY = 4;
  private static final int HASH = 0;
  private static final int HEAD = 1;
  private static final int PREV = 2;
  private static final int NEXT = 3;

  // owner-mask fields of an entry, OWNERS longs apart in their own array (see the design notes)
  private static final int OWNERS = 4;
  private static final int MASK = 0; // MASK_WORDS longs
  private static final int OLDEST = 2;
  private static final int OLDEST_WRITTEN = 3;

  /** Words of an entry's owner mask: engine ids below 64 x MASK_WORDS - 1 have a bit each. */
  static final int MASK_WORDS = 2;

  /** The bit of the last mask word that stands for every id from 64 x MASK_WORDS - 1 up. */
  static final long HIGH_IDS = 1L << 63;

  private static final int HIGH_ID = 64 * MASK_WORDS - 1;

  // owner node fields, NODE longs apart
  private static final int NODE = 4;
  private static final int ENGINE = 0;
  private static final int LINK = 1;
  private static final int STAMP = 2;
  private static final int WRITTEN = 3;

  private final int capacity;
  private final Staleness staleness;
  private final LongIntTable hashes;

  private long[] entries;
  private long[] owners; // null unless the index keeps owner masks
  private int lruHead = NONE;
  private int lruTail = NONE;
  private int freeEntry = NONE;
  private int entriesTouched;

  private long[] nodes;
  private int freeNode = NONE;
  private int nodesTouched;

  // the next, doubled arrays, allocated ahead (SpareArray) once 3/4 of the current are in use
  private final SpareArray spareEntries = new SpareArray();
  private final SpareArray spareOwners = new SpareArray();
  private final SpareArray spareNodes = new SpareArray();

  // the entry assigned after the last assigned one, the previous time round (see assign)
  private int successor = NONE;

  // evictions left before warmHeads runs again, and the sum of its loads (so they stay)
  private int warmed;
  private long touched;

  private long evicted;
  private long purged;
  private boolean staleSeen;

  // owner nodes per engine id: how many block hashes the index believes each engine holds
  private int[] ownedBy = new int[8];

  PrefixIndex(int capacity, Staleness staleness) {
    this(capacity, staleness, false);
  }

  /** With {@code masks}, each entry also keeps its owner mask ({@link #mask}). */
  PrefixIndex(int capacity, Staleness staleness, boolean masks) {
    this.capacity = capacity;
    this.staleness = staleness;
    int maxHashTable = Math.max(MIN_LENGTH, Integer.highestOneBit(capacity - 1 | 1) << 2);
    this.hashes = new LongIntTable(MIN_LENGTH, maxHashTable);
    int initial = Math.min(capacity, MIN_LENGTH);
    entries = new long[initial * ENTRY];
    owners = masks ? new long[initial * OWNERS] : null;
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

  /**
   * How many tracked hashes name {@code engine} as an owner (stale owners included until a walk or
   * an eviction drops them).
   */
  int ownedBy(int engine) {
    return engine < ownedBy.length ? ownedBy[engine] : 0;
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

  /**
   * Reads the hash-table cells of {@code hashes[from..to)} in one loop of independent loads, so
   * that the cache misses of the lookups that follow overlap instead of coming one at a time.
   */
  void warm(long[] hashes, int from, int to) {
    long sum = 0;
    for (int i = from; i < to; i++) {
      sum += this.hashes.touch(hashes[i]);
    }
    touched = sum;
  }

  /** The entry slot of {@code hash}, or -1 if it is not tracked. */
  int lookup(long hash) {
    return hashes.get(hash);
  }

  /**
   * {@link #lookup} of the hash that follows, in a request, the one whose entry is {@code previous}
   * (or -1): the entry assigned after {@code previous} is tried first, the successor hint of {@link
   * #assign} for reads, since a request's hashes were assigned one after the other.
   */
  int lookupAfter(long hash, int previous) {
    if (previous != NONE) {
      int guess = field(entries, previous * ENTRY + NEXT);
      // a free slot keeps its old hash but has no owner list
      if (guess != NONE
          && entries[guess * ENTRY + HASH] == hash
          && entries[guess * ENTRY + HEAD] != NONE) {
        return guess;
      }
    }
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
    clearOwners(entry);
    int n = field(entries, entry * ENTRY + HEAD);
    while (n != NONE) {
      int at = n * NODE;
      int engine = (int) nodes[at + ENGINE];
      int next = (int) nodes[at + LINK];
      long stamp = nodes[at + STAMP];
      if (staleness.isStale(engine, stamp, nodes[at + WRITTEN])) {
        drop(entry, prev, n);
        staleSeen = true;
      } else {
        engines[count] = engine;
        stamps[count] = stamp;
        count++;
        prev = n;
        addOwner(entry, engine, stamp, nodes[at + WRITTEN]);
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
    int entry = successor;
    if (entry == NONE
        || entries[entry * ENTRY + HASH] != hash
        || entries[entry * ENTRY + HEAD] == NONE) {
      entry = hashes.get(hash);
    }
    successor = NONE;
    if (entry == NONE) {
      entry = newEntry(hash);
    } else if (entry != lruTail) {
      successor = field(entries, entry * ENTRY + NEXT);
      unlinkLru(entry);
      linkLruTail(entry);
    }
    if (writeInList(entry, engine, stamp, nanos)) {
      return;
    }
    int node = newNode();
    if (engine >= ownedBy.length) {
      ownedBy = Arrays.copyOf(ownedBy, Math.max(engine + 1, ownedBy.length * 2));
    }
    ownedBy[engine]++;
    nodes[node * NODE + ENGINE] = engine;
    nodes[node * NODE + LINK] = entries[entry * ENTRY + HEAD];
    nodes[node * NODE + STAMP] = stamp;
    nodes[node * NODE + WRITTEN] = nanos;
    entries[entry * ENTRY + HEAD] = node;
    addOwner(entry, engine, stamp, nanos);
  }

  /** Empties the entry's owner mask; its oldest stamp and write time become "none". */
  private void clearOwners(int entry) {
    if (owners != null) {
      Arrays.fill(owners, entry * OWNERS, entry * OWNERS + MASK_WORDS, 0);
      owners[entry * OWNERS + OLDEST] = Long.MAX_VALUE;
      owners[entry * OWNERS + OLDEST_WRITTEN] = Long.MAX_VALUE;
    }
  }

  private void addOwner(int entry, int engine, long stamp, long nanos) {
    if (owners != null) {
      int at = entry * OWNERS;
      owners[at + MASK + maskWord(engine)] |= maskBit(engine);
      owners[at + OLDEST] = Math.min(owners[at + OLDEST], stamp);
      owners[at + OLDEST_WRITTEN] = Math.min(owners[at + OLDEST_WRITTEN], nanos);
    }
  }

  /**
   * Walks the owner list of {@code entry} to {@code engine}'s node, dropping the stale nodes before
   * it; rewrites the node and moves it to the front. Returns false (having walked the whole list)
   * if the engine has none.
   */
  private boolean writeInList(int entry, int engine, long stamp, long nanos) {
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
        return true;
      }
      if (staleness.isStale((int) nodes[at + ENGINE], nodes[at + STAMP], nodes[at + WRITTEN])) {
        drop(entry, prev, n);
        if (prev == NONE) {
          head = next;
        }
      } else {
        prev = n;
      }
      n = next;
    }
    return false;
  }

  /**
   * Unlinks the stale node {@code n} (after {@code prev}, or the head) from its entry and frees it.
   */
  private void drop(int entry, int prev, int n) {
    int next = field(nodes, n * NODE + LINK);
    if (prev == NONE) {
      entries[entry * ENTRY + HEAD] = next;
    } else {
      nodes[prev * NODE + LINK] = next;
    }
    int engine = field(nodes, n * NODE + ENGINE);
    if (owners != null && engine < HIGH_ID) { // HIGH_IDS stays: another high id may be there
      owners[entry * OWNERS + MASK + maskWord(engine)] &= ~maskBit(engine);
    }
    freeNode(n);
    purged++;
  }

  /** The word of the owner mask that holds {@code engine}'s bit. */
  static int maskWord(int engine) {
    return Math.min(engine, HIGH_ID) >>> 6;
  }

  /** {@code engine}'s bit in its mask word; {@link #HIGH_IDS} for every id from 127 up. */
  static long maskBit(int engine) {
    return engine < HIGH_ID ? 1L << engine : HIGH_IDS; // a shift takes the id modulo 64
  }

  /**
   * Word {@code word} of the owner mask of {@code entry}: engine e's bit ({@link #maskBit}, in word
   * {@link #maskWord}) is set while it has a node there, stale or not; {@link #HIGH_IDS} in the
   * last word while an id from 127 up may have one (cleared only by {@link #collectOwners}).
   */
  long mask(int entry, int word) {
    return owners[entry * OWNERS + MASK + word];
  }

  /** No owner node of {@code entry} has a stamp below this (exact after {@link #collectOwners}). */
  long oldestStamp(int entry) {
    return owners[entry * OWNERS + OLDEST];
  }

  /** No owner node of {@code entry} was written before this (exact after a collectOwners). */
  long oldestWritten(int entry) {
    return owners[entry * OWNERS + OLDEST_WRITTEN];
  }

  /** The stamp of {@code engine}'s node at {@code entry}; the engine must have one there. */
  long stampOf(int entry, int engine) {
    int n = field(entries, entry * ENTRY + HEAD);
    while (nodes[n * NODE + ENGINE] != engine) {
      n = field(nodes, n * NODE + LINK);
    }
    return nodes[n * NODE + STAMP];
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
      nodes = spareNodes.grow(nodes, nodes.length * 2);
    } else if (nodesTouched * NODE == nodes.length / 4 * 3) {
      spareNodes.prepare(nodes.length * 2);
    }
    return nodesTouched++;
  }

  private void freeNode(int n) {
    ownedBy[(int) nodes[n * NODE + ENGINE]]--;
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
      int grown = (int) Math.min((long) capacity, (long) allocatedEntries() * 2);
      if (entriesTouched * ENTRY == entries.length) {
        entries = spareEntries.grow(entries, grown * ENTRY);
        if (owners != null) {
          owners = spareOwners.grow(owners, grown * OWNERS);
        }
      } else if (grown > allocatedEntries() && entriesTouched == allocatedEntries() / 4 * 3) {
        spareEntries.prepare(grown * ENTRY);
        if (owners != null) {
          spareOwners.prepare(grown * OWNERS);
        }
      }
      entry = entriesTouched++;
    }
    entries[entry * ENTRY + HASH] = hash;
    entries[entry * ENTRY + HEAD] = NONE;
    clearOwners(entry);
    linkLruTail(entry);
    hashes.insert(hash, entry);
    return entry;
  }

  /** Frees the least recently assigned entry and its owners; returns its slot for reuse. */
  private int evictHead() {
    if (warmed == 0) {
      warmHeads();
    }
    warmed--;
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

  /**
   * Reads the hash-table cells of the next WARM entries in line for eviction, in one loop of
   * independent loads, so that their cache misses overlap instead of coming one per eviction.
   */
  private void warmHeads() {
    long sum = 0;
    int e = lruHead;
    for (int i = 0; i < WARM && e != NONE; i++) {
      sum += hashes.touch(entries[e * ENTRY + HASH]);
      e = field(entries, e * ENTRY + NEXT);
    }
    touched = sum;
    warmed = WARM;
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
