package io.dpcoord.routing;

/**
 * The rules of the policies beyond Megatron's ({@link Policy#isMegatron()} false), each scoring
 * every active engine on its own match and on load across the fleet.
 *
 * <p>Inputs are by rank index, filled by {@link Router} for one decision: {@code depth[r]} the
 * leading blocks of the request the index says engine r holds, {@code pending[r]} its requests in
 * flight, {@code blocks[r]} the distinct blocks of those requests (dynamo and llm_d only), {@code
 * cached[r]} the block hashes the index names it for. Every rule is one pass over the engines (two
 * for the ones that need the fleet's minimum, maximum or mean), allocates nothing, and breaks ties
 * to the lowest rank index (the peers break them at random; a fixed order keeps simulations
 * reproducible).
 */
final class FleetRules {
  /*
   * Design notes: sources and defaults.
   *
   * relative_load: vLLM production-stack's load-aware (kvaware) routing and Megatron's unmerged
   * follow-up to its coordinator both subtract a load term measured against the fleet, not
   * against a fixed capacity, so that an overloaded fleet still spreads (Megatron's free-capacity
   * term is 0 for every engine once all have max_requests pending). beta 1.0.
   *
   * sglang: sgl-router's cache_aware policy. Balanced unless max - min > balance_abs_threshold
   * (64) and max > balance_rel_threshold (1.5) x min; unbalanced picks the shortest queue.
   * Balanced: the longest prefix match in the router's radix tree; if the matched share of the
   * request exceeds cache_threshold (0.3) that engine, else the engine with the smallest tree
   * (here: the fewest hashes the index names it for).
   *
   * dynamo: Dynamo's KvRouter cost at router_temperature 0: overlap_score_weight (1.0) x blocks
   * the engine would prefill (the request's blocks minus its overlap there) + the engine's active
   * blocks (decode load), lowest wins.
   *
   * llm_d: the llm-d inference scheduler's default weights: prefix-cache scorer 3, queue scorer 2,
   * kv-cache-utilization scorer 2; the highest weighted sum wins. The queue scorer is min-max
   * normalised; KV utilisation, which Megatron engines do not report to the coordinator, is
   * estimated from the blocks in flight relative to the busiest engine.
   *
   * Exact ties. relative_load and llm_d score each engine on a sum of fractions. Computed as
   * written, in doubles, two equal scores can round apart (relative_load at pending {1, 0, 0},
   * a full match at rank 0: 1 - (1 - 1/3) comes out 2^-54 below 0 + 1/3), so a tie would go to
   * whichever rounds up, not to the lowest rank. Both rules therefore compare the score times a
   * positive factor that is the same for every engine of the decision (the product of the
   * fractions' denominators), which is an integer: relative_load's
   *   depth x max(ranks, total) - beta x n x (pending x ranks - total),
   * llm_d's
   *   3 depth (max - min queue) most + 2 (max queue - pending) n most + 2 (most - blocks) n (max -
   *   min queue),
   * with most the fleet's most blocks in flight, n at least 1, and a range or a maximum of 0
   * replaced by 1 (its term is then 1 / 1). The products are held in doubles, exact below 2^53
   * (about 9 x 10^15, which n x pending x ranks, or n x queue range x blocks in flight, would
   * have to pass); past that they round, but never overflow. dynamo's cost is an integer
   * already; sglang's comparisons are of integers, or of depth / n with 0.3, which no n in range
   * rounds across.
   */

  static final double RELATIVE_LOAD_BETA = 1.0;
  static final int SGLANG_BALANCE_ABS = 64;
  static final double SGLANG_BALANCE_REL = 1.5;
  static final double SGLANG_CACHE_THRESHOLD = 0.3;
  static final double DYNAMO_PREFILL_WEIGHT = 1.0;
  static final double LLMD_PREFIX_WEIGHT = 3;
  static final double LLMD_QUEUE_WEIGHT = 2;
  static final double LLMD_KV_WEIGHT = 2;

  private FleetRules() {}

  /**
   * The rank index {@code policy} chooses among {@code ranks} engines for a request of {@code n}
   * blocks.
   */
  static int choose(
      Policy policy, int ranks, int n, int[] depth, int[] pending, long[] blocks, int[] cached) {
    return switch (policy) {
      case RELATIVE_LOAD -> relativeLoad(ranks, n, depth, pending);
      case SGLANG -> sglang(ranks, n, depth, pending, cached);
      case DYNAMO -> dynamo(ranks, n, depth, blocks);
      case LLM_D -> llmd(ranks, n, depth, pending, blocks);
      case LEAST_WORK -> throw new IllegalArgumentException("least_work needs the backlog");
      default -> throw new IllegalArgumentException(policy.cliName() + " is one of Megatron's");
    };
  }

  private static double fraction(int depth, int n) {
    return n == 0 ? 0.0 : depth / (double) n;
  }

  static int relativeLoad(int ranks, int n, int[] depth, int[] pending) {
    long total = 0;
    for (int r = 0; r < ranks; r++) {
      total += pending[r];
    }
    // score x n x max(ranks, total), an integer (see the design notes):
    // match - beta (pending - total / ranks) / max(1, total / ranks)
    //   = (depth x scale - beta x n x (pending x ranks - total)) / (n x scale)
    double scale = Math.max(ranks, total);
    double requestBlocks = Math.max(1, n);
    int best = 0;
    double bestScore = Double.NEGATIVE_INFINITY;
    for (int r = 0; r < ranks; r++) {
      double score =
          depth[r] * scale
              - RELATIVE_LOAD_BETA * requestBlocks * ((double) pending[r] * ranks - total);
      if (score > bestScore) {
        best = r;
        bestScore = score;
      }
    }
    return best;
  }

  static int sglang(int ranks, int n, int[] depth, int[] pending, int[] cached) {
    int min = 0;
    int max = 0;
    int longest = 0;
    for (int r = 1; r < ranks; r++) {
      if (pending[r] < pending[min]) {
        min = r;
      }
      if (pending[r] > pending[max]) {
        max = r;
      }
      if (depth[r] > depth[longest]) {
        longest = r;
      }
    }
    if (pending[max] - pending[min] > SGLANG_BALANCE_ABS
        && pending[max] > SGLANG_BALANCE_REL * pending[min]) {
      return min;
    }
    if (fraction(depth[longest], n) > SGLANG_CACHE_THRESHOLD) {
      return longest;
    }
    int smallest = 0;
    for (int r = 1; r < ranks; r++) {
      if (cached[r] < cached[smallest]) {
        smallest = r;
      }
    }
    return smallest;
  }

  static int dynamo(int ranks, int n, int[] depth, long[] blocks) {
    int best = 0;
    double bestCost = Double.POSITIVE_INFINITY;
    for (int r = 0; r < ranks; r++) {
      double cost = DYNAMO_PREFILL_WEIGHT * (n - depth[r]) + blocks[r];
      if (cost < bestCost) {
        best = r;
        bestCost = cost;
      }
    }
    return best;
  }

  static int llmd(int ranks, int n, int[] depth, int[] pending, long[] blocks) {
    int minQueue = Integer.MAX_VALUE;
    int maxQueue = Integer.MIN_VALUE;
    long maxBlocks = 0;
    for (int r = 0; r < ranks; r++) {
      minQueue = Math.min(minQueue, pending[r]);
      maxQueue = Math.max(maxQueue, pending[r]);
      maxBlocks = Math.max(maxBlocks, blocks[r]);
    }
    // score x n x queue range x most blocks, an integer (see the design notes), where a queue
    // range of 0 makes every queue term 1 / 1 and no blocks in flight every KV term 1 / 1
    double prefixScale = Math.max(1, n);
    double queueScale = maxQueue == minQueue ? 1 : (double) maxQueue - minQueue;
    double kvScale = maxBlocks == 0 ? 1 : maxBlocks;
    int best = 0;
    double bestScore = Double.NEGATIVE_INFINITY;
    for (int r = 0; r < ranks; r++) {
      double queue = maxQueue == minQueue ? 1 : (double) maxQueue - pending[r];
      double kv = maxBlocks == 0 ? 1 : (double) (maxBlocks - blocks[r]);
      double score =
          LLMD_PREFIX_WEIGHT * depth[r] * (queueScale * kvScale)
              + LLMD_QUEUE_WEIGHT * queue * (prefixScale * kvScale)
              + LLMD_KV_WEIGHT * kv * (prefixScale * queueScale);
      if (score > bestScore) {
        best = r;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * How many times {@link #leastWork} counts a matched block: once for the prefill it saves this
   * request, once for the copy of it that another engine would have to cache (and evict for).
   */
  static final int CACHE_WEIGHT = 2;

  /**
   * How far above the least work, in prefills of the request, {@link #leastWork} may place a new
   * prefix (half: measured in the simulator, docs/ROUTING-QUALITY.md).
   */
  static final double PLACEMENT_MARGIN = 0.5;

  /**
   * The engine with the least estimated work ahead of this request's first token: the prefill
   * tokens already queued there (drained at the engine's prefill rate since they were sent) plus
   * the tokens this request would prefill there, plus one block per request pending there (so that
   * engines full of long decodes are not taken for idle), less the matched tokens once more ({@link
   * #CACHE_WEIGHT}); ties to the longer match, then the fewest pending, then the fewest blocks
   * {@code cached} there by the index (as sglang places a new prefix: an idle fleet spreads new
   * prefixes instead of giving them all to the first rank).
   *
   * <p>With {@code placeNewPrefixes} (engine feedback on, and no engine yet seen to serve fewer
   * blocks than predicted, so the index's counts are what the caches hold), a request of at least
   * one block that no engine holds any of goes to the engine with the fewest blocks {@code cached}
   * among those within half a prefill of this request ({@link #PLACEMENT_MARGIN}) of the least work
   * (then the least work, then the lowest rank): a new prefix's later requests follow it, so
   * placing it is placing their load, and while nothing has been evicted the blocks cached count
   * the prefixes already placed.
   */
  static int leastWork(
      int ranks,
      int n,
      int[] depth,
      int[] pending,
      double[] backlog,
      int[] cached,
      int blockSize,
      boolean placeNewPrefixes) {
    int best = 0;
    double bestCost = Double.POSITIVE_INFINITY;
    boolean matched = false;
    for (int r = 0; r < ranks; r++) {
      double cost = leastWorkCost(r, n, depth, pending, backlog, blockSize);
      matched |= depth[r] > 0;
      if (cost < bestCost
          || (cost == bestCost
              && (depth[r] > depth[best]
                  || (depth[r] == depth[best]
                      && (pending[r] < pending[best]
                          || (pending[r] == pending[best] && cached[r] < cached[best])))))) {
        best = r;
        bestCost = cost;
      }
    }
    if (!placeNewPrefixes || matched || n == 0) {
      return best;
    }
    double within = bestCost + PLACEMENT_MARGIN * n * blockSize;
    int chosen = -1; // best is among them
    double chosenCost = 0;
    for (int r = 0; r < ranks; r++) {
      double cost = leastWorkCost(r, n, depth, pending, backlog, blockSize);
      if (cost <= within
          && (chosen < 0
              || cached[r] < cached[chosen]
              || (cached[r] == cached[chosen] && cost < chosenCost))) {
        chosen = r;
        chosenCost = cost;
      }
    }
    return chosen;
  }

  private static double leastWorkCost(
      int r, int n, int[] depth, int[] pending, double[] backlog, int blockSize) {
    return backlog[r] + (double) (n - CACHE_WEIGHT * depth[r] + pending[r]) * blockSize;
  }
}
