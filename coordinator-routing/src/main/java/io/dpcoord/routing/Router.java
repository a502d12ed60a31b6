package io.dpcoord.routing;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The routing state: engines in rank order, their pending counts and the prefix index.
 *
 * <p>Single-threaded, like the event loop that owns it. The loop calls {@link #route} to choose an
 * engine, sends the request, and calls {@link #commit} once the send succeeded; a terminal reply
 * calls {@link #complete}. Engines get ids that are never reused: an id names one incarnation of an
 * engine, so a restarted engine gets a new id ({@link #replace}) and everything written for the old
 * one is stale. Which peer an id stands for is the caller's business: the router knows ids and
 * ranks, not identities.
 *
 * <p>With {@link MegatronRelease#V0_18} the router follows Megatron core_v0.18.2 instead: an id
 * names an engine for good (a restart keeps it, and so does a removed engine that comes back with
 * {@link #rejoin}), its rank index is its id, and the fallback is a round-robin over the engines in
 * registration order.
 */
public final class Router {
  /*
   * Design notes.
   *
   * The decision rule is Megatron-LM's coordinator routing (docs/spec/ROUTING.md), kept exact so
   * that the same trace gives the same ranks:
   *
   *   load only (LOAD_BALANCED, prefix caching off, no complete block, multimodal): the active
   *   engine with the fewest pending requests, ties to the lowest rank index.
   *
   *   prefix routing: n = Policy.hashesUsed (1 for FIRST_PREFIX_BLOCK). Scan i = n-1 .. 0 for the first
   *   hash with a fresh owner; its owners get match = (i + 1.0) / n and recency = their stamp,
   *   every other engine 0. score = alpha * match + (1.0 - alpha) * (max(0, maxRequests -
   *   pending) / (double) maxRequests), in double and in exactly that order, so that equal scores
   *   are equal bit for bit as they are in the reference. Winner: highest score, then highest
   *   recency, then lowest rank index.
   *
   *   commit: pending++, counter++, and every hash used gets index[h][engine] = counter.
   *
   * Ranks. order[0..active) lists the active engine ids by rank index. Start-up engines are sorted
   * as unsigned bytes, later ones appended, a removed one closes the gap (the ones above move
   * down by one, keeping their order), a replaced (restarted) one keeps its place under a new id. Only
   * relative order matters to the rule, which this keeps exactly as the reference renumbers.
   *
   * Staleness (extension). An owner is stale when its engine id is inactive (removed, or
   * replaced by a re-registration), when its stamp is at most the counter value at the last
   * epoch change, or when it was written more than the TTL ago by the injected clock. In parity
   * mode the only source is removal, and a stale owner counts exactly like the entry the
   * reference deleted at removal: not at all. Owners are dropped by whichever walk meets them
   * (see PrefixIndex), so removal is O(ranks) and never scans the index.
   *
   * Cache misses. When the deepest hash of a request is not tracked, the scan touches the
   * hash-table cells of the next WARM hashes before looking them up (PrefixIndex.warm), so that a
   * tail of new blocks costs overlapping misses, not one after the other; at worst 15 of the
   * loads were not needed. What is touched changes no state. (Runs that double from 2 up to WARM
   * measured about 0.5 us slower on the new-blocks benchmark.) The policies beyond Megatron's
   * (FleetWalk) walk a request's hashes forward, ANDing each entry's owner mask, and find each
   * entry through the one before it (PrefixIndex.lookupAfter) rather than the hash table.
   *
   * Allocation. route() and commit() write into arrays sized for the engines ever registered and
   * into one reused Decision; the index allocates only while it grows to its working size.
   *
   * Megatron 0.18 (release18; docs/design/routing.md, "Megatron 0.18 routing"). The same score and
   * tie-breaks, with these differences, each kept in the structures above rather than beside them:
   *
   *   ids are rank indexes: registerInitial assigns ids in sorted order and register() appends, as
   *   0.18 numbers its ranks; an id is never retired. order[] stays the active ids ascending, so
   *   the scoring loop is unchanged and picks the best active engine (0.18 also scores removed
   *   engines and crashes when one wins; the best active one is what we choose there).
   *
   *   removal forgets nothing: 0.18 only takes the engine out of its round-robin deque, so its
   *   pending count stays frozen and its index entries are not stale (isStale ignores activity).
   *   They still count when the scan looks for the deepest hash with owners; an owner that is not
   *   active has no rank position and is skipped when scores are credited. rejoin() puts the id
   *   back into order[] at its place, with its old pending count and entries.
   *
   *   fallback (no hash used): round-robin over arrival[0..arrivalCount), the active ids in
   *   registration order (start-up engines in the order given to registerInitial, later and
   *   returning ones appended, removed ones taken out): idx = cursor % count, cursor = idx + 1,
   *   as 0.18's get_next_data_parallel_rank. Only route() moves the cursor, so a retry after a
   *   failed send (remove, then route again) moves it again, as 0.18's retry loop does.
   */

  private final Policy policy;
  private final boolean release18;
  private final double alpha;
  private final double oneMinusAlpha;
  private final int maxRequests;
  private final boolean prefixCaching;
  private final long ttlNanos;
  private final LongSupplier clock;
  private final boolean feedback;
  private final PrefixIndex index;
  private final WrittenBlocks written;
  private final FleetWalk fleet;
  private final Decision decision = new Decision();

  // per engine id
  private int engines;
  private int[] pending = new int[8];
  private long[] horizon = new long[8];
  // engine feedback: entries older than this (WrittenBlocks' age) are stale on every engine
  private long ageLimit = Long.MAX_VALUE;
  // and how many blocks a cache holds by the last shortfall (withinReach)
  private long reach = Long.MAX_VALUE;
  private boolean[] active = new boolean[8];
  // the active ids below PrefixIndex.HIGH_ID as an owner mask (PrefixIndex.maskBit)
  private final long[] activeMask = new long[PrefixIndex.MASK_WORDS];
  private int[] rankOfEngine = new int[8];

  // per rank index
  private int activeCount;
  private int[] order = new int[8];
  private boolean[] owned = new boolean[8];
  private long[] recency = new long[8];

  // scratch for one owner walk: one place per engine id
  private int[] ownerEngines = new int[8];
  private long[] ownerStamps = new long[8];

  private long feedbackPurged;

  // Megatron 0.18: the active engine ids in registration order, and the round-robin cursor
  private int[] arrival = new int[8];
  private int arrivalCount;
  private int cursor;

  private long counter;
  private long epochStamp;
  private long now;

  /** Creates a router with no engines. */
  public Router(RouterConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("router config is null");
    }
    this.policy = config.policy();
    this.release18 = config.release() == MegatronRelease.V0_18;
    this.alpha = config.alpha();
    this.oneMinusAlpha = 1.0 - config.alpha();
    this.maxRequests = config.maxRequests();
    this.prefixCaching = config.prefixCaching();
    this.ttlNanos = config.ttlNanos();
    this.clock = config.nanoClock();
    this.feedback = config.feedback();
    this.written = feedback ? new WrittenBlocks() : null;
    this.index =
        new PrefixIndex(
            config.indexCapacity(),
            new PrefixIndex.Staleness() {
              @Override
              public boolean isStale(int engine, long stamp, long writtenNanos) {
                return Router.this.isStale(engine, stamp, writtenNanos);
              }

              @Override
              public boolean isHidden(int engine, long stamp) {
                return Router.this.isHidden(engine, stamp);
              }

              @Override
              public boolean mayBeStale(long owners0, long owners1, long oldest, long written) {
                return Router.this.mayBeStale(owners0, owners1, oldest, written);
              }
            },
            !policy.isMegatron(),
            // an index nothing will fill is not worth its memory
            config.preallocateIndex() && config.prefixCaching() && policy.usesPrefix());
    this.fleet =
        new FleetWalk(
            policy, config.blockSize(), config.prefillTokensPerSecond(), clock, index, this);
  }

  /**
   * Registers the start-up engines: sorted as unsigned bytes, they take rank indexes 0..n-1. Under
   * Megatron 0.18 the list's order is also the round-robin order (0.18 keeps its engines in arrival
   * order, sorted only in its deterministic mode): pass them as they arrived.
   *
   * @return their engine ids, in the order of {@code identities}
   * @throws IllegalStateException if engines are already registered
   * @throws IllegalArgumentException if an identity is null or appears twice
   */
  public int[] registerInitial(List<byte[]> initial) {
    if (engines > 0) {
      throw new IllegalStateException(
          "initial engines must be registered first, but " + engines + " already are");
    }
    if (initial == null) {
      throw new IllegalArgumentException("identity list is null");
    }
    Integer[] sorted = new Integer[initial.size()];
    for (int i = 0; i < sorted.length; i++) {
      if (initial.get(i) == null) {
        throw new IllegalArgumentException("identity " + i + " is null");
      }
      sorted[i] = i;
    }
    Arrays.sort(sorted, (a, b) -> Arrays.compareUnsigned(initial.get(a), initial.get(b)));
    for (int i = 1; i < sorted.length; i++) {
      if (Arrays.equals(initial.get(sorted[i - 1]), initial.get(sorted[i]))) {
        throw new IllegalArgumentException(
            "identity 0x" + HexFormat.of().formatHex(initial.get(sorted[i])) + " is listed twice");
      }
    }
    int[] ids = new int[sorted.length];
    for (Integer argIndex : sorted) {
      ids[argIndex] = append();
    }
    if (release18) {
      for (int id : ids) {
        arrival[arrivalCount++] = id;
      }
    }
    return ids;
  }

  /**
   * Registers an engine that arrives after start-up: a new id, ranked last, cold (under Megatron
   * 0.18 also last in the round-robin order).
   */
  public int register() {
    int id = append();
    if (release18) {
      arrival[arrivalCount++] = id;
    }
    return id;
  }

  /**
   * Registers again an engine that was removed. Megatron 0.19: the same as {@link #register()}, a
   * new id, ranked last, cold. Megatron 0.18: the same id comes back at its old rank index, with
   * the pending count it had when it was removed (0.18 never took its requests off) and its index
   * entries live again; it is appended to the round-robin order.
   *
   * @return the engine's id from now on
   * @throws IllegalArgumentException if {@code formerEngineId} was never registered or is active
   */
  public int rejoin(int formerEngineId) {
    if (formerEngineId < 0 || formerEngineId >= engines || active[formerEngineId]) {
      throw new IllegalArgumentException(
          "engine " + formerEngineId + " is not a removed engine; cannot rejoin it");
    }
    if (!release18) {
      return register();
    }
    int id = formerEngineId;
    int rank = activeCount;
    while (rank > 0 && order[rank - 1] > id) {
      rank--;
    }
    System.arraycopy(order, rank, order, rank + 1, activeCount - rank);
    order[rank] = id;
    activeCount++;
    renumberFrom(rank);
    activate(id);
    arrival[arrivalCount++] = id;
    return id;
  }

  /**
   * Replaces an engine that restarted. Megatron 0.19: the new id takes the old one's rank position
   * with a pending count of 0, and the old id's index entries become stale. Megatron 0.18 changes
   * nothing on a re-registration of an active engine: the same id is returned, its pending count
   * and entries as they were.
   *
   * @throws IllegalArgumentException if {@code engineId} is not active
   */
  public int replace(int engineId) {
    if (!isActive(engineId)) {
      throw new IllegalArgumentException(
          "engine " + engineId + " is not active; cannot replace it");
    }
    if (release18) {
      return engineId;
    }
    int rank = rankOfEngine[engineId];
    deactivate(engineId);
    int id = newEngine();
    order[rank] = id;
    rankOfEngine[id] = rank;
    activate(id);
    return id;
  }

  /**
   * Removes an engine: it is never chosen again, the engines ranked above it move down by one, and
   * its index entries become stale (dropped lazily, without scanning the index). Megatron 0.18
   * keeps its rank index, pending count and index entries for a {@link #rejoin}; the entries still
   * take part in finding the deepest hash a request shares with any engine.
   *
   * @return false if the engine is not registered
   */
  public boolean remove(int engineId) {
    if (!isActive(engineId)) {
      return false;
    }
    int rank = rankOfEngine[engineId];
    System.arraycopy(order, rank + 1, order, rank, activeCount - rank - 1);
    activeCount--;
    renumberFrom(rank);
    if (release18) {
      int at = 0;
      while (arrival[at] != engineId) {
        at++;
      }
      System.arraycopy(arrival, at + 1, arrival, at, arrivalCount - at - 1);
      arrivalCount--;
    }
    deactivate(engineId);
    return true;
  }

  /** Whether {@code engineId} is registered and not removed or replaced. */
  boolean isActive(int engineId) {
    return engineId >= 0 && engineId < engines && active[engineId];
  }

  /** How many engines are registered. */
  public int activeEngines() {
    return activeCount;
  }

  /**
   * The engine's current rank index, or -1 if it is not active. Megatron 0.18's rank indexes never
   * change: there the rank index is the id.
   */
  public int rankOf(int engineId) {
    return !isActive(engineId) ? -1 : release18 ? engineId : rankOfEngine[engineId];
  }

  /** The active engine ids by rank index. */
  public int[] activeEnginesInRankOrder() {
    return Arrays.copyOf(order, activeCount);
  }

  /**
   * Chooses an engine for a request; does not change any state except dropping stale entries and,
   * under Megatron 0.18, moving the round-robin cursor when the decision is a round-robin pick.
   *
   * @param hashes the request's leading block hashes in {@code hashes[0..count)}; the router uses
   *     as many as {@link Policy#hashesUsed} says; may be null when {@code count} is 0
   * @param prefixEligible false forces routing by load (multimodal data, a request with its own KV
   *     cache)
   * @return the decision, owned by the router and valid until the next call
   * @throws IllegalStateException if no engine is active
   */
  public Decision route(long[] hashes, int count, boolean prefixEligible) {
    checkHashes(hashes, count);
    if (activeCount == 0) {
      throw new IllegalStateException("no engine is registered to route to");
    }
    int used = prefixEligible && prefixCaching ? policy.hashesUsed(count) : 0;
    if (!policy.isMegatron()) {
      return routeFleet(hashes, used);
    }
    if (used == 0) {
      if (release18) {
        return roundRobin(prefixEligible && prefixCaching ? policy.hashesRecorded(count) : 0);
      }
      int best = 0;
      for (int r = 1; r < activeCount; r++) {
        if (pending[order[r]] < pending[order[best]]) {
          best = r;
        }
      }
      decision.set(order[best], best, 0, 0, 0.0, false);
      return decision;
    }
    return routeByPrefix(hashes, used);
  }

  /** Megatron 0.18's get_next_data_parallel_rank; the commit records {@code recorded} hashes. */
  private Decision roundRobin(int recorded) {
    int idx = cursor % arrivalCount;
    cursor = idx + 1;
    int engine = arrival[idx];
    decision.setUnscored(engine, engine, recorded);
    return decision;
  }

  private Decision routeByPrefix(long[] hashes, int n) {
    index.resetStaleSeen();
    if (ttlNanos > 0) {
      now = clock.getAsLong();
    }
    int owners = 0;
    int depth = -1;
    int warmFrom = n - 1;
    // a block deeper than the reach cannot count (ownersWithinReach)
    for (int i = (int) Math.min(n, reach) - 1; i >= 0 && owners == 0; i--) {
      if (i < warmFrom) {
        // the deeper hashes were not tracked: fetch the next WARM cells together
        warmFrom = Math.max(0, i + 1 - PrefixIndex.WARM);
        index.warm(hashes, warmFrom, i + 1);
      }
      int entry = index.lookup(hashes[i]);
      if (entry >= 0) {
        owners = index.collectOwners(entry, ownerEngines, ownerStamps);
        if (hasReach()) {
          owners = ownersWithinReach(owners, i + 1);
        }
        depth = i;
      }
    }
    double match = owners > 0 ? (depth + 1.0) / n : 0.0;
    for (int j = 0; j < owners; j++) {
      int r = rankOfEngine[ownerEngines[j]];
      if (r >= 0) { // else a removed engine's entry (Megatron 0.18), which gets no score
        owned[r] = true;
        recency[r] = ownerStamps[j];
      }
    }
    int best = -1;
    boolean bestOwned = false;
    double bestScore = 0.0;
    long bestRecency = 0;
    for (int r = 0; r < activeCount; r++) {
      int free = Math.max(0, maxRequests - pending[order[r]]);
      double score =
          alpha * (owned[r] ? match : 0.0) + oneMinusAlpha * (free / (double) maxRequests);
      long rec = recency[r];
      if (best < 0 || score > bestScore || (score == bestScore && rec > bestRecency)) {
        best = r;
        bestScore = score;
        bestRecency = rec;
        bestOwned = owned[r];
      }
      owned[r] = false;
      recency[r] = 0;
    }
    int matchDepth = bestOwned ? depth + 1 : 0;
    int engine = order[best];
    long stamp = bestOwned ? bestRecency : 0;
    decision.set(
        engine,
        release18 ? engine : best,
        n,
        matchDepth,
        bestOwned ? match : 0.0,
        index.staleSeen());
    decision.matchStamp(stamp);
    decision.matchAge(bestOwned ? age(engine, stamp) : 0);
    decision.hiddenAge(hiddenAge(hashes, n, matchDepth, engine));
    return decision;
  }

  /** A policy beyond Megatron's: {@link FleetWalk} chooses. */
  private Decision routeFleet(long[] hashes, int n) {
    index.resetStaleSeen();
    if (ttlNanos > 0) {
      now = clock.getAsLong();
    }
    int best = fleet.choose(hashes, n, order, activeCount, rankOfEngine, pending);
    int depth = fleet.depth(best);
    long stamp = depth > 0 ? fleet.stamp(order[best], depth) : 0;
    decision.set(order[best], best, n, depth, n == 0 ? 0.0 : depth / (double) n, index.staleSeen());
    decision.matchStamp(stamp);
    decision.matchAge(depth > 0 ? age(order[best], stamp) : 0);
    decision.hiddenAge(hiddenAge(hashes, n, depth, order[best]));
    return decision;
  }

  /**
   * The age of {@code engine}'s index entry for {@code hashes[depth]}, the first block past its
   * match, if the age limit hides it; else -1 (see {@link #feedback}).
   */
  private long hiddenAge(long[] hashes, int n, int depth, int engine) {
    if (ageLimit == Long.MAX_VALUE || depth >= n) {
      return -1;
    }
    int entry = index.lookup(hashes[depth]);
    long stamp = entry < 0 ? -1 : index.stampOf(entry, engine);
    // a slot behind the engine's horizon or the epoch is stale, not hidden (a walk may not have
    // dropped it yet)
    boolean hidden = stamp > Math.max(epochStamp, horizon[engine]) && isHidden(engine, stamp);
    return hidden ? age(engine, stamp) : -1;
  }

  /**
   * Records that the request was sent to {@code decision.engine()}: its pending count and the
   * assignment counter go up by one, and every hash the decision used ({@link
   * Decision#hashesUsed()}) now names that engine with the new counter value.
   *
   * @param hashes the same hashes the decision was made with
   * @throws IllegalStateException if the engine was removed since the decision
   */
  public void commit(Decision d, long[] hashes, int count) {
    if (d == null) {
      throw new IllegalArgumentException("decision is null");
    }
    checkHashes(hashes, count);
    int e = d.engine();
    if (!isActive(e)) {
      throw new IllegalStateException("engine " + e + " is not registered; route again");
    }
    pending[e]++;
    if (!policy.isMegatron()) {
      fleet.committed(e, hashes, count, d.matchDepth());
    }
    counter++;
    if (feedback) {
      written.record(e, counter, count); // hits too: each moves a block ahead of older ones
    }
    int n = d.hashesUsed();
    if (n > count) {
      throw new IllegalArgumentException(
          "the decision used " + n + " hashes but only " + count + " are given");
    }
    if (n > 0) {
      if (ttlNanos > 0) {
        now = clock.getAsLong();
      }
      for (int i = 0; i < n; i++) {
        index.assign(hashes[i], e, counter, now);
      }
    }
  }

  /**
   * Records a terminal reply for a request committed to {@code engineId}: its pending count goes
   * down by one, never below 0. A no-op for an engine that is no longer active (under Megatron 0.18
   * a removed engine's count stays as it was until it rejoins; 0.18 itself fails on such a reply).
   */
  public void complete(int engineId) {
    complete(engineId, null, 0);
  }

  /**
   * {@link #complete(int)} of a request whose commit was given {@code hashes[0..count)}: under the
   * policies that weigh blocks in flight (dynamo, llm_d), the engine's in-flight blocks lose them
   * (a block shared by several requests in flight counts once, as Dynamo counts it).
   */
  public void complete(int engineId, long[] hashes, int count) {
    checkHashes(hashes, count);
    if (!isActive(engineId)) {
      return;
    }
    if (pending[engineId] > 0) {
      pending[engineId]--;
    }
    fleet.completed(engineId, hashes, count);
  }

  /**
   * Engine feedback on a finished request (when {@link RouterConfig#feedback()} is on). The router
   * predicted that {@code engineId} held the request's first {@code predictedBlocks} blocks ({@link
   * Decision#matchDepth()}), the deepest of them last assigned at {@code matchStamp} ({@link
   * Decision#matchStamp()}); the engine served {@code servedBlocks} from its cache ({@code
   * num_cached_tokens / block size}). If it served fewer, it had evicted that block, and an engine
   * evicting least recently used blocks first has also evicted every block assigned to it before:
   * the engine's entries up to that stamp become stale (dropped lazily, as at an epoch; no scan),
   * and entries older than {@code matchAge} ({@link Decision#matchAge()}: blocks sent to their
   * engine since) are hidden on every engine (kept, not matched), as the engines are replicas with
   * the same cache. A prediction served in full at a greater age raises that limit, and so does an
   * engine that served more than predicted when its entry for the next block was hidden: it held a
   * block {@code hiddenAge} old ({@link Decision#hiddenAge()}, -1 for none), and the entries the
   * limit hid show again. The request's own entries, assigned at its commit, stay: the engine
   * computed those blocks again and holds them. A shortfall also sets the reach, {@code matchAge +
   * predictedBlocks} (a raise: the new limit plus the blocks served): a matched block counts only
   * if its age plus its depth is within it ({@link #withinReach}).
   *
   * @return whether the engine's horizon moved
   */
  public boolean feedback(
      int engineId,
      int predictedBlocks,
      int servedBlocks,
      long matchStamp,
      long matchAge,
      long hiddenAge) {
    if (!feedback || !isActive(engineId)) {
      return false;
    }
    if (servedBlocks > predictedBlocks && hiddenAge > ageLimit) {
      ageLimit = hiddenAge; // it held a block the limit hid: caches reach further
      reach = ageLimit + servedBlocks;
      return false;
    }
    if (predictedBlocks == 0) {
      return false;
    }
    if (servedBlocks >= predictedBlocks) {
      if (matchAge > ageLimit) {
        ageLimit = matchAge; // it held a block that old: caches reach further
        reach = ageLimit + servedBlocks;
      }
      return false;
    }
    ageLimit = matchAge; // evicted at most that old: older entries are hidden
    reach = ageLimit + predictedBlocks;
    if (matchStamp <= horizon[engineId]) {
      return false;
    }
    horizon[engineId] = matchStamp;
    return true;
  }

  /**
   * Keeps, of the {@code owners} in {@link #ownerEngines} and {@link #ownerStamps}, those whose
   * block at {@code depth} is within the reach; returns how many.
   */
  private int ownersWithinReach(int owners, int depth) {
    int kept = 0;
    for (int j = 0; j < owners; j++) {
      if (age(ownerEngines[j], ownerStamps[j]) + depth <= reach) {
        ownerEngines[kept] = ownerEngines[j];
        ownerStamps[kept++] = ownerStamps[j];
      }
    }
    return kept;
  }

  /** Whether feedback has shown how many blocks a cache holds (withinReach cuts matches). */
  boolean hasReach() {
    return reach < Long.MAX_VALUE;
  }

  /**
   * How much of a {@code depth}-block match on {@code engine} (its entries {@code
   * walked[0..depth)}) counts: the deepest block whose age plus its depth is within the reach. An
   * engine that evicts least recently used blocks first keeps such a block: the blocks sent after
   * it and those before it in the prompt fit in what the last shortfall showed a cache holds.
   */
  int withinReach(int engine, int depth, int[] walked) {
    while (depth > 0) {
      long age = age(engine, index.stampOf(walked[depth - 1], engine));
      if (age + depth <= reach) {
        break;
      }
      depth = (int) Math.max(0, Math.min(depth - 1, reach - age));
    }
    return depth;
  }

  /**
   * Whether engine feedback is on and no engine has yet served fewer blocks than predicted: as far
   * as the router can tell, the engines' caches still hold every block sent to them, so the index's
   * per-engine counts are what they cache ({@link FleetRules#leastWork}).
   */
  boolean cachesHoldAllSent() {
    return feedback && ageLimit == Long.MAX_VALUE;
  }

  /** Index entries dropped by engine feedback so far. */
  public long feedbackPurgedTotal() {
    return feedbackPurged;
  }

  /** Starts a new generation epoch (new weights): every entry written before now is stale. */
  public void newEpoch() {
    epochStamp = counter;
  }

  /** The router's policy. */
  Policy policy() {
    return policy;
  }

  /** The engine's pending requests; 0 for an engine that is not active. */
  public int pending(int engineId) {
    return isActive(engineId) ? pending[engineId] : 0;
  }

  /** Block hashes the index tracks now. */
  public long indexSize() {
    return index.size();
  }

  /** Block hashes evicted so far to keep the index within its capacity. */
  public long evictedTotal() {
    return index.evicted();
  }

  /** Stale owner entries dropped so far (engine gone, older than the epoch or the TTL). */
  long stalePurgedTotal() {
    return index.purged();
  }

  /** The prefix index, for tests of its bounds. */
  PrefixIndex index() {
    return index;
  }

  // ---- internals ----

  private boolean isStale(int engine, long stamp, long writtenNanos) {
    if ((!active[engine] && !release18) || stamp <= epochStamp || expired(writtenNanos)) {
      return true;
    }
    if (stamp <= horizon[engine]) {
      feedbackPurged++;
      return true;
    }
    return false;
  }

  /**
   * Whether feedback's age limit hides an entry stamped {@code stamp} on {@code engine}: older than
   * the oldest block an engine was seen to have evicted (see {@link #feedback}).
   */
  private boolean isHidden(int engine, long stamp) {
    return ageLimit != Long.MAX_VALUE && age(engine, stamp) > ageLimit;
  }

  /**
   * How old an entry stamped {@code stamp} is to the engine's cache: with feedback, the blocks sent
   * to the engine since ({@link WrittenBlocks}); without, the assignments since.
   */
  private long age(int engine, long stamp) {
    return feedback ? written.since(engine, stamp) : counter - stamp;
  }

  /**
   * False only if no owner of an entry can be stale by {@link #isStale} or hidden by {@link
   * #isHidden} whose owner mask words are {@code owners0} and {@code owners1} and whose owners'
   * stamps and write times are at least {@code oldestStamp} and {@code oldestWritten}, in O(1).
   * Once feedback has reported a shortfall (an age limit, and a horizon) it is always true.
   */
  private boolean mayBeStale(long owners0, long owners1, long oldestStamp, long oldestWritten) {
    return ((owners0 & ~activeMask[0]) | (owners1 & ~activeMask[1])) != 0 // HIGH_IDS included
        || oldestStamp <= epochStamp
        || ageLimit != Long.MAX_VALUE
        || expired(oldestWritten);
  }

  /**
   * The stamp at or below which an owner of the active {@code engine} is stale by {@link #isStale}
   * (the epoch, the engine's horizon) or hidden by {@link #isHidden} (the age limit); owners
   * written too long ago are stale as well ({@link #expired}).
   */
  long staleThrough(int engine) {
    // the limit stays at its start value until feedback (on) reports a shortfall
    long byAge = ageLimit == Long.MAX_VALUE ? 0 : written.staleThrough(engine, ageLimit);
    return Math.max(epochStamp, Math.max(horizon[engine], byAge));
  }

  /**
   * Whether an owner written at {@code writtenNanos} is past the TTL, as of the current decision.
   */
  boolean expired(long writtenNanos) {
    return ttlNanos > 0 && now - writtenNanos > ttlNanos;
  }

  private int append() {
    int id = newEngine();
    order[activeCount] = id;
    rankOfEngine[id] = activeCount;
    activeCount++;
    activate(id);
    return id;
  }

  private int newEngine() {
    if (engines == pending.length) {
      int grown = engines * 2;
      pending = Arrays.copyOf(pending, grown);
      horizon = Arrays.copyOf(horizon, grown);
      active = Arrays.copyOf(active, grown);
      rankOfEngine = Arrays.copyOf(rankOfEngine, grown);
      order = Arrays.copyOf(order, grown);
      owned = Arrays.copyOf(owned, grown);
      recency = Arrays.copyOf(recency, grown);
      ownerEngines = Arrays.copyOf(ownerEngines, grown);
      ownerStamps = Arrays.copyOf(ownerStamps, grown);
      arrival = Arrays.copyOf(arrival, grown);
      fleet.grow(grown);
    }
    return engines++;
  }

  /** Takes the engine out of routing; its pending count is kept (for a Megatron 0.18 rejoin). */
  private void deactivate(int engineId) {
    active[engineId] = false;
    if (engineId < PrefixIndex.HIGH_ID) {
      activeMask[PrefixIndex.maskWord(engineId)] &= ~PrefixIndex.maskBit(engineId);
    }
    rankOfEngine[engineId] = -1;
  }

  private void activate(int engineId) {
    active[engineId] = true;
    if (engineId < PrefixIndex.HIGH_ID) {
      activeMask[PrefixIndex.maskWord(engineId)] |= PrefixIndex.maskBit(engineId);
    }
  }

  /** Sets the rank position of the engines at order[from..activeCount). */
  private void renumberFrom(int from) {
    for (int r = from; r < activeCount; r++) {
      rankOfEngine[order[r]] = r;
    }
  }

  private static void checkHashes(long[] hashes, int count) {
    if (count < 0 || (count > 0 && (hashes == null || count > hashes.length))) {
      throw new IllegalArgumentException(
          "hash count "
              + count
              + " is outside the hash array of "
              + (hashes == null ? "null" : hashes.length));
    }
  }
}
