package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The rules of the policies beyond Megatron's on small fleets, each case computed by hand in its
 * comment. Arrays are by rank index: depth (leading blocks held), pending (requests in flight),
 * blocks (blocks in flight), cached (hashes the index names the engine for).
 */
class FleetRulesTest {
  private static final int[] NONE3 = {0, 0, 0};
  private static final long[] IDLE3 = {0, 0, 0};

  private static int choose(
      Policy policy, int n, int[] depth, int[] pending, long[] blocks, int[] cached) {
    return FleetRules.choose(policy, depth.length, n, depth, pending, blocks, cached);
  }

  private static int relativeLoad(int n, int[] depth, int[] pending) {
    return choose(
        Policy.RELATIVE_LOAD, n, depth, pending, new long[depth.length], new int[depth.length]);
  }

  private static int sglang(int n, int[] depth, int[] pending, int[] cached) {
    return choose(Policy.SGLANG, n, depth, pending, new long[depth.length], cached);
  }

  private static int dynamo(int n, int[] depth, long[] blocks) {
    return choose(Policy.DYNAMO, n, depth, new int[depth.length], blocks, new int[depth.length]);
  }

  private static int llmd(int n, int[] depth, int[] pending, long[] blocks) {
    return choose(Policy.LLM_D, n, depth, pending, blocks, new int[depth.length]);
  }

  // ---- relative_load: match - (pending - mean) / max(1, mean) ----

  @Test
  void relativeLoadScalesTheLoadTermByTheMeanWhenTheMeanIsAtLeastOne() {
    // n 4, pending {3, 2, 4, 3}: mean 3, scale 3.
    // r0 0 - 0 = 0; r1 0 + 1/3 = 0.33; r2 1 - 1/3 = 0.67; r3 0.
    // (With scale 1, r2 would score 0 and r1 1.)
    assertThat(relativeLoad(4, new int[] {0, 0, 4, 0}, new int[] {3, 2, 4, 3})).isEqualTo(2);
    // A half match there: r2 0.5 - 1/3 = 0.17 < r1 0.33. (With beta 0.5, r2 0.33 > r1 0.17.)
    assertThat(relativeLoad(4, new int[] {0, 0, 2, 0}, new int[] {3, 2, 4, 3})).isEqualTo(1);
  }

  @Test
  void relativeLoadUsesScaleOneWhenTheMeanIsBelowOne() {
    // n 4, pending {1, 0, 1, 0}: mean 0.5, scale max(1, 0.5) = 1.
    // r0 1 - 0.5 = 0.5; r1 0 + 0.5 = 0.5; r2 -0.5; r3 0.5: a tie, to the lowest rank, r0.
    // (With scale 0.5, r0 would score 0 and r1 1.)
    assertThat(relativeLoad(4, new int[] {4, 0, 0, 0}, new int[] {1, 0, 1, 0})).isZero();
  }

  @Test
  void relativeLoadRoutesAnIdleFleetByMatch() {
    // pending all 0: mean 0, scale 1 (not 0, which would make every score NaN).
    // r0 0; r1 0; r2 3/4; r3 1/4.
    assertThat(relativeLoad(4, new int[] {0, 0, 3, 1}, new int[] {0, 0, 0, 0})).isEqualTo(2);
  }

  @Test
  void relativeLoadSendsToAnIdleEngineWhenTheFullMatchIsFarAboveTheMean() {
    // n 4, pending {10, 0, 1, 1}: mean 3, scale 3.
    // r0 1 - 7/3 = -1.33; r1 0 + 3/3 = 1; r2 0 + 2/3 = 0.67; r3 0.67.
    assertThat(relativeLoad(4, new int[] {4, 0, 0, 0}, new int[] {10, 0, 1, 1})).isEqualTo(1);
  }

  @Test
  void relativeLoadBreaksTiesToTheLowestRank() {
    // n 4, pending all 1: mean 1, scale 1, load term 0. r1 = r3 = 0.5, r0 = r2 = 0.
    assertThat(relativeLoad(4, new int[] {0, 2, 0, 2}, new int[] {1, 1, 1, 1})).isEqualTo(1);
    // nothing matched, equal loads: every score 0.
    assertThat(relativeLoad(4, new int[] {0, 0, 0, 0}, new int[] {2, 2, 2, 2})).isZero();
  }

  @Test
  void relativeLoadTiesAreExactWhereFloatingPointWouldRoundThemApart() {
    // n 2, pending {1, 0, 0}: mean 1/3, scale 1. r0 1 - 2/3 = 1/3; r1 = r2 = 0 + 1/3: a tie, r0.
    // (In doubles 1 - (1 - 1/3) comes out 2^-54 below 1/3.)
    assertThat(relativeLoad(2, new int[] {2, 0, 0}, new int[] {1, 0, 0})).isZero();
    // n 13, pending {5, 4, 5, 4, 4, 4}: mean 13/3. r2 7/13 - (2/3) / (13/3) = 5/13;
    // r4 4/13 + (1/3) / (13/3) = 5/13; r3 3/13 + 1/13 = 4/13; the others 0 + 1/13 or less: r2.
    assertThat(relativeLoad(13, new int[] {0, 0, 7, 3, 4, 0}, new int[] {5, 4, 5, 4, 4, 4}))
        .isEqualTo(2);
  }

  // ---- sglang: imbalanced (max - min > 64 and max > 1.5 min) -> fewest pending; else the
  // longest match if its fraction > 0.3; else the fewest cached blocks ----

  @Test
  void sglangImbalancedFleetGoesToTheShortestQueueDespiteAFullMatch() {
    // pending {100, 30, 50}: 100 - 30 = 70 > 64 and 100 > 45: imbalanced, fewest pending r1.
    assertThat(sglang(10, new int[] {10, 0, 0}, new int[] {100, 30, 50}, new int[] {1, 9, 9}))
        .isEqualTo(1);
  }

  @Test
  void sglangIsBalancedWhenOnlyTheAbsoluteGapHolds() {
    // pending {205, 140, 170}: 205 - 140 = 65 > 64, but 205 > 1.5 x 140 = 210 fails: balanced.
    // Longest match r2, 10/10 > 0.3. (Imbalanced would pick r1.)
    assertThat(sglang(10, new int[] {0, 0, 10}, new int[] {205, 140, 170}, new int[] {0, 0, 9}))
        .isEqualTo(2);
  }

  @Test
  void sglangIsBalancedWhenOnlyTheRelativeGapHolds() {
    // pending {64, 0, 10}: 64 > 1.5 x 0, but 64 - 0 = 64 is not > 64: balanced.
    // Longest match r2, 4/10 = 0.4 > 0.3. (Imbalanced would pick r1.)
    assertThat(sglang(10, new int[] {0, 0, 4}, new int[] {64, 0, 10}, new int[] {0, 0, 9}))
        .isEqualTo(2);
  }

  @Test
  void sglangIsBalancedAtExactlyOneAndAHalfTimesTheMinimum() {
    // pending {300, 200, 250}: 100 > 64, but 300 > 1.5 x 200 = 300 fails: balanced, r0's match.
    assertThat(sglang(10, new int[] {5, 0, 0}, new int[] {300, 200, 250}, new int[] {9, 0, 0}))
        .isZero();
    // one more on r0: 301 > 300 as well, imbalanced: the fewest pending, r1.
    assertThat(sglang(10, new int[] {5, 0, 0}, new int[] {301, 200, 250}, new int[] {9, 0, 0}))
        .isEqualTo(1);
  }

  @Test
  void sglangNeedsAMatchRateAboveThreePointThree() {
    // balanced (all pending 1); longest match r0, 3/10 = 0.3, not > 0.3: the fewest cached, r1.
    assertThat(sglang(10, new int[] {3, 0, 0}, new int[] {1, 1, 1}, new int[] {5, 2, 9}))
        .isEqualTo(1);
    // 4/10 = 0.4 > 0.3: the match, r0, whatever it caches.
    assertThat(sglang(10, new int[] {4, 0, 0}, new int[] {1, 1, 1}, new int[] {5, 2, 9})).isZero();
  }

  @Test
  void sglangPicksTheLongestMatchAndBreaksTiesToTheLowestRank() {
    // balanced; depths {2, 5, 5, 1} of 10: longest 5 at r1 and r2, 0.5 > 0.3: r1.
    assertThat(sglang(10, new int[] {2, 5, 5, 1}, new int[] {0, 3, 3, 0}, new int[] {0, 0, 0, 0}))
        .isEqualTo(1);
  }

  @Test
  void sglangFallsBackToTheLeastCachedEngineTiesToTheLowestRank() {
    // balanced, nothing matched: cached {7, 3, 3, 9}: r1.
    assertThat(sglang(8, new int[] {0, 0, 0, 0}, new int[] {0, 5, 5, 0}, new int[] {7, 3, 3, 9}))
        .isEqualTo(1);
    // no complete block (n 0): the match rate is 0, the same fallback.
    assertThat(sglang(0, new int[] {0, 0, 0, 0}, new int[] {0, 0, 0, 0}, new int[] {4, 4, 2, 9}))
        .isEqualTo(2);
  }

  @Test
  void sglangImbalancedTiesGoToTheLowestRank() {
    // pending {100, 0, 0, 50}: imbalanced; fewest pending r1 and r2: r1.
    assertThat(sglang(4, new int[] {4, 0, 4, 0}, new int[] {100, 0, 0, 50}, new int[] {0, 0, 0, 0}))
        .isEqualTo(1);
  }

  // ---- dynamo: lowest (n - depth) + active blocks ----

  @Test
  void dynamoAddsBlocksToPrefillToActiveBlocks() {
    // n 8: r0 0 + 20 = 20; r1 6 + 4 = 10; r2 8 + 0 = 8.
    assertThat(dynamo(8, new int[] {8, 2, 0}, new long[] {20, 4, 0})).isEqualTo(2);
    // n 8: r0 2 + 3 = 5; r1 8 + 0 = 8; r2 8 + 1 = 9.
    assertThat(dynamo(8, new int[] {6, 0, 0}, new long[] {3, 0, 1})).isZero();
  }

  @Test
  void dynamoBreaksTiesToTheLowestRank() {
    // n 8: r0 4 + 5 = 9; r1 8 + 0 = 8; r2 6 + 2 = 8; r3 4 + 4 = 8: r1.
    assertThat(dynamo(8, new int[] {4, 0, 2, 4}, new long[] {5, 0, 2, 4})).isEqualTo(1);
    // an idle fleet and no match: all cost n.
    assertThat(dynamo(8, new int[] {0, 0, 0, 0}, new long[] {0, 0, 0, 0})).isZero();
  }

  // ---- llm_d: 3 prefix + 2 queue + 2 KV ----

  @Test
  void llmdNormalisesTheQueueBetweenTheFleetsMinimumAndMaximum() {
    // pending {2, 6, 4}: queue {1, 0, 0.5}; no blocks in flight: KV 1 each; n 4.
    // r0 0 + 2 + 2 = 4; r1 3 + 0 + 2 = 5; r2 1.5 + 1 + 2 = 4.5.
    assertThat(llmd(4, new int[] {0, 4, 2}, new int[] {2, 6, 4}, IDLE3)).isEqualTo(1);
    // pending {2, 6, 3}: queue {1, 0, 0.75}: r2 1.5 + 1.5 + 2 = 5 ties r1, the lower rank.
    assertThat(llmd(4, new int[] {0, 4, 2}, new int[] {2, 6, 3}, IDLE3)).isEqualTo(1);
    // pending {2, 7, 3}: queue {1, 0, 0.8}: r2 1.5 + 1.6 + 2 = 5.1 > 5.
    assertThat(llmd(4, new int[] {0, 4, 2}, new int[] {2, 7, 3}, IDLE3)).isEqualTo(2);
  }

  @Test
  void llmdQueueScoreIsOneWhenAllQueuesAreEqual() {
    // pending all 3: queue 1 each (not 0 / 0); KV 1 each; r2 3 x 2/4 + 2 + 2 = 5.5, the others 4.
    assertThat(llmd(4, new int[] {0, 0, 2}, new int[] {3, 3, 3}, IDLE3)).isEqualTo(2);
  }

  @Test
  void llmdEstimatesKvFromActiveBlocksRelativeToTheBusiestEngine() {
    // blocks {10, 5, 0}: KV {0, 0.5, 1}; equal queues: 1 each; n 4.
    // r0 3 + 2 + 0 = 5; r1 1.5 + 2 + 1 = 4.5; r2 0 + 2 + 2 = 4.
    assertThat(llmd(4, new int[] {4, 2, 0}, new int[] {1, 1, 1}, new long[] {10, 5, 0})).isZero();
    // depths {2, 2, 0}: r0 1.5 + 2 + 0 = 3.5; r1 1.5 + 2 + 1 = 4.5; r2 4.
    assertThat(llmd(4, new int[] {2, 2, 0}, new int[] {1, 1, 1}, new long[] {10, 5, 0}))
        .isEqualTo(1);
  }

  @Test
  void llmdWeighsPrefixThreeAgainstTwoForQueueAndKv() {
    // pending {0, 4, 4}: queue {1, 0, 0}; blocks {8, 0, 8}: KV {0, 1, 0}; n 2.
    // depths {0, 0, 2}: r0 0 + 2 + 0 = 2; r1 0 + 0 + 2 = 2; r2 3 + 0 + 0 = 3: the prefix weighs
    // more than either load term.
    assertThat(llmd(2, new int[] {0, 0, 2}, new int[] {0, 4, 4}, new long[] {8, 0, 8}))
        .isEqualTo(2);
    // depths {0, 0, 1}: r2 1.5 < 2; r0 and r1 tie (queue and KV weigh the same): r0.
    assertThat(llmd(2, new int[] {0, 0, 1}, new int[] {0, 4, 4}, new long[] {8, 0, 8})).isZero();
    // depths {0, 1, 0}: r1 1.5 + 0 + 2 = 3.5 > r0 2.
    assertThat(llmd(2, new int[] {0, 1, 0}, new int[] {0, 4, 4}, new long[] {8, 0, 8}))
        .isEqualTo(1);
  }

  @Test
  void llmdBreaksTiesToTheLowestRank() {
    // an idle fleet, nothing matched: every score 2 + 2 = 4.
    assertThat(llmd(4, NONE3, new int[] {0, 0, 0}, IDLE3)).isZero();
    // n 10, pending {10, 9, 10}: queue {0, 1, 0}; blocks {74, 70, 80}: KV {6/80, 10/80, 0}.
    // r0 3 x 0.7 + 0 + 2 x 0.075 = 2.25; r1 0 + 2 + 2 x 0.125 = 2.25; r2 0: a tie, r0.
    // (In doubles r0 comes out below r1.)
    assertThat(llmd(10, new int[] {7, 0, 0}, new int[] {10, 9, 10}, new long[] {74, 70, 80}))
        .isZero();
  }

  // ---- least_work: lowest backlog + (n - 2 depth + pending) x block size; ties to the longer
  // match, then the fewer pending, then the fewer cached ----

  private static int leastWork(int n, int[] depth, int[] pending, double[] backlog) {
    return leastWork(n, depth, pending, backlog, new int[depth.length]);
  }

  private static int leastWork(int n, int[] depth, int[] pending, double[] backlog, int[] cached) {
    return FleetRules.leastWork(depth.length, n, depth, pending, backlog, cached, 16, false);
  }

  private static int placing(int n, int[] depth, int[] pending, double[] backlog, int[] cached) {
    return FleetRules.leastWork(depth.length, n, depth, pending, backlog, cached, 16, true);
  }

  @Test
  void leastWorkPlacesANewPrefixOnTheFewestCachedWithinHalfAPrefillOfTheLeastWork() {
    // n 4 (64 tokens), no match anywhere, pending 0: costs {0, 32, 65} + 64 = {64, 96, 129};
    // within 64 + 32 = 96: r0 and r1 (at the bound); r1 caches fewer (10 against 50); r2 (5)
    // is too busy
    int[] none = {0, 0, 0};
    double[] backlog = {0, 32, 65};
    int[] cached = {50, 10, 5};
    assertThat(placing(4, none, none, backlog, cached)).isEqualTo(1);
    // without placing, the least work: r0
    assertThat(leastWork(4, none, none, backlog, cached)).isZero();
    // r2 at 96 too: within, and it caches the fewest
    assertThat(placing(4, none, none, new double[] {0, 32, 32}, cached)).isEqualTo(2);
    // equal cached: the least work, then the lowest rank
    assertThat(placing(4, none, none, backlog, new int[] {10, 10, 5})).isZero();
    // costs {96, 96, 161}, within 128: r0 and r1 tie on cached and work, the lower rank
    assertThat(placing(4, none, none, new double[] {32, 32, 97}, new int[] {10, 10, 5})).isZero();
    // a match anywhere, or no complete block: the cost rule
    assertThat(placing(4, new int[] {0, 0, 1}, none, backlog, cached)).isZero();
    // (n 0: costs {32, 16, 0 + 16}; r1 and r2 tie, and the cost rule's fewer pending picks r1
    // where placing would pick r2, which caches fewer)
    assertThat(placing(0, none, new int[] {0, 0, 1}, new double[] {32, 16, 0}, cached))
        .isEqualTo(1);
  }

  @Test
  void leastWorkAddsTheBacklogToTheTokensToPrefillAndABlockPerPendingRequest() {
    // n 8: r0 300 + (8 - 16 + 2) 16 = 204; r1 0 + (8 + 0) 16 = 128; r2 64 + (8 - 8 + 1) 16 = 80.
    // (Counting each matched block once, r1's 128 would beat r2's 64 + (4 + 1) 16 = 144.)
    assertThat(leastWork(8, new int[] {8, 0, 4}, new int[] {2, 0, 1}, new double[] {300, 0, 64}))
        .isEqualTo(2);
    // r2 with 5 pending: 64 + (0 + 5) 16 = 144 > 128.
    assertThat(leastWork(8, new int[] {8, 0, 4}, new int[] {2, 0, 5}, new double[] {300, 0, 64}))
        .isEqualTo(1);
  }

  @Test
  void leastWorkTiesGoToTheLongerMatchThenTheFewerPending() {
    // n 4, backlog {0, 16, 32}: r0 0 + (4 + 0) 16 = 64; r1 16 + (0 + 1) 16 = 32; r2 32 + (0 + 0)
    // 16 = 32. The same match: fewer pending, r2.
    assertThat(leastWork(4, new int[] {0, 2, 2}, new int[] {0, 1, 0}, new double[] {0, 16, 32}))
        .isEqualTo(2);
    // n 4: r0 0 + (4 + 0) 16 = 64; r1 32 + (0 + 2) 16 = 64: the longer match despite 2 pending.
    assertThat(leastWork(4, new int[] {0, 2}, new int[] {0, 2}, new double[] {0, 32})).isEqualTo(1);
    // equal in all three: the fewer cached blocks, r1; equal in all four: the lowest rank.
    assertThat(
            leastWork(4, new int[] {1, 1}, new int[] {1, 1}, new double[] {8, 8}, new int[] {9, 7}))
        .isEqualTo(1);
    assertThat(leastWork(4, new int[] {1, 1}, new int[] {1, 1}, new double[] {8, 8})).isZero();
    // an idle fleet, nothing matched: r2 caches the fewest blocks.
    assertThat(
            leastWork(
                4, new int[] {0, 0, 0}, new int[] {0, 0, 0}, new double[3], new int[] {40, 40, 12}))
        .isEqualTo(2);
  }

  @Test
  void leastWorkIsNotChosenWithoutItsBacklog() {
    assertThatThrownBy(() -> choose(Policy.LEAST_WORK, 1, NONE3, NONE3, IDLE3, NONE3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("least_work");
  }

  @Test
  void megatronPoliciesAreNotFleetRules() {
    assertThatThrownBy(() -> choose(Policy.LONGEST_PREFIX, 1, NONE3, NONE3, IDLE3, NONE3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("longest_prefix");
  }
}
