package io.dpcoord.routing;

import static io.dpcoord.routing.Routers.assign;
import static io.dpcoord.routing.Routers.setPending;
import static io.dpcoord.routing.Routers.withEngines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The policies beyond Megatron's through the router: what it feeds {@link FleetRules} (each
 * engine's own match, pending requests, distinct blocks in flight, cached hashes, least_work's
 * backlog), what the decision reports, and engine feedback (horizon and age limit).
 */
class RouterFleetTest {
  private static final long H0 = 2001;
  private static final long H1 = 2002;
  private static final long H2 = 2003;
  private static final long H3 = 2004;
  private static final long H4 = 2005;
  private static final long[] FOUR = {H0, H1, H2, H3};
  private static final long[] FIVE = {H0, H1, H2, H3, H4};

  static Stream<Policy> fleetPolicies() {
    return Stream.of(Policy.values()).filter(p -> !p.isMegatron());
  }

  /** A router whose clock stands still, so that least_work's backlogs do not drain. */
  private static Router router(Policy policy, boolean feedback, int engines) {
    return withEngines(
        RouterConfig.builder().policy(policy).feedback(feedback).nanoClock(() -> 0L).build(),
        engines);
  }

  /** Dynamo with feedback on: on an idle fleet the lowest n - depth, ties to rank 0. */
  private static Router dynamo(int engines) {
    return router(Policy.DYNAMO, true, engines);
  }

  /** Commits {@code hashes} to {@code engine} and completes them: indexed, nothing in flight. */
  private static void assignAndComplete(Router router, int engine, long... hashes) {
    assign(router, engine, hashes);
    router.complete(engine, hashes, hashes.length);
  }

  // ---- each engine's own match ----

  @Test
  void eachEngineMatchesOnlyTheLeadingBlocksItHoldsInARow() {
    Router router = dynamo(3);
    assignAndComplete(router, 0, H0, H1, H2);
    assignAndComplete(router, 1, H0, H2, H3); // blocks 0, 2 and 3, not 1
    assignAndComplete(router, 2, H1, H2, H3);

    // depths {3, 1, 0}: costs {1, 3, 4}
    Decision d = router.route(FOUR, 4, true);
    assertThat(d.engine()).isZero();
    assertThat(d.matchDepth()).isEqualTo(3);
    assertThat(d.matchFraction()).isEqualTo(0.75);

    // block 2 onwards does not count for engine 1, which lacks block 1
    router.remove(0);
    d = router.route(FOUR, 4, true);
    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.matchDepth()).isEqualTo(1);

    // engine 2 holds blocks 1 to 3 but not block 0: no match at all
    router.remove(1);
    d = router.route(FOUR, 4, true);
    assertThat(d.engine()).isEqualTo(2);
    assertThat(d.matchDepth()).isZero();
    assertThat(d.hit()).isFalse();
  }

  @Test
  void theWalkGoesOnWhileAnyEngineExtendsItsRun() {
    Router router = dynamo(3);
    assignAndComplete(router, 0, H0);
    assignAndComplete(router, 1, H0, H1);
    assignAndComplete(router, 2, FIVE); // stamp 3
    assignAndComplete(router, 2, H0); // 4

    // depths {1, 2, 5}: the walk passes the hashes where engines 0 and 1 stop
    Decision d = router.route(FIVE, 5, true);
    assertThat(d.engine()).isEqualTo(2);
    assertThat(d.matchDepth()).isEqualTo(5);
    assertThat(d.matchFraction()).isEqualTo(1.0);
    assertThat(d.matchStamp()).as("the deepest block's, not the latest").isEqualTo(3);
    assertThat(d.matchAge()).isEqualTo(1);
  }

  @ParameterizedTest
  @MethodSource("fleetPolicies")
  void theDecisionCarriesTheChosenEnginesOwnMatch(Policy policy) {
    Router router = router(policy, false, 3);
    assign(router, 0, FOUR); // stamp 1
    assign(router, 0, FIVE); // 2
    assign(router, 1, H0, H1); // 3
    assign(router, 2, H4); // 4
    setPending(router, 0, 100); // 98 commits without hashes: 102
    setPending(router, 1, 0); // a completion without hashes: H0 and H1 stay in flight
    // depths {4, 2, 0}, pending {100, 0, 1}, distinct blocks in flight {5, 2, 1}, least_work's
    // backlog {144, 32, 16} tokens: engine 1 wins under each
    //   relative_load: mean 33.7: {1 - 66.3 / 33.7, 0.5 + 1, 0 + 32.7 / 33.7} = {-0.97, 1.5, 0.97}
    //   sglang: 100 - 0 > 64 and 100 > 0: imbalanced, the fewest pending
    //   dynamo: {0 + 5, 2 + 2, 4 + 1}
    //   llm_d: {3 + 0 + 0, 1.5 + 2 + 1.2, 0 + 1.98 + 1.6}
    //   least_work: {144 + (0 + 100) 16, 32 + (2 + 0) 16, 16 + (4 + 1) 16} = {1744, 64, 96}
    assertThat(fleetPolicies()).as("a new policy needs its line above").hasSize(5);
    Decision d = router.route(FOUR, 4, true);

    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.rank()).isEqualTo(1);
    assertThat(d.matchDepth()).isEqualTo(2);
    assertThat(d.matchFraction()).isEqualTo(0.5);
    assertThat(d.matchStamp()).as("H1's stamp on engine 1").isEqualTo(3);
    assertThat(d.matchAge()).isEqualTo(99);
    assertThat(d.hashesUsed()).isEqualTo(4);
    assertThat(d.prefixApplied()).isTrue();
    assertThat(d.hit()).isTrue();
  }

  @ParameterizedTest
  @MethodSource("fleetPolicies")
  void aDecisionWithoutAMatchCarriesNoStampOrAge(Policy policy) {
    Router router = router(policy, false, 2);
    assignAndComplete(router, 0, FOUR); // stamp 1
    assignAndComplete(router, 1, FOUR); // 2

    // a match at rank 0 (every rule ties), then a request nobody holds, then one not eligible
    for (boolean eligible : new boolean[] {true, false}) {
      assertThat(router.route(FOUR, 4, true).matchAge()).isEqualTo(1);
      Decision d = router.route(eligible ? new long[] {9001} : FOUR, 1, eligible);
      assertThat(d.matchDepth()).isZero();
      assertThat(d.matchStamp()).isZero();
      assertThat(d.matchAge()).isZero();
    }
  }

  // ---- load ----

  @Test
  void blocksInFlightRiseOnCommitAndFallOnCompleteNeverBelowZero() {
    Router router = dynamo(2);
    // no hashes: the cost is the blocks in flight alone
    assign(router, 1, H0, H1, H2);
    assertThat(router.route(null, 0, true).engine()).as("blocks {0, 3}").isZero();

    assign(router, 0, FIVE);
    assertThat(router.route(null, 0, true).engine()).as("blocks {5, 3}").isEqualTo(1);

    router.complete(0, FIVE, 5);
    assertThat(router.route(null, 0, true).engine()).as("blocks {0, 3}").isZero();

    // engine 1 never had FIVE in flight: completions of it take nothing off, however many
    router.complete(1, FIVE, 5);
    router.complete(1, FIVE, 5);
    assertThat(router.pending(1)).isZero();
    assign(router, 0, FIVE);
    assertThat(router.route(null, 0, true).engine())
        .as("blocks {5, 3}; {5, 0} had the completions taken H0 to H2 off engine 1")
        .isEqualTo(1);

    // the request engine 1 has in flight, completed twice: once, never below zero
    router.complete(1, new long[] {H0, H1, H2}, 3);
    router.complete(1, new long[] {H0, H1, H2}, 3);
    assign(router, 1, H0);
    assertThat(router.route(null, 0, true).engine())
        .as("blocks {5, 1}; {5, -2} had the second completion counted")
        .isEqualTo(1);
    assign(router, 1, H0, H1, H2, H3, H4, 2006);
    assertThat(router.route(null, 0, true).engine())
        .as("blocks {5, 6}: H0 once, then H1 to H4 and 2006")
        .isZero();
  }

  @Test
  void aPrefixSharedByRequestsInFlightCountsOnce() {
    Router router = dynamo(2);
    long[] a = {H0, H1, H2};
    long[] b = {H0, H1, H3};
    long[] c = {3001, 3002, 3003};
    assign(router, 0, a);
    assign(router, 0, b);
    assign(router, 1, c);
    long[] request = {H0, H1, 5001};

    // engine 0 has H0, H1, H2 and H3 in flight: 4 blocks, not 6. Depths {2, 0}.
    Decision d = router.route(request, 3, true);
    assertThat(d.engine()).as("costs {1 + 4, 3 + 3}; {1 + 6, 6} counted twice").isZero();
    assertThat(d.matchDepth()).isEqualTo(2);

    // a is done, but b still has H0 and H1 in flight: blocks {3, 0}
    router.complete(0, a, 3);
    router.complete(1, c, 3);
    assertThat(router.route(request, 3, true).engine())
        .as("costs {1 + 3, 3 + 0}; {1 + 1, 3} had a's completion taken the shared blocks off")
        .isEqualTo(1);

    router.complete(0, b, 3);
    assertThat(router.route(request, 3, true).engine()).as("costs {1 + 0, 3 + 0}").isZero();
  }

  @Test
  void aCompletionWithoutHashesLeavesTheBlocksInFlight() {
    Router router = dynamo(2);
    assign(router, 0, H0, H1);
    router.complete(0);

    assertThat(router.pending(0)).isZero();
    assertThat(router.route(null, 0, true).engine()).as("blocks {2, 0}").isEqualTo(1);
  }

  @Test
  void sglangFallsBackToTheEngineTheIndexNamesForTheFewestHashes() {
    Router router = router(Policy.SGLANG, false, 3);
    assign(router, 0, H0, H1, H2);
    assign(router, 1, H3);
    assign(router, 2, H3, H4);

    // no match, balanced: cached {3, 1, 2}
    long[] other = {9001, 9002};
    assertThat(router.route(other, 2, true).engine()).isEqualTo(1);

    assign(router, 1, 9101, 9102);
    assertThat(router.route(other, 2, true).engine()).as("cached {3, 3, 2}").isEqualTo(2);
  }

  @Test
  void leastWorkDrainsEachEnginesBacklogByTheClock() {
    long[] now = {0};
    Router router =
        withEngines(
            RouterConfig.builder().policy(Policy.LEAST_WORK).nanoClock(() -> now[0]).build(), 2);
    long[] ten = {3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008, 3009, 3010};
    assignAndComplete(router, 0, ten); // 10 blocks of 16 tokens to prefill: 160
    setPending(router, 1, 3); // 3 blocks' worth: 48

    // a request of no block: costs {160, 48}
    assertThat(router.route(null, 0, true).engine()).isEqualTo(1);
    // 25,000 tokens/s: 75 drained after 3 ms, {85, 48}; 125 after 5 ms, {35, 48}
    now[0] = 3_000_000;
    assertThat(router.route(null, 0, true).engine()).isEqualTo(1);
    now[0] = 5_000_000;
    assertThat(router.route(null, 0, true).engine()).isZero();

    // drained long since, not below zero: 4 new blocks and one pending make {64 + 16, 48}
    now[0] = 1_000_000_000;
    assign(router, 0, 4001, 4002, 4003, 4004);
    assertThat(router.route(null, 0, true).engine()).isEqualTo(1);
    // what engine 0 holds is not prefilled again: {80 + 0, 48 + 4 x 16}
    assertThat(router.route(new long[] {4001, 4002, 4003, 4004}, 4, true).engine()).isZero();
  }

  @Test
  void leastWorkWithFeedbackPlacesNewPrefixesOnTheFewestCachedUntilAShortfall() {
    // a new prefix of 4 blocks: costs {0 + (4 + 0) 16, 0 + (4 + 2) 16} = {64, 96}; engine 1 is
    // within half a prefill (32) of the least work and caches fewer blocks
    long[] fresh = {5001, 5002, 5003, 5004};
    assertThat(cachedTenAndTwoPending(true).route(fresh, 4, true).engine()).isEqualTo(1);
    assertThat(cachedTenAndTwoPending(false).route(fresh, 4, true).engine()).isZero();
    // engine 0 served 1 block of 2 predicted: caches evict, the index's counts are not theirs
    Router router = cachedTenAndTwoPending(true);
    router.feedback(0, 2, 1, 1, 1, -1);
    assertThat(router.route(fresh, 4, true).engine()).isZero();
  }

  /** least_work on two idle engines: engine 0 caches 10 blocks, engine 1 none but has 2 pending. */
  private static Router cachedTenAndTwoPending(boolean feedback) {
    long[] now = {0};
    Router router =
        withEngines(
            RouterConfig.builder()
                .policy(Policy.LEAST_WORK)
                .feedback(feedback)
                .nanoClock(() -> now[0])
                .build(),
            2);
    assignAndComplete(router, 0, 3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008, 3009, 3010);
    now[0] = 1_000_000_000; // engine 0's backlog drained
    setPending(router, 1, 2);
    return router;
  }

  @Test
  void leastWorkDrainsAtTheConfiguredPrefillRate() {
    long[] now = {0};
    Router router =
        withEngines(
            RouterConfig.builder()
                .policy(Policy.LEAST_WORK)
                .prefillTokensPerSecond(50_000)
                .nanoClock(() -> now[0])
                .build(),
            2);
    long[] ten = {3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008, 3009, 3010};
    assignAndComplete(router, 0, ten); // 160 tokens to prefill
    setPending(router, 1, 3); // 48
    // 50,000 tokens/s: 150 drained after 3 ms, {10, 48} (at 25,000/s it would be {85, 48})
    now[0] = 3_000_000;
    assertThat(router.route(null, 0, true).engine()).isZero();
  }

  @Test
  void thePrefillRateMustBeAPositiveNumber() {
    for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThatThrownBy(() -> RouterConfig.builder().prefillTokensPerSecond(bad))
          .hasMessageContaining("prefill rate must be a positive number");
    }
    assertThat(RouterConfig.builder().build().prefillTokensPerSecond()).isEqualTo(25_000);
  }

  // ---- feedback ----

  @Test
  void aShortfallMakesTheEnginesOlderEntriesStaleButNotTheRequestsOwn() {
    Router router = dynamo(2);
    assignAndComplete(router, 0, 7001); // stamp 1
    assignAndComplete(router, 1, 7001); // 2
    assignAndComplete(router, 0, H0, H1, 7003); // 3
    assignAndComplete(router, 1, 8001); // 4

    // depths {2, 0}: costs {2, 4}
    Decision d = router.route(FOUR, 4, true);
    assertThat(d.engine()).isZero();
    assertThat(d.matchDepth()).isEqualTo(2);
    assertThat(d.matchStamp()).as("H1's stamp").isEqualTo(3);
    assertThat(d.matchAge()).as("no block sent to engine 0 since stamp 3").isZero();
    router.commit(d, FOUR, 4); // 5: H0 to H3 on engine 0
    router.complete(0, FOUR, 4);

    // served 1 of 2: engine 0 evicted H1, assigned at 3, and what it was sent before
    assertThat(router.feedback(0, 2, 1, 3, 1, -1)).isTrue();
    assertThat(router.feedback(0, 2, 1, 3, 1, -1)).as("the horizon is at 3 already").isFalse();
    assertThat(router.feedbackPurgedTotal()).as("dropped when a walk meets them").isZero();

    // 7001: engine 0's entry (stamp 1) is stale, engine 1's (stamp 2) is not; costs {1, 0}
    d = router.route(new long[] {7001}, 1, true);
    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.matchDepth()).isEqualTo(1);
    assertThat(d.matchStamp()).isEqualTo(2);
    assertThat(d.staleFound()).isTrue();
    assertThat(router.feedbackPurgedTotal()).isEqualTo(1);

    // 7003 was assigned with H1, at the horizon itself: stale too; costs {1, 1}
    d = router.route(new long[] {7003}, 1, true);
    assertThat(d.engine()).isZero();
    assertThat(d.matchDepth()).isZero();
    assertThat(router.feedbackPurgedTotal()).isEqualTo(2);

    // the request's own entries, stamped 5 by its commit, stay, but no match counts more than
    // the shortfall's reach: the lost block had 1 block sent after it and 1 before it in its
    // prompt, so the engine holds at most 1 + 2 blocks; costs {1, 4}
    d = router.route(FOUR, 4, true);
    assertThat(d.engine()).isZero();
    assertThat(d.matchDepth()).isEqualTo(3);
    assertThat(d.matchStamp()).isEqualTo(5);
    assertThat(router.feedbackPurgedTotal()).isEqualTo(2);
  }

  @Test
  void megatronsRuleWithFeedbackCountsABlockOnlyWithinTheReach() {
    Router router = router(Policy.LONGEST_PREFIX, true, 2);
    assignAndComplete(router, 1, 9001); // stamp 1
    assignAndComplete(router, 0, FIVE); // 2
    Decision d = router.route(FIVE, 5, true);
    assertThat(d.engine()).isZero();
    assertThat(d.matchDepth()).isEqualTo(5);

    // engine 1 lost the 2nd block of a prompt, 1 block old: no engine holds more than 1 + 2
    assertThat(router.feedback(1, 2, 1, 1, 1, -1)).isTrue();
    d = router.route(FIVE, 5, true);
    // the deepest hash looked up is H2: 0.5 * 3/5 + 0.5 * 16/16 against 0.5 * 16/16
    assertThat(d.engine()).isZero();
    assertThat(d.matchDepth()).isEqualTo(3);
    assertThat(d.matchStamp()).isEqualTo(2);
    assertThat(d.matchAge()).as("within the limit of 1").isZero();

    // one more block sent to engine 0: H2 is 1 old at depth 3, past the reach; H1 is within it
    assignAndComplete(router, 0, 9002); // 3
    d = router.route(FIVE, 5, true);
    assertThat(d.engine()).isZero();
    assertThat(d.matchDepth()).isEqualTo(2);
    assertThat(d.matchAge()).isEqualTo(1);
  }

  @Test
  void afterAShortfallEntriesOlderThanItsAgeAreHiddenOnEveryEngineUntilOneIsServed() {
    Router router = dynamo(2);
    assignAndComplete(router, 0, H0, H1); // stamp 1
    assignAndComplete(router, 1, 8001); // 2
    Decision d = router.route(FOUR, 4, true);
    assertThat(d.matchAge()).as("blocks sent to engine 0 since stamp 1").isZero();
    router.commit(d, FOUR, 4); // 3
    router.complete(0, FOUR, 4);
    assertThat(router.feedback(0, 2, 0, d.matchStamp(), d.matchAge(), d.hiddenAge()))
        .isTrue(); // the limit is 0

    // an age counts the blocks sent to the entry's engine, not the fleet's assignments; no match
    // counts more than the shortfall's reach, its age 0 and its 2 predicted blocks
    assignAndComplete(router, 1, 8002, 8003); // 4
    assertThat(router.route(FOUR, 4, true).matchDepth()).isEqualTo(2);

    assignAndComplete(router, 0, 8004); // 5: H0 to H3 are 1 block old on engine 0, past it
    d = router.route(FOUR, 4, true);
    assertThat(d.engine()).as("costs {4, 4}").isZero();
    assertThat(d.matchDepth()).isZero();
    assertThat(d.hiddenAge()).as("engine 0's entry for H0, stamp 3, 1 block old").isEqualTo(1);
    assertThat(router.feedbackPurgedTotal()).as("hidden, not dropped").isZero();
    long hidden = d.hiddenAge(); // the router reuses its decision

    // the limit is the fleet's: 8001 is 2 blocks old on engine 1; costs {1, 1}
    assertThat(router.route(new long[] {8001}, 1, true).matchDepth()).isZero();

    // engine 0 served FOUR's 4 blocks, none predicted: it held H0 at age 1, the limit rises to 1
    // and the reach to 1 + 4
    assertThat(router.feedback(0, 0, 4, 0, 0, hidden)).isFalse();
    d = router.route(FOUR, 4, true);
    assertThat(d.matchDepth()).as("H0 to H3 show again").isEqualTo(4);
    assertThat(d.matchStamp()).isEqualTo(3);
    assertThat(router.route(new long[] {8001}, 1, true).matchDepth()).as("2 old").isZero();
    assertThat(router.feedbackPurgedTotal()).isZero();
  }

  @Test
  void aConfirmedPredictionAtAGreaterAgeRaisesTheLimit() {
    Router router = dynamo(2);
    long[] x = {5001, 5002, 5003};
    assignAndComplete(router, 0, H0, H1); // stamp 1
    assignAndComplete(router, 0, 5001, 5002, 5009); // 2
    assignAndComplete(router, 1, 8001); // 3
    assignAndComplete(router, 1, 8002); // 4

    // x: depths {2, 0}, costs {1, 3}; FOUR: depths {2, 0}, costs {2, 4}
    Decision d = router.route(x, 3, true);
    assertThat(d.engine()).isZero();
    long xStamp = d.matchStamp();
    long xAge = d.matchAge();
    router.commit(d, x, 3); // 5
    router.complete(0, x, 3);
    d = router.route(FOUR, 4, true);
    assertThat(d.engine()).isZero();
    long fourStamp = d.matchStamp();
    long fourAge = d.matchAge();
    router.commit(d, FOUR, 4); // 6
    router.complete(0, FOUR, 4);
    // FOUR's H1 (stamp 1) is 6 blocks old on engine 0: 5001, 5002, 5009 and x's three
    assertThat(new long[] {xStamp, xAge, fourStamp, fourAge}).containsExactly(2, 0, 1, 6);

    // x's reply first: a shortfall at age 0 sets the limit to 0
    assertThat(router.feedback(0, 2, 1, xStamp, xAge, -1)).isTrue();
    // then FOUR's: the 2 blocks predicted were served, 6 blocks old: the limit rises to 6
    assertThat(router.feedback(0, 2, 2, fourStamp, fourAge, -1)).isFalse();
    // a confirmation at a smaller age does not lower it
    assertThat(router.feedback(0, 4, 5, 6, 1, -1)).isFalse();

    // 5009, assigned with x's matched block, is within the limit but not past the horizon
    d = router.route(new long[] {5009}, 1, true);
    assertThat(d.engine()).as("costs {1, 1}").isZero();
    assertThat(d.matchDepth()).isZero();

    // FOUR's entries, 6 blocks old, are within the limit, but the reach is the confirmation's age
    // and its 2 blocks served: of a match of 4 blocks 6 old, 2 count (6 + 2 <= 8)
    assignAndComplete(router, 0, 8003, 8004, 8005, 8006, 8007, 8008); // 7
    assertThat(router.route(FOUR, 4, true).matchDepth()).as("6 old, within the limit").isEqualTo(2);
    assignAndComplete(router, 0, 8009); // 8
    d = router.route(FOUR, 4, true);
    assertThat(d.engine()).as("costs {4, 4}").isZero();
    assertThat(d.matchDepth()).as("7 old, past it").isZero();
  }

  @Test
  void aReplyWithoutAPredictionTeachesNothing() {
    Router router = dynamo(2);
    assignAndComplete(router, 0, H0, H1); // stamp 1
    assignAndComplete(router, 1, 8001); // 2
    Decision d = router.route(FOUR, 4, true);
    router.commit(d, FOUR, 4); // 3
    router.complete(0, FOUR, 4);
    assertThat(router.feedback(0, 2, 0, 1, 1, -1)).isTrue(); // the limit is 1

    // nothing predicted: neither a shortfall nor a confirmation, whatever stamp and age say
    assertThat(router.feedback(0, 0, 0, 3, 0, -1)).isFalse();
    assertThat(router.feedback(0, 0, 4, 0, 3, -1)).isFalse();

    assignAndComplete(router, 0, 8002, 8003); // 4: FOUR's entries are 2 blocks old
    assertThat(router.route(FOUR, 4, true).matchDepth()).as("past a limit of 1").isZero();
  }

  @Test
  void feedbackOffChangesNothing() {
    Router router = router(Policy.DYNAMO, false, 2);
    assignAndComplete(router, 0, 7001); // stamp 1
    assignAndComplete(router, 0, H0, H1); // 2
    assignAndComplete(router, 1, 8001); // 3
    Decision d = router.route(FOUR, 4, true);
    assertThat(d.matchStamp()).isEqualTo(2);
    router.commit(d, FOUR, 4); // 4
    router.complete(0, FOUR, 4);

    assertThat(router.feedback(0, 2, 0, 2, 1, -1)).isFalse();
    assignAndComplete(router, 1, 8002); // 5
    assignAndComplete(router, 1, 8003); // 6

    // on, 7001 would be behind the horizon and FOUR's entries past the age limit
    assertThat(router.route(new long[] {7001}, 1, true).matchDepth()).isEqualTo(1);
    assertThat(router.route(FOUR, 4, true).matchDepth()).isEqualTo(4);
    assertThat(router.feedbackPurgedTotal()).isZero();
  }

  @Test
  void feedbackOnAnEngineThatIsNoLongerActiveChangesNothing() {
    Router router = dynamo(3);
    assignAndComplete(router, 0, FOUR); // stamp 1
    assignAndComplete(router, 1, FOUR); // 2
    assignAndComplete(router, 2, H4); // 3
    router.remove(0);
    int restarted = router.replace(1);
    assignAndComplete(router, restarted, FOUR); // 4

    assertThat(router.feedback(0, 4, 0, 4, 0, -1)).as("removed").isFalse();
    assertThat(router.feedback(1, 4, 0, 4, 0, -1)).as("replaced").isFalse();
    assertThat(router.feedback(99, 4, 0, 4, 0, -1)).as("never registered").isFalse();
    assertThat(router.feedback(-1, 4, 0, 4, 0, -1)).as("no engine id").isFalse();

    // the restarted engine's entries stay: costs {0, 4}
    Decision d = router.route(FOUR, 4, true);
    assertThat(d.engine()).isEqualTo(restarted);
    assertThat(d.matchDepth()).isEqualTo(4);
    assertThat(router.feedbackPurgedTotal()).isZero();
  }
}
