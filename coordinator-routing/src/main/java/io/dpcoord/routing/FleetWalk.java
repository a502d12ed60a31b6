package io.dpcoord.routing;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * The state and the decision of the policies beyond Megatron's ({@link Policy#isMegatron()} false)
 * for {@link Router}: every active engine's own match, found by one forward walk over the request's
 * hashes, and the per-engine load the rules weigh ({@link FleetRules}).
 */
final class FleetWalk {
  /*
   * Design notes.
   *
   * The walk. Engine e's match is the number of leading hashes of the request that have a fresh
   * owner of e. One walk from the first hash finds every engine's: alive holds the engines
   * whose run reaches hash i, and the walk stops at the first hash that extends none of them (or
   * that the index does not track). Each entry carries the mask of the engine ids that own it
   * (PrefixIndex), so a hash costs one AND, not a read of every owner:
   *
   *   alive = active engines; for i = 0..n-1 while alive != 0:
   *     m = owners(hash i); engines in alive & ~m stop at depth i; alive &= m
   *
   * and the engines still alive at the end match the whole request. The stamp of the chosen
   * engine's deepest block (Decision.matchStamp) is read from that one entry's owner block.
   *
   * Staleness. A mask names stale owners too, until a walk drops them. The walk must drop exactly
   * the stale owners that reading every owner of every hash it visits would (sglang weighs the
   * owner counts, feedback counts what it dropped), so an entry that may hold a stale owner goes
   * through PrefixIndex.collectOwners, which drops them and leaves the mask exact; the owners it
   * reports, without those feedback's age limit hides (Router.isHidden), make the walk's mask
   * there instead of the entry's. Whether it may is decided from the entry's oldest stamp and write
   * time (lower bounds, exact after each collectOwners) and the per-engine stamp at or below which
   * Router.isStale or isHidden holds (Router.staleThrough): an owner bit outside the active
   * engines, a write older than the TTL, or an owner whose threshold reaches the entry's oldest
   * stamp sends the entry through collectOwners. Without feedback, epochs or a TTL, no entry does.
   *
   * The mask has two words, a bit each for engine ids 0 to 126; ids from 127 up share the top
   * bit. While an active engine has such an id (a fleet whose engines restarted more than about
   * 120 times in all, or more than 127 engines), the walk reads the owners of every hash
   * instead, as before the masks.
   *
   * Blocks in flight (dynamo, llm_d): per engine the hashes of its requests in flight, added at
   * commit and removed at completion; the rules weigh their distinct count (PathsInFlight).
   */

  private final Policy policy;
  private final int blockSize;
  private final LongSupplier clock;
  private final PrefixIndex index;
  private final Router router;
  private final boolean countsActiveBlocks;
  private final double prefillTokensPerNano;

  // per engine id
  private PathsInFlight[] inFlight = new PathsInFlight[8];
  private final PathsInFlight.Pool paths = new PathsInFlight.Pool();
  private double[] backlog = new double[8];
  private long[] backlogAt = new long[8];
  private long[] staleThrough = new long[8];

  // per rank index, for one decision
  private int[] depthByRank = new int[8];
  private int[] pendingByRank = new int[8];
  private long[] blocksByRank = new long[8];
  private int[] cachedByRank = new int[8];
  private double[] backlogByRank = new double[8];

  // the entry of each hash the last walk visited, and scratch for collectOwners
  private int[] walked = new int[64];
  private int[] ownerEngines = new int[8];
  private long[] ownerStamps = new long[8];

  // of the last decision: the active engines' mask (PrefixIndex.maskWord, maskBit) and the
  // highest stale threshold among them
  private final long[] activeBits = new long[PrefixIndex.MASK_WORDS];
  private long mostStaleThrough;

  FleetWalk(
      Policy policy,
      int blockSize,
      double prefillTokensPerSecond,
      LongSupplier clock,
      PrefixIndex index,
      Router router) {
    this.policy = policy;
    this.prefillTokensPerNano = prefillTokensPerSecond / 1e9;
    this.blockSize = blockSize;
    this.clock = clock;
    this.index = index;
    this.router = router;
    this.countsActiveBlocks = policy.weighsBlocksInFlight();
  }

  /** Makes room for engine ids below {@code engines}. */
  void grow(int engines) {
    if (engines > backlog.length) {
      inFlight = Arrays.copyOf(inFlight, engines);
      backlog = Arrays.copyOf(backlog, engines);
      backlogAt = Arrays.copyOf(backlogAt, engines);
      staleThrough = Arrays.copyOf(staleThrough, engines);
      depthByRank = Arrays.copyOf(depthByRank, engines);
      pendingByRank = Arrays.copyOf(pendingByRank, engines);
      blocksByRank = Arrays.copyOf(blocksByRank, engines);
      cachedByRank = Arrays.copyOf(cachedByRank, engines);
      backlogByRank = Arrays.copyOf(backlogByRank, engines);
      ownerEngines = Arrays.copyOf(ownerEngines, engines);
      ownerStamps = Arrays.copyOf(ownerStamps, engines);
    }
  }

  /**
   * The rank index the policy chooses among the {@code ranks} engines {@code order[0..ranks)} for a
   * request of {@code n} hashes; {@link #depth} and {@link #stamp} tell its match.
   */
  int choose(long[] hashes, int n, int[] order, int ranks, int[] rankOfEngine, int[] pending) {
    refreshBounds(order, ranks);
    for (int r = 0; r < ranks; r++) {
      int e = order[r];
      depthByRank[r] = 0;
      pendingByRank[r] = pending[e];
      blocksByRank[r] = inFlight[e] == null ? 0 : inFlight[e].distinct();
      cachedByRank[r] = index.ownedBy(e);
    }
    if (n > walked.length) {
      walked = new int[Math.max(n, walked.length * 2)];
    }
    if ((activeBits[PrefixIndex.MASK_WORDS - 1] & PrefixIndex.HIGH_IDS) == 0) {
      walkMasks(hashes, n, rankOfEngine);
    } else {
      walkOwners(hashes, n, rankOfEngine);
    }
    if (router.hasReach()) {
      for (int r = 0; r < ranks; r++) {
        depthByRank[r] = router.withinReach(order[r], depthByRank[r], walked);
      }
    }
    if (policy == Policy.LEAST_WORK) {
      long t = clock.getAsLong();
      for (int r = 0; r < ranks; r++) {
        backlogByRank[r] = drained(order[r], t);
      }
      return FleetRules.leastWork(
          ranks,
          n,
          depthByRank,
          pendingByRank,
          backlogByRank,
          cachedByRank,
          blockSize,
          router.cachesHoldAllSent());
    }
    return FleetRules.choose(
        policy, ranks, n, depthByRank, pendingByRank, blocksByRank, cachedByRank);
  }

  /** Takes the active engines' mask and stale thresholds as they are now. */
  private void refreshBounds(int[] order, int ranks) {
    Arrays.fill(activeBits, 0);
    mostStaleThrough = Long.MIN_VALUE;
    for (int r = 0; r < ranks; r++) {
      int e = order[r];
      activeBits[PrefixIndex.maskWord(e)] |= PrefixIndex.maskBit(e);
      staleThrough[e] = router.staleThrough(e);
      mostStaleThrough = Math.max(mostStaleThrough, staleThrough[e]);
    }
  }

  /** The match of the engine at rank index {@code rank} in the last decision, in blocks. */
  int depth(int rank) {
    return depthByRank[rank];
  }

  /** The stamp of {@code engine}'s deepest matched block, which must be {@code depth} > 0 deep. */
  long stamp(int engine, int depth) {
    return index.stampOf(walked[depth - 1], engine);
  }

  private void walkMasks(long[] hashes, int n, int[] rankOfEngine) {
    // the two mask words in locals (PrefixIndex.MASK_WORDS is 2): no array traffic per hash
    long alive0 = activeBits[0];
    long alive1 = activeBits[1];
    int i = 0;
    for (int entry = -1; i < n && (alive0 | alive1) != 0; i++) {
      entry = index.lookupAfter(hashes[i], entry);
      long owners0 = 0;
      long owners1 = 0;
      if (entry >= 0) {
        owners0 = index.mask(entry, 0);
        owners1 = index.mask(entry, 1);
        if (mayHoldStale(entry, owners0, owners1)) {
          // the owners shown: neither stale (now dropped) nor hidden by feedback's age limit
          owners0 = 0;
          owners1 = 0;
          for (int j = index.collectOwners(entry, ownerEngines, ownerStamps) - 1; j >= 0; j--) {
            int e = ownerEngines[j];
            if (PrefixIndex.maskWord(e) == 0) {
              owners0 |= PrefixIndex.maskBit(e);
            } else {
              owners1 |= PrefixIndex.maskBit(e);
            }
          }
        }
      }
      setDepth(alive0 & ~owners0, 0, i, rankOfEngine);
      setDepth(alive1 & ~owners1, 1, i, rankOfEngine);
      alive0 &= owners0;
      alive1 &= owners1;
      walked[i] = entry;
    }
    setDepth(alive0, 0, i, rankOfEngine);
    setDepth(alive1, 1, i, rankOfEngine);
    // the commit looks up every hash the walk did not reach: fetch their cells together now
    index.warm(hashes, i, n);
  }

  /** Sets the depth of the engines whose bits in mask word {@code word} are {@code engines}. */
  private void setDepth(long engines, int word, int depth, int[] rankOfEngine) {
    for (long bits = engines; bits != 0; bits &= bits - 1) {
      depthByRank[rankOfEngine[64 * word + Long.numberOfTrailingZeros(bits)]] = depth;
    }
  }

  /**
   * False only if no owner of the entry, whose mask words are {@code owners0} and {@code owners1},
   * is stale (see the design notes).
   */
  private boolean mayHoldStale(int entry, long owners0, long owners1) {
    // an owner that is not active (the walk over masks runs only when HIGH_IDS is not active)
    if (((owners0 & ~activeBits[0]) | (owners1 & ~activeBits[1])) != 0
        || router.expired(index.oldestWritten(entry))) {
      return true;
    }
    long oldest = index.oldestStamp(entry);
    return oldest <= mostStaleThrough
        && (reachesStale(owners0, 0, oldest) || reachesStale(owners1, 1, oldest));
  }

  /**
   * Whether an engine of mask word {@code word} has a stale threshold at or above {@code stamp}.
   */
  private boolean reachesStale(long owners, int word, long stamp) {
    for (long bits = owners; bits != 0; bits &= bits - 1) {
      if (stamp <= staleThrough[64 * word + Long.numberOfTrailingZeros(bits)]) {
        return true;
      }
    }
    return false;
  }

  /** The walk without masks, once an active engine id is 127 or more: every owner of every hash. */
  private void walkOwners(long[] hashes, int n, int[] rankOfEngine) {
    for (int i = 0, entry = -1; i < n; i++) {
      entry = index.lookupAfter(hashes[i], entry);
      if (entry < 0) {
        break;
      }
      walked[i] = entry;
      int owners = index.collectOwners(entry, ownerEngines, ownerStamps);
      boolean extended = false;
      for (int j = 0; j < owners; j++) {
        int r = rankOfEngine[ownerEngines[j]];
        if (r >= 0 && depthByRank[r] == i) {
          depthByRank[r] = i + 1;
          extended = true;
        }
      }
      if (!extended) {
        break;
      }
    }
  }

  /** A request of {@code count} hashes, {@code matched} of them cached there, sent to engine e. */
  void committed(int e, long[] hashes, int count, int matched) {
    if (countsActiveBlocks) {
      if (inFlight[e] == null) {
        inFlight[e] = new PathsInFlight(paths);
      }
      inFlight[e].add(hashes, count);
    }
    if (policy == Policy.LEAST_WORK) {
      long t = clock.getAsLong();
      backlog[e] = drained(e, t) + (double) (count - matched) * blockSize;
      backlogAt[e] = t;
    }
  }

  /** A request committed to engine e with {@code hashes[0..count)} is done. */
  void completed(int e, long[] hashes, int count) {
    if (countsActiveBlocks && inFlight[e] != null) {
      inFlight[e].remove(hashes, count);
    }
  }

  private double drained(int e, long t) {
    double b = backlog[e] - (t - backlogAt[e]) * prefillTokensPerNano;
    return Math.max(0, b);
  }
}
