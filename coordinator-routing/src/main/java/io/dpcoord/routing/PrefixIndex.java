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
   * at a time (LongIntTable), so that growing does not stall the loop. With `preallocate` (serve's
   * default) the arrays for the whole capacity are asked of the helper at once, and the first
   * growth after they are ready goes straight to them: the fresh memory is touched at start, not
   * while the index fills under load.
   *
   * 1. `hashes`: block hash -> entry slot (LongIntTable: open addressing, backward-shift delete).
   *
   * 2. Entry slots, one per tracked hash, packed four longs apart (hash, owner block, LRU
   *    previous, LRU next) so that one cache line holds an entry. The slots are threaded on an
   *    intrusive doubly linked list in assignment order: a write moves its entry to the tail, a
   *    new hash in a full index takes the head's slot. Both O(1); the index never holds more than
   *    `capacity` hashes however many distinct ones pass.
   *
   * 3. Owner slots (engine id, stamp, write time: three longs), at most one per engine id per
   *    entry. An entry's owners are one block of 2^k slots in a pool, the last writer first; the
   *    entry slot holds the block's start, its k and how many slots are in use. A write moves the
   *    writer's slot to the front (the slots before it one on), because the engine a prefix is
   *    routed to is usually the one that wrote it last, so the scan that finds it is short; a new
   *    owner in a full block moves the owners into a block twice as large. A freed block goes to
   *    the free list of its size class and serves that class only, so the pool holds, per class,
   *    the most blocks of it ever live at once. (Until the blocks, each entry headed a linked list
   *    of owner nodes: the same order and the same walk, but each owner passed a cache miss of
   *    its own, and the policies beyond Megatron's, whose writers are often far down the owners of
   *    a hash shared by many engines, spent most of a commit on it; see PERFORMANCE.md, "Owner
   *    blocks". A side table from (entry, engine) to node made writes O(1) but measured no faster
   *    on RoutingDecisionBenchmark, and at 1M hashes it needs about 64 MB of its own; tried again
   *    for the policies beyond Megatron's, its probe was a cache miss per write, and every other
   *    policy and shape became 2 to 5 times slower.)
   *
   *    An index that keeps owner masks (4. below; the policies beyond Megatron's) keeps each
   *    block in engine id order instead, the ids from 127 up last: the writer's slot, or where a
   *    new one goes, is the number of owner bits below its own, one popcount, and a write moves
   *    no other slot. (In last-writer order dynamo, which spreads a hash over most engines, spent
   *    most of a commit scanning for the writer's slot and moving the slots in front of it; see
   *    PERFORMANCE.md, "Blocks in flight as sorted paths, owners in engine order".) There a
   *    write that adds an owner first drops the entry's stale owners, if it may hold any (as a
   *    write did that found no slot of the writer's), and a write to an owner's slot drops none
   *    (in last-writer order, it dropped those in front of the slot).
   *
   * 4. Owner masks, for the forward walk of the policies beyond Megatron's (FleetWalk), which needs
   *    to know which engines own each hash, not their stamps. The mask has MASK_WORDS (2) words:
   *    engine id e below 127 has bit e % 64 of word e / 64, set while e has a slot there, stale or
   *    not; the top bit of the last word (HIGH_IDS) stands for every id from 127 up, so it is set
   *    while one of them may have a slot. Every change of an entry's owners keeps the mask: a new
   *    owner sets its bit, an owner dropped by assign clears it (HIGH_IDS excepted), collectOwners
   *    recomputes it from the owners it keeps, and a reused entry slot starts at 0. The oldest
   *    stamp and write time are lower bounds over the entry's owners (a new one can only lower
   *    them; a rewrite or a drop leaves them, still bounds), made exact again by every
   *    collectOwners; with them the walk tells, without reading an owner, that an entry has no
   *    stale owner. A walk over the masks is one word per hash instead of one slot per owner:
   *    dynamo at 64 ranks had some 48 owners per hash, and 6.4 once completions gave their blocks
   *    back (see PERFORMANCE.md). The four fields (two mask words, oldest stamp and write time)
   *    live in an array of their own, four longs per entry slot, kept only for those policies
   *    (32 MB at a million hashes): inside the entries they made every entry two cache lines'
   *    worth, and writes with new blocks measured 5 to 9 % slower under longest_prefix and up to
   *    1.6 times slower under the new policies.
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
   *    owner block, which is NONE only in a free slot) replaces a lookup in a table far bigger
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
   * Staleness is not the index's business: the router's predicate says whether an owner is stale
   * (engine gone, older than the epoch, past its TTL). Every scan of an entry's owners drops the
   * stale ones it meets (a read deletes an entry left with none); eviction frees whatever an
   * entry still holds. Removing an engine therefore never scans the index, and a stale owner
   * costs memory only until its entry is next read, written or evicted.
   */

  /** Says whether an owner no longer describes an engine's cache. */
  interface Staleness {
    boolean isStale(int engine, long stamp, long writtenNanos);

    /**
     * Whether an owner that is not stale is hidden from lookups for now ({@link #collectOwners}
     * does not report it); its slot stays, and shows again once this turns false.
     */
    default boolean isHidden(int engine, long stamp) {
      return false;
    }

    /**
     * False only if no owner of an entry can be stale whose owner mask words ({@link #mask}) are
     * {@code owners0} and {@code owners1} and whose owners' stamps and write times are at least
     * {@code oldestStamp} and {@code oldestWritten}; true is always correct, only slower.
     */
    default boolean mayBeStale(long owners0, long owners1, long oldestStamp, long oldestWritten) {
      return true;
    }
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

  static final int HIGH_ID = 64 * MASK_WORDS - 1;

  // owner slot fields, SLOT longs apart; an entry's owners are one block of 2^k slots
  private static final int SLOT = 3;
  private static final int ENGINE = 0;
  private static final int STAMP = 1;
  private static final int WRITTEN = 2;
  private static final int SIZE_CLASSES = 32;

  private final int capacity;
  private final Staleness staleness;
  private final LongIntTable hashes;

  private long[] entries;
  private long[] owners; // null unless the index keeps owner masks
  private int lruHead = NONE;
  private int lruTail = NONE;
  private int freeEntry = NONE;
  private int entriesTouched;

  private long[] slots;
  private int slotsTouched;
  // per size class k, the first free block of 2^k slots; each links the next through its ENGINE
  private final int[] freeBlocks = new int[SIZE_CLASSES];

  // the next, doubled arrays, allocated ahead (SpareArray) once 3/4 of the current are in use
  private final SpareArray spareEntries = new SpareArray();
  private final SpareArray spareOwners = new SpareArray();
  private final SpareArray spareSlots = new SpareArray();

  // the entry assigned after the last assigned one, the previous time round (see assign)
  private int successor = NONE;

  // evictions left before warmHeads runs again, and the sum of its loads (so they stay)
  private int warmed;
  private long touched;

  private long evicted;
  private long purged;
  private boolean staleSeen;

  // owners per engine id: how many block hashes the index believes each engine holds
  private int[] ownedBy = new int[8];

  PrefixIndex(int capacity, Staleness staleness) {
    this(capacity, staleness, false);
  }

  /** With {@code masks}, each entry also keeps its owner mask ({@link #mask}). */
  PrefixIndex(int capacity, Staleness staleness, boolean masks) {
    this(capacity, staleness, masks, false);
  }

  /**
   * With {@code preallocate}, the arrays for {@code capacity} hashes (about one owner each) are
   * allocated at once on the helper thread, and the index grows straight to them once they are
   * ready, instead of doubling as it fills.
   */
  PrefixIndex(int capacity, Staleness staleness, boolean masks, boolean preallocate) {
    this.capacity = capacity;
    this.staleness = staleness;
    int maxHashTable = Math.max(MIN_LENGTH, Integer.highestOneBit(capacity - 1 | 1) << 2);
    this.hashes = new LongIntTable(MIN_LENGTH, maxHashTable, preallocate);
    int initial = Math.min(capacity, MIN_LENGTH);
    entries = new long[initial * ENTRY];
    owners = masks ? new long[initial * OWNERS] : null;
    slots = new long[MIN_LENGTH * SLOT];
    Arrays.fill(freeBlocks, NONE);
    if (preallocate && initial < capacity) {
      // the largest arrays, each taken at its first growth after it is ready (SpareArray.next);
      // the owner masks first: the helper allocates in turn, so they are ready when the entries are
      if (masks) {
        spareOwners.prepareFull(capacity * OWNERS);
      }
      spareEntries.prepareFull(capacity * ENTRY);
      // an owner a hash, and a quarter more for the hashes that have several (blocks of 2^k slots)
      spareSlots.prepareFull(Math.max(MIN_LENGTH, capacity + capacity / 4) * SLOT);
    }
  }

  /** Tracked block hashes. */
  int size() {
    return hashes.size();
  }

  /** Hashes evicted to stay within capacity. */
  long evicted() {
    return evicted;
  }

  /** Stale owners dropped. */
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

  /** Owner slots allocated (per size class, the pool holds the most blocks ever live at once). */
  int allocatedOwnerSlots() {
    return slots.length / SLOT;
  }

  /** Whether a larger owner-slot array is held ahead of need ({@link SpareArray}). */
  boolean holdsSpareOwnerSlots() {
    return spareSlots.held();
  }

  /**
   * Whether every array being allocated ahead for the full capacity is ready to be taken (those too
   * small to allocate ahead never are asked for).
   */
  boolean fullArraysReady() {
    return spareEntries.fullReady()
        && spareOwners.fullReady()
        && spareSlots.fullReady()
        && hashes.fullReady();
  }

  /** Whether arrays allocated ahead for the full capacity are held, not yet taken or let go. */
  boolean holdsFullArrays() {
    return spareEntries.fullHeld()
        || spareOwners.fullHeld()
        || spareSlots.fullHeld()
        || hashes.holdsFull();
  }

  /** Clears the stale-seen flag; call before the owner walks of one decision. */
  void resetStaleSeen() {
    staleSeen = false;
  }

  /** Whether an owner walk since {@link #resetStaleSeen()} dropped a stale owner. */
  boolean staleSeen() {
    return staleSeen;
  }

  /**
   * Reads the hash-table cells of {@code hashes[from..to)} in one loop of independent loads, so
   * that the cache misses of the lookups that follow overlap instead of coming one at a time.
   */
  void warm(long[] hashes, int from, int to) {
    this.hashes.touchAll(hashes, from, to);
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
      // a free slot keeps its old hash but has no owner block
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
   * and an entry left with none is deleted. Hidden owners ({@link Staleness#isHidden}) stay in the
   * entry and its owner mask but are not copied or counted.
   */
  int collectOwners(int entry, int[] engines, long[] stamps) {
    long before = purged;
    dropStaleBefore(entry, NONE);
    staleSeen |= purged != before;
    long head = entries[entry * ENTRY + HEAD];
    clearOwners(entry);
    int count = count(head);
    int shown = 0;
    for (int i = 0, at = start(head) * SLOT; i < count; i++, at += SLOT) {
      int engine = (int) slots[at + ENGINE];
      long stamp = slots[at + STAMP];
      addOwner(entry, engine, stamp, slots[at + WRITTEN]);
      if (!staleness.isHidden(engine, stamp)) {
        engines[shown] = engine;
        stamps[shown++] = stamp;
      }
    }
    if (count == 0) {
      freeBlock(head);
      entries[entry * ENTRY + HEAD] = NONE;
      hashes.remove(entries[entry * ENTRY + HASH]);
      unlinkLru(entry);
      entries[entry * ENTRY + NEXT] = freeEntry;
      freeEntry = entry;
    }
    return shown;
  }

  /**
   * Records that {@code engine} was sent {@code hash} at assignment {@code stamp}: the engine's
   * slot is updated or added and the entry becomes the most recently assigned. A new hash in a full
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
    long head = entries[entry * ENTRY + HEAD];
    // usually the engine wrote the hash last: its slot is in front, with no owner before it (in
    // engine id order, with no owner at all but it)
    int at;
    if (head != NONE
        && (owners == null || count(head) == 1)
        && slots[start(head) * SLOT + ENGINE] == engine) {
      at = 0;
    } else if (owners == null) {
      at = dropStaleBefore(entry, engine);
    } else {
      at = slotOf(entry, engine);
      if (at < 0 && mayHoldStale(entry)) {
        // all of them, before the writer takes a slot (and perhaps a larger block)
        dropStaleBefore(entry, NONE);
      }
    }
    head = entries[entry * ENTRY + HEAD];
    if (at < 0) {
      if (engine >= ownedBy.length) {
        ownedBy = Arrays.copyOf(ownedBy, Math.max(engine + 1, ownedBy.length * 2));
      }
      ownedBy[engine]++;
      at = owners == null ? 0 : placeOf(entry, engine);
      addOwner(entry, engine, stamp, nanos);
      head = withRoomAt(head, at);
      entries[entry * ENTRY + HEAD] = head;
    } else if (owners == null && at > 0) {
      // the engine's slot moves to the front, the slots before it one on
      int base = start(head) * SLOT;
      System.arraycopy(slots, base, slots, base + SLOT, at * SLOT);
      at = 0;
    }
    int base = (start(head) + at) * SLOT;
    slots[base + ENGINE] = engine;
    slots[base + STAMP] = stamp;
    slots[base + WRITTEN] = nanos;
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

  /** False only if the entry keeps owner masks and none of its owners can be stale. */
  private boolean mayHoldStale(int entry) {
    if (owners == null) {
      return true;
    }
    int at = entry * OWNERS;
    return staleness.mayBeStale(
        owners[at + MASK], owners[at + MASK + 1], owners[at + OLDEST], owners[at + OLDEST_WRITTEN]);
  }

  /**
   * The index of {@code engine}'s slot among the owners of {@code entry}, which keeps owner masks
   * (its owners in engine id order), or -1.
   */
  private int slotOf(int entry, int engine) {
    if (engine < HIGH_ID) {
      long word = owners[entry * OWNERS + MASK + maskWord(engine)];
      return (word & maskBit(engine)) == 0 ? -1 : placeOf(entry, engine);
    }
    long head = entries[entry * ENTRY + HEAD];
    int at = placeOf(entry, engine);
    return at < count(head) && slots[(start(head) + at) * SLOT + ENGINE] == engine ? at : -1;
  }

  /**
   * Where {@code engine}'s slot is, or would go, among the owners of {@code entry}, which keeps
   * owner masks: in engine id order, so for an id below 127 the owners' bits below its own count
   * them (the ids from 127 up come after, and are counted by reading their slots).
   */
  private int placeOf(int entry, int engine) {
    int at = entry * OWNERS + MASK;
    if (engine < HIGH_ID) {
      long below = maskBit(engine) - 1;
      return maskWord(engine) == 0
          ? Long.bitCount(owners[at] & below)
          : Long.bitCount(owners[at]) + Long.bitCount(owners[at + 1] & below);
    }
    long head = entries[entry * ENTRY + HEAD];
    int place = Long.bitCount(owners[at]) + Long.bitCount(owners[at + 1] & ~HIGH_IDS);
    int base = start(head) * SLOT;
    while (place < count(head) && slots[base + place * SLOT + ENGINE] < engine) {
      place++;
    }
    return place;
  }

  /** The index of {@code engine}'s slot in the owner block {@code head} (scanned), or -1. */
  private int position(long head, int engine) {
    int base = start(head) * SLOT;
    for (int i = 0; i < count(head); i++) {
      if ((int) slots[base + i * SLOT + ENGINE] == engine) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Drops the stale owners of {@code entry} in front of {@code engine}'s slot (all of them if it
   * has none there), the slots after them moving up; returns the index of {@code engine}'s slot, or
   * -1. The engine's own slot is kept even if stale: the write that looks for it renews it.
   */
  private int dropStaleBefore(int entry, int engine) {
    long head = entries[entry * ENTRY + HEAD];
    int count = count(head);
    int base = start(head) * SLOT;
    int kept = 0;
    int i = 0;
    for (; i < count; i++) {
      int at = base + i * SLOT;
      int owner = (int) slots[at + ENGINE];
      if (owner == engine) {
        break;
      }
      if (staleness.isStale(owner, slots[at + STAMP], slots[at + WRITTEN])) {
        if (owners != null && owner < HIGH_ID) { // HIGH_IDS stays: another high id may be there
          owners[entry * OWNERS + MASK + maskWord(owner)] &= ~maskBit(owner);
        }
        ownedBy[owner]--;
        purged++;
      } else {
        if (kept != i) {
          System.arraycopy(slots, at, slots, base + kept * SLOT, SLOT);
        }
        kept++;
      }
    }
    if (kept != i) {
      System.arraycopy(slots, base + i * SLOT, slots, base + kept * SLOT, (count - i) * SLOT);
      entries[entry * ENTRY + HEAD] = block(start(head), sizeClass(head), count - (i - kept));
    }
    return i < count ? kept : -1;
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
   * {@link #maskWord}) is set while it has a slot there, stale or not; {@link #HIGH_IDS} in the
   * last word while an id from 127 up may have one (cleared only by {@link #collectOwners}).
   */
  long mask(int entry, int word) {
    return owners[entry * OWNERS + MASK + word];
  }

  /** No owner of {@code entry} has a stamp below this (exact after {@link #collectOwners}). */
  long oldestStamp(int entry) {
    return owners[entry * OWNERS + OLDEST];
  }

  /** No owner of {@code entry} was written before this (exact after a collectOwners). */
  long oldestWritten(int entry) {
    return owners[entry * OWNERS + OLDEST_WRITTEN];
  }

  /** The stamp of {@code engine}'s slot at {@code entry}, stale, hidden or not; -1 without one. */
  long stampOf(int entry, int engine) {
    long head = entries[entry * ENTRY + HEAD];
    int at = head == NONE ? -1 : owners == null ? position(head, engine) : slotOf(entry, engine);
    return at < 0 ? -1 : slots[(start(head) + at) * SLOT + STAMP];
  }

  private static int field(long[] array, int index) {
    return (int) array[index];
  }

  // ---- owner blocks ----

  /**
   * An entry's owner block: {@code count} slots in use of the 2^{@code sizeClass} at {@code start}.
   */
  private static long block(int start, int sizeClass, int count) {
    return (long) start << 32 | (long) sizeClass << 24 | count;
  }

  private static int start(long block) {
    return (int) (block >>> 32);
  }

  private static int sizeClass(long block) {
    return (int) (block >>> 24) & 0xff;
  }

  private static int count(long block) {
    return block == NONE ? 0 : (int) block & 0xff_ffff;
  }

  /**
   * {@code block} (or NONE) with one more slot, unset, at index {@code at}, the slots from there
   * moved one on: in place while the block has room, else in a block twice as large.
   */
  private long withRoomAt(long block, int at) {
    if (block == NONE) {
      return block(newBlock(0), 0, 1);
    }
    int count = count(block);
    int sizeClass = sizeClass(block);
    int from = start(block);
    int to = count < 1 << sizeClass ? from : newBlock(++sizeClass);
    System.arraycopy(slots, (from + at) * SLOT, slots, (to + at + 1) * SLOT, (count - at) * SLOT);
    if (to != from) {
      System.arraycopy(slots, from * SLOT, slots, to * SLOT, at * SLOT);
      freeBlock(block);
    }
    return block(to, sizeClass, count + 1);
  }

  /** A block of 2^{@code sizeClass} slots: a free one of that class, else new slots. */
  private int newBlock(int sizeClass) {
    if (freeBlocks[sizeClass] != NONE) {
      int start = freeBlocks[sizeClass];
      freeBlocks[sizeClass] = field(slots, start * SLOT + ENGINE);
      return start;
    }
    int start = slotsTouched;
    slotsTouched += 1 << sizeClass;
    while ((long) slotsTouched * SLOT > slots.length) {
      slots = spareSlots.grow(slots, slots.length * 2);
    }
    // ahead only while the index fills, and only if the hashes to come will need more slots at
    // the slots a hash taken so far: once full, evictions free blocks for the new hashes, the pool
    // grows only if hashes gain owners, and a spare held for that might never be used
    if ((long) slotsTouched * SLOT > slots.length / 4 * 3
        && hashes.size() < capacity
        && (long) slotsTouched * capacity > (long) hashes.size() * (slots.length / SLOT)) {
      spareSlots.prepare(slots.length * 2);
    }
    return start;
  }

  /** Returns the block to its size class's free list (its owners are dropped by the caller). */
  private void freeBlock(long block) {
    int start = start(block);
    slots[start * SLOT + ENGINE] = freeBlocks[sizeClass(block)];
    freeBlocks[sizeClass(block)] = start;
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
        entries = spareEntries.grow(entries, grown * ENTRY); // or to the capacity (preallocate)
        if (owners != null && owners.length < allocatedEntries() * OWNERS) {
          owners = spareOwners.grow(owners, allocatedEntries() * OWNERS);
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
    spareSlots.release(); // full: see newBlock
    int entry = lruHead;
    hashes.remove(entries[entry * ENTRY + HASH]);
    unlinkLru(entry);
    long head = entries[entry * ENTRY + HEAD];
    for (int i = 0, at = start(head) * SLOT; i < count(head); i++, at += SLOT) {
      ownedBy[(int) slots[at + ENGINE]]--;
    }
    if (head != NONE) {
      freeBlock(head);
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
