package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs {@link PrefixIndex} and {@link Model}, the index's documented behaviour written with plain
 * collections, through the same random operations and checks that they answer alike: the same
 * owners in the same order, the same stale owners dropped, the same hashes evicted.
 */
class PrefixIndexTest {

  /** Staleness the way the router decides it, with state a test can change. */
  static final class Engines implements PrefixIndex.Staleness {
    boolean[] active = new boolean[64];
    int count;
    long epochStamp;
    long now;
    long ttl;
    // owners stamped at or before this are hidden (as feedback's age limit hides them), -1: none
    long hiddenThrough = -1;

    int add() {
      if (count == active.length) {
        active = Arrays.copyOf(active, count * 2);
      }
      active[count] = true;
      return count++;
    }

    @Override
    public boolean isStale(int engine, long stamp, long writtenNanos) {
      return !active[engine] || stamp <= epochStamp || (ttl > 0 && now - writtenNanos > ttl);
    }

    @Override
    public boolean isHidden(int engine, long stamp) {
      return stamp <= hiddenThrough;
    }

    /** Exact but for ids from 127 up, which may always be stale (the index then reads them). */
    @Override
    public boolean mayBeStale(long owners0, long owners1, long oldestStamp, long oldestWritten) {
      if ((owners1 & PrefixIndex.HIGH_IDS) != 0
          || oldestStamp <= epochStamp
          || (ttl > 0 && now - oldestWritten > ttl)) {
        return true;
      }
      for (int e = 0; e < PrefixIndex.HIGH_ID; e++) {
        long word = e < 64 ? owners0 : owners1;
        if ((word & 1L << e) != 0 && !active[e]) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * What the index promises, and nothing of how: hashes in assignment order (least recent first,
   * lookups do not move them), each with its owners, the last writer first (by engine id with
   * {@link #byEngine}).
   */
  static final class Model {
    record Owner(int engine, long stamp, long written) {}

    final int capacity;
    final PrefixIndex.Staleness staleness;
    final LinkedHashMap<Long, List<Owner>> hashes = new LinkedHashMap<>();
    long evicted;
    long purged;
    long hidden;
    boolean staleSeen;
    int owners;
    int mostOwners;
    // per tracked hash the most owners it has had since it came in; per size class (owners rounded
    // up to a power of two, 2^k) the tracked hashes in it now, and the most there have been
    final Map<Long, Integer> mostOwnersOf = new HashMap<>();
    final int[] inClass = new int[32];
    final int[] mostInClass = new int[32];

    // an index with owner masks keeps each hash's owners in engine id order, and a write that
    // adds an owner first drops the stale ones (a write to an owner's slot none); without, the
    // last writer first, and a write drops the stale owners in front of the writer's slot (all if
    // it has none)
    final boolean byEngine;

    Model(int capacity, PrefixIndex.Staleness staleness, boolean byEngine) {
      this.capacity = capacity;
      this.staleness = staleness;
      this.byEngine = byEngine;
    }

    void assign(long hash, int engine, long stamp, long nanos) {
      List<Owner> list = hashes.remove(hash);
      if (list == null) {
        list = new ArrayList<>();
        if (hashes.size() == capacity) {
          Map.Entry<Long, List<Owner>> oldest = hashes.entrySet().iterator().next();
          owners -= oldest.getValue().size();
          hashes.remove(oldest.getKey());
          untrack(oldest.getKey());
          evicted++;
        }
      }
      hashes.put(hash, list);
      boolean renewed = byEngine && list.removeIf(o -> o.engine() == engine);
      owners -= renewed ? 1 : 0;
      for (Iterator<Owner> it = list.iterator(); it.hasNext() && !renewed; ) {
        Owner o = it.next();
        if (o.engine() == engine) {
          it.remove();
          owners--;
          break;
        } else if (isStale(o)) {
          it.remove();
          owners--;
          purged++;
        }
      }
      int at = 0;
      while (byEngine && at < list.size() && list.get(at).engine() < engine) {
        at++;
      }
      list.add(at, new Owner(engine, stamp, nanos));
      mostOwners = Math.max(mostOwners, ++owners);
      Integer before = mostOwnersOf.get(hash);
      int most = Math.max(before == null ? 0 : before, list.size());
      mostOwnersOf.put(hash, most);
      if (before != null) {
        inClass[sizeClass(before)]--;
      }
      inClass[sizeClass(most)]++;
      mostInClass[sizeClass(most)] =
          Math.max(mostInClass[sizeClass(most)], inClass[sizeClass(most)]);
    }

    private void untrack(long hash) {
      inClass[sizeClass(mostOwnersOf.remove(hash))]--;
    }

    /** The smallest k with 2^k at least {@code owners}. */
    private static int sizeClass(int owners) {
      return 32 - Integer.numberOfLeadingZeros(owners - 1);
    }

    /**
     * The owner slots the index may have taken: an entry's owners share one block of 2^k slots,
     * where 2^k is the most owners it has had rounded up, and a freed block serves its class only,
     * so per class the most blocks live at once.
     */
    int slotsBound() {
      int slots = 0;
      for (int k = 0; k < mostInClass.length; k++) {
        slots += mostInClass[k] << k;
      }
      return slots;
    }

    int collectOwners(long hash, int[] engines, long[] stamps) {
      List<Owner> list = hashes.get(hash);
      int count = 0;
      for (Iterator<Owner> it = list.iterator(); it.hasNext(); ) {
        Owner o = it.next();
        if (isStale(o)) {
          it.remove();
          owners--;
          purged++;
          staleSeen = true;
        } else if (staleness.isHidden(o.engine(), o.stamp())) {
          hidden++; // kept, not reported
        } else {
          engines[count] = o.engine();
          stamps[count++] = o.stamp();
        }
      }
      if (list.isEmpty()) {
        hashes.remove(hash);
        untrack(hash);
      }
      return count;
    }

    private boolean isStale(Owner o) {
      return staleness.isStale(o.engine(), o.stamp(), o.written());
    }
  }

  @Test
  void holdsNoSpareOwnerSlotsOnceFull() {
    // one owner per hash: the pool fills as the index does and never grows once it is full
    int capacity = 1 << 13;
    PrefixIndex index = new PrefixIndex(capacity, (engine, stamp, written) -> false);
    boolean heldWhileFilling = false;
    for (long hash = 1; hash <= capacity; hash++) {
      index.assign(hash, 0, hash, 0);
      heldWhileFilling |= index.holdsSpareOwnerSlots();
    }
    assertThat(heldWhileFilling).as("a spare is prepared while the index fills").isTrue();
    int slots = index.allocatedOwnerSlots();
    assertThat(slots).isEqualTo(capacity);
    // at one slot a hash, the capacity's hashes fit: no larger array was asked for
    assertThat(index.holdsSpareOwnerSlots()).as("full, before any eviction").isFalse();
    for (long hash = capacity + 1; hash <= 3L * capacity; hash++) {
      index.assign(hash, (int) (hash % 4), hash, 0);
      assertThat(index.holdsSpareOwnerSlots()).as("after hash %d", hash).isFalse();
    }
    assertThat(index.evicted()).isEqualTo(2L * capacity);
    assertThat(index.allocatedOwnerSlots()).isEqualTo(slots);
  }

  @Test
  @Timeout(30)
  void preallocatedItGrowsOnceToItsCapacityAndLetsNothingGoSpare() throws InterruptedException {
    int capacity = 1 << 13;
    PrefixIndex index = new PrefixIndex(capacity, (engine, stamp, written) -> false, true, true);
    assertThat(index.holdsFullArrays()).isTrue();
    while (!index.fullArraysReady()) {
      Thread.sleep(1); // polls the helper's futures; the timeout bounds the wait
    }
    for (long hash = 1; hash <= 16; hash++) {
      index.assign(hash, 0, hash, 0);
    }
    assertThat(index.allocatedEntries()).as("16 entries, the first arrays").isEqualTo(16);

    index.assign(17, 0, 17, 0);

    assertThat(index.allocatedEntries()).isEqualTo(capacity);
    int slots = capacity + capacity / 4; // an owner a hash and a quarter more
    assertThat(index.allocatedOwnerSlots()).isEqualTo(slots);
    for (long hash = 18; hash <= 3L * capacity; hash++) {
      index.assign(hash, 0, hash, 0);
      assertThat(index.holdsSpareOwnerSlots()).as("after hash %d", hash).isFalse();
    }
    assertThat(index.allocatedEntries()).isEqualTo(capacity);
    assertThat(index.allocatedOwnerSlots()).as("one owner a hash: no growth").isEqualTo(slots);
    assertThat(index.holdsFullArrays()).isFalse();
    assertThat(index.holdsSpareOwnerSlots()).isFalse();
    assertThat(index.evicted()).isEqualTo(2L * capacity);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 7, 64, 1000})
  void answersLikeTheReferenceModel(int capacity) {
    for (long seed = 1; seed <= 5; seed++) {
      compare(capacity, seed, 40_000, capacity * 3L + 5);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 1000, 40_000})
  void answersLikeTheReferenceModelWithoutMasks(int capacity) {
    for (long seed = 1; seed <= 3; seed++) {
      compare(capacity, seed, 40_000, capacity * 3L + 5, false, false);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {40_000})
  void answersLikeTheReferenceModelWhenLarge(int capacity) {
    compare(capacity, 7, 400_000, capacity * 2L);
  }

  @Test
  @Timeout(60)
  void answersLikeTheReferenceModelPreallocated() {
    compare(40_000, 8, 400_000, 80_000L, true, true);
    compare(1000, 9, 40_000, 3005L, true, true); // arrays too small to allocate ahead: doubling
  }

  /**
   * Runs {@code steps} random operations over {@code hashes} distinct single hashes and a set of
   * requests (hash sequences sharing prefixes, committed whole as the router does).
   */
  private static void compare(int capacity, long seed, int steps, long hashes) {
    compare(capacity, seed, steps, hashes, false, true);
  }

  /**
   * With {@code preallocate}, the index starts once its full arrays are ready; with {@code masks},
   * it keeps owner masks (the policies beyond Megatron's), else not (Megatron's).
   */
  private static void compare(
      int capacity, long seed, int steps, long hashes, boolean preallocate, boolean masks) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Engines engines = new Engines();
    engines.ttl = seed % 2 == 0 ? 50 : 0;
    int[] live = new int[8];
    for (int i = 0; i < live.length; i++) {
      live[i] = engines.add();
    }
    PrefixIndex subject = new PrefixIndex(capacity, engines, masks, preallocate);
    while (preallocate && !subject.fullArraysReady()) {
      Thread.onSpinWait(); // the helper's allocation; the caller's timeout bounds the wait
    }
    Model model = new Model(capacity, engines, masks);
    int[] gotEngines = new int[1 << 12];
    long[] gotStamps = new long[1 << 12];
    int[] wantEngines = new int[1 << 12];
    long[] wantStamps = new long[1 << 12];
    long[][] requests = requests(rnd, hashes);
    long counter = 0;
    int remembered = -1;
    for (int step = 0; step < steps; step++) {
      // a few hot hashes and a long tail, so owner lists grow and the index overflows
      long hash = rnd.nextInt(4) == 0 ? rnd.nextLong(8) : rnd.nextLong(hashes);
      int op = rnd.nextInt(100);
      if (op < 35) {
        counter++;
        int engine = live[rnd.nextInt(live.length)];
        subject.assign(hash, engine, counter, engines.now);
        model.assign(hash, engine, counter, engines.now);
      } else if (op < 55) {
        counter++;
        int engine = live[rnd.nextInt(live.length)];
        long[] request = requests[rnd.nextInt(requests.length)];
        int length = 1 + rnd.nextInt(request.length);
        for (int i = 0; i < length; i++) {
          subject.assign(request[i], engine, counter, engines.now);
          model.assign(request[i], engine, counter, engines.now);
        }
      } else if (op < 95) {
        long previous = -1;
        if (rnd.nextBoolean()) {
          long[] request = requests[rnd.nextInt(requests.length)];
          int at = rnd.nextInt(request.length);
          hash = request[at];
          previous = at > 0 ? request[at - 1] : -1;
        }
        subject.resetStaleSeen();
        model.staleSeen = false;
        int cell = subject.lookup(hash);
        boolean tracked = model.hashes.containsKey(hash);
        assertThat(cell >= 0).as("tracked %d at step %d", hash, step).isEqualTo(tracked);
        // the guess through the previous hash's entry, or through any slot, live or freed since
        int after = previous < 0 ? -1 : subject.lookup(previous);
        assertThat(subject.lookupAfter(hash, after)).as("after, step %d", step).isEqualTo(cell);
        assertThat(subject.lookupAfter(hash, remembered)).as("any, step %d", step).isEqualTo(cell);
        if (cell >= 0) {
          remembered = cell;
        }
        if (cell >= 0) {
          int got = subject.collectOwners(cell, gotEngines, gotStamps);
          int want = model.collectOwners(hash, wantEngines, wantStamps);
          assertThat(Arrays.copyOf(gotEngines, got)).isEqualTo(Arrays.copyOf(wantEngines, want));
          assertThat(Arrays.copyOf(gotStamps, got)).isEqualTo(Arrays.copyOf(wantStamps, want));
          if (masks && model.hashes.containsKey(hash)) {
            assertMaskAgrees(subject, model, hash, true);
            for (int j = 0; j < got; j++) {
              assertThat(subject.stampOf(cell, gotEngines[j])).isEqualTo(gotStamps[j]);
            }
            // every slot, hidden ones included, and none for an engine without one
            int probe = live[rnd.nextInt(live.length)];
            long slot = -1;
            for (Model.Owner o : model.hashes.get(hash)) {
              slot = o.engine() == probe ? o.stamp() : slot;
            }
            assertThat(subject.stampOf(cell, probe)).as("slot, step %d", step).isEqualTo(slot);
          }
        }
        assertThat(subject.staleSeen()).isEqualTo(model.staleSeen);
      } else if (op < 98) {
        // a restart: the old id goes stale, a new one takes its place
        int i = rnd.nextInt(live.length);
        engines.active[live[i]] = false;
        live[i] = engines.add();
      } else if (op < 99) {
        if (rnd.nextBoolean()) {
          engines.epochStamp = counter - rnd.nextInt(4);
        } else {
          engines.hiddenThrough = rnd.nextInt(3) == 0 ? -1 : counter - rnd.nextInt(64);
        }
      } else {
        engines.now += rnd.nextInt(20);
      }
      assertThat(subject.size()).as("size at step %d", step).isEqualTo(model.hashes.size());
      assertThat(subject.evicted()).isEqualTo(model.evicted);
      assertThat(subject.purged()).as("purged at step %d", step).isEqualTo(model.purged);
      assertThat(subject.size()).isLessThanOrEqualTo(capacity);
      if (masks && model.hashes.containsKey(hash)) {
        assertMaskAgrees(subject, model, hash, false);
      }
      if (masks && step % 5000 == 0) {
        for (long tracked : model.hashes.keySet()) {
          assertMaskAgrees(subject, model, tracked, false);
        }
      }
    }
    assertThat(engines.count).as("engine ids from 127 up were used").isGreaterThan(200);
    if (capacity >= 64) { // the tiny indexes evict their owners before they age
      assertThat(model.hidden).as("hidden owners met and kept").isGreaterThan(100);
    }
    // the pools only have to hold what is live without leaking: no more entries than the
    // capacity, and owner slots that grew by doubling from 16 to hold the most ever live at once
    // and end below twice what the blocks of each size class can have taken (Model.slotsBound)
    assertThat(subject.allocatedEntries()).isLessThanOrEqualTo(capacity);
    assertThat(subject.allocatedOwnerSlots())
        .isGreaterThanOrEqualTo(model.mostOwners)
        .isLessThan(2 * Math.max(model.slotsBound(), 16));
  }

  /**
   * The entry's owner mask and oldest stamp and write time against its owner list, stale owners
   * included: engine e's bit set exactly when e (below 127) owns the hash, the top bit set when an
   * id from 127 up does (and, until the next collectOwners, possibly after it stopped); no owner
   * older than the oldest stamp or write time. Right after collectOwners ({@code exact}) all are
   * exact.
   */
  private static void assertMaskAgrees(PrefixIndex subject, Model model, long hash, boolean exact) {
    int cell = subject.lookup(hash);
    long[] want = new long[PrefixIndex.MASK_WORDS];
    long oldest = Long.MAX_VALUE;
    long oldestWritten = Long.MAX_VALUE;
    for (Model.Owner o : model.hashes.get(hash)) {
      int e = o.engine();
      want[Math.min(e / 64, want.length - 1)] |=
          e < 64 * want.length - 1 ? 1L << (e % 64) : PrefixIndex.HIGH_IDS;
      oldest = Math.min(oldest, o.stamp());
      oldestWritten = Math.min(oldestWritten, o.written());
    }
    long[] got = new long[want.length];
    for (int w = 0; w < got.length; w++) {
      got[w] = subject.mask(cell, w);
    }
    int last = want.length - 1;
    if (exact) {
      assertThat(got).as("mask of %d", hash).isEqualTo(want);
      assertThat(subject.oldestStamp(cell)).isEqualTo(oldest);
      assertThat(subject.oldestWritten(cell)).isEqualTo(oldestWritten);
    } else {
      assertThat(got[last] | ~want[last]).as("top bit of %d", hash).isEqualTo(-1L);
      got[last] &= ~PrefixIndex.HIGH_IDS;
      want[last] &= ~PrefixIndex.HIGH_IDS;
      assertThat(got).as("mask of %d", hash).isEqualTo(want);
      assertThat(subject.oldestStamp(cell)).isLessThanOrEqualTo(oldest);
      assertThat(subject.oldestWritten(cell)).isLessThanOrEqualTo(oldestWritten);
    }
  }

  /** 32 requests of 1 to 24 hashes: 4 shared prefixes, some repeated hashes, tails of their own. */
  private static long[][] requests(SplittableRandom rnd, long hashes) {
    long[][] prefixes = new long[4][];
    for (int p = 0; p < prefixes.length; p++) {
      prefixes[p] = new long[rnd.nextInt(12)];
      for (int i = 0; i < prefixes[p].length; i++) {
        prefixes[p][i] = rnd.nextLong(hashes);
      }
    }
    long[][] requests = new long[32][];
    for (int r = 0; r < requests.length; r++) {
      long[] prefix = prefixes[rnd.nextInt(prefixes.length)];
      requests[r] = Arrays.copyOf(prefix, prefix.length + 1 + rnd.nextInt(12));
      for (int i = prefix.length; i < requests[r].length; i++) {
        requests[r][i] = rnd.nextInt(8) == 0 && i > 0 ? requests[r][i - 1] : rnd.nextLong(hashes);
      }
    }
    return requests;
  }
}
