package io.dpcoord.routing;

import static io.dpcoord.routing.Routers.assign;
import static io.dpcoord.routing.Routers.setPending;
import static io.dpcoord.routing.Routers.withEngines;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The policies beyond Megatron's through the router: what it feeds {@link FleetRules} (each
 * engine's own match, pending requests, active blocks, cached hashes), what the decision reports,
 * and engine feedback.
 */
class RouterFleetTest {
  private static final long H0 = 2001;
  private static final long H1 = 2002;
  private static final long H2 = 2003;
  private static final long H3 = 2004;
  private static final long H4 = 2005;
  private static final long[] FOUR = {H0, H1, H2, H3};
  private static final long[] FIVE = {H0, H1, H2, H3, H4};

  private static Router router(Policy policy, boolean feedback, int engines) {
    return withEngines(RouterConfig.builder().policy(policy).feedback(feedback).build(), engines);
  }

  /** Dynamo on an idle fleet: the lowest n - depth, so the deepest match, ties to rank 0. */
  private static Router dynamo(int engines) {
    return router(Policy.DYNAMO, true, engines);
  }

  // ---- each engine's own match ----

  @Test
  void eachEngineMatchesOnlyTheLeadingBlocksItHoldsInARow() {
    Router router = dynamo(3);
    assign(router, 0, H0, H1, H2);
    assign(router, 1, H0, H1, H2, H3);
    assign(router, 2, H1, H2, H3);
    // engine 1 loses block 1 only: it keeps blocks 0, 2 and 3
    assertThat(router.feedback(1, new long[] {H1}, 1, 1, 0)).isEqualTo(1);
    router.complete(0, 3);
    router.complete(1, 4);
    router.complete(2, 3);

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
    assign(router, 0, H0);
    assign(router, 1, H0, H1);
    assign(router, 2, H0, H1, H2, H3, H4);
    router.complete(0, 1);
    router.complete(1, 2);
    router.complete(2, 5);

    // depths {1, 2, 5}: the walk passes the hashes where engines 0 and 1 stop
    Decision d = router.route(FIVE, 5, true);
    assertThat(d.engine()).isEqualTo(2);
    assertThat(d.matchDepth()).isEqualTo(5);
    assertThat(d.matchFraction()).isEqualTo(1.0);
  }

  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"RELATIVE_LOAD", "SGLANG", "DYNAMO", "LLM_D"})
  void theDecisionCarriesTheChosenEnginesOwnMatch(Policy policy) {
    Router router = router(policy, false, 3);
    assign(router, 0, H0, H1, H2, H3);
    assign(router, 0, H0, H1, H2, H3);
    assign(router, 1, H0, H1);
    assign(router, 2, H4);
    setPending(router, 0, 100);
    setPending(router, 1, 0);
    // depths {4, 2, 0}, pending {100, 0, 1}, active blocks {8, 2, 1}: engine 1 wins under each
    //   relative_load: mean 33.7: {1 - 66.3 / 33.7, 0.5 + 1, 0 + 32.7 / 33.7} = {-0.97, 1.5, 0.97}
    //   sglang: 100 - 0 > 64 and 100 > 0: imbalanced, the fewest pending
    //   dynamo: {0 + 8, 2 + 2, 4 + 1}
    //   llm_d: {3 + 0 + 0, 1.5 + 2 + 1.5, 0 + 1.98 + 1.75}
    Decision d = router.route(FOUR, 4, true);

    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.rank()).isEqualTo(1);
    assertThat(d.matchDepth()).isEqualTo(2);
    assertThat(d.matchFraction()).isEqualTo(0.5);
    assertThat(d.hashesUsed()).isEqualTo(4);
    assertThat(d.prefixApplied()).isTrue();
    assertThat(d.hit()).isTrue();
  }

  // ---- load ----

  @Test
  void activeBlocksRiseOnCommitAndFallOnCompleteNeverBelowZero() {
    Router router = dynamo(2);
    // no hashes: the cost is the active blocks alone
    assign(router, 1, H0, H1, H2);
    assertThat(router.route(null, 0, true).engine()).isZero();

    assign(router, 0, H0, H1, H2, H3, H4);
    assertThat(router.route(null, 0, true).engine()).as("blocks {5, 3}").isEqualTo(1);

    router.complete(0, 5);
    assertThat(router.route(null, 0, true).engine()).as("blocks {0, 3}").isZero();

    router.complete(1, 100);
    assertThat(router.route(null, 0, true).engine()).as("blocks {0, 0}, a tie").isZero();
    assign(router, 1, H4);
    assertThat(router.route(null, 0, true).engine()).as("blocks {0, 1}").isZero();
    assertThat(router.pending(1)).isEqualTo(1);
  }

  @Test
  void aCompletionWithoutBlocksLeavesTheActiveBlocks() {
    Router router = dynamo(2);
    assign(router, 0, H0, H1);
    router.complete(0);

    assertThat(router.pending(0)).isZero();
    assertThat(router.route(null, 0, true).engine()).as("blocks {2, 0}").isEqualTo(1);
  }

  @Test
  void sglangFallsBackToTheEngineTheIndexNamesForTheFewestHashes() {
    Router router = router(Policy.SGLANG, true, 3);
    assign(router, 0, H0, H1, H2);
    assign(router, 1, H3);
    assign(router, 2, H3, H4);

    // no match, balanced: cached {3, 1, 2}
    long[] other = {9001, 9002};
    assertThat(router.route(other, 2, true).engine()).isEqualTo(1);

    // engine 0 no longer holds its three
    assertThat(router.feedback(0, new long[] {H0, H1, H2}, 3, 3, 0)).isEqualTo(3);
    assertThat(router.route(other, 2, true).engine()).as("cached {0, 1, 2}").isZero();
  }

  // ---- feedback ----

  @Test
  void feedbackDropsTheEnginesEntriesPastWhatItServed() {
    Router router = dynamo(2);
    assign(router, 0, FIVE);
    assign(router, 1, FOUR);

    // predicted 5, served 2: engine 0 loses blocks 2, 3 and 4; block 4 had no other owner
    assertThat(router.feedback(0, FIVE, 5, 5, 2)).isEqualTo(3);
    assertThat(router.feedbackPurgedTotal()).isEqualTo(3);
    assertThat(router.indexSize()).isEqualTo(4);

    router.complete(0, 5);
    router.complete(1, 4);
    // engine 1's entries stay: depths {2, 4}, costs {3, 1}
    Decision d = router.route(FIVE, 5, true);
    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.matchDepth()).isEqualTo(4);
    // engine 0 keeps exactly the blocks it served
    router.remove(1);
    assertThat(router.route(FIVE, 5, true).matchDepth()).isEqualTo(2);
  }

  @Test
  void feedbackDropsOnlyUpToTheCountGiven() {
    Router router = dynamo(2);
    assign(router, 0, FIVE);

    // hashes[1..3): blocks 1 and 2
    assertThat(router.feedback(0, FIVE, 3, 3, 1)).isEqualTo(2);
    assertThat(router.indexSize()).isEqualTo(3);
    router.complete(0, 5);
    assertThat(router.route(FIVE, 5, true).matchDepth()).isEqualTo(1);
    assertThat(router.feedbackPurgedTotal()).isEqualTo(2);
  }

  @Test
  void feedbackDropsPastThePredictionToo() {
    Router router = dynamo(2);
    assign(router, 0, FIVE);

    // predicted 3, served 1: hashes[1..5), the blocks past the prediction as well
    assertThat(router.feedback(0, FIVE, 5, 3, 1)).isEqualTo(4);
    assertThat(router.indexSize()).isEqualTo(1);
  }

  @Test
  void feedbackCountsOnlyTheEntriesThereWere() {
    Router router = dynamo(2);
    assign(router, 0, H0, H1);

    // blocks 1 to 4 predicted lost; the engine only ever held block 1 of them
    assertThat(router.feedback(0, FIVE, 5, 5, 1)).isEqualTo(1);
    assertThat(router.feedbackPurgedTotal()).isEqualTo(1);
    assertThat(router.indexSize()).isEqualTo(1);
  }

  @Test
  void feedbackOfAnEngineThatServedWhatWasPredictedDropsNothing() {
    Router router = dynamo(2);
    assign(router, 0, FOUR);

    assertThat(router.feedback(0, FOUR, 4, 3, 3)).isZero();
    assertThat(router.feedback(0, FOUR, 4, 2, 4)).isZero();
    assertThat(router.feedback(0, FOUR, 4, 0, 0)).isZero();
    assertThat(router.feedbackPurgedTotal()).isZero();
    assertThat(router.indexSize()).isEqualTo(4);
    router.complete(0, 4);
    assertThat(router.route(FOUR, 4, true).matchDepth()).isEqualTo(4);
  }

  @Test
  void feedbackOffDropsNothing() {
    Router router = router(Policy.DYNAMO, false, 2);
    assign(router, 0, FOUR);

    assertThat(router.feedback(0, FOUR, 4, 4, 0)).isZero();
    assertThat(router.feedbackPurgedTotal()).isZero();
    assertThat(router.indexSize()).isEqualTo(4);
    router.complete(0, 4);
    assertThat(router.route(FOUR, 4, true).matchDepth()).isEqualTo(4);
  }

  @Test
  void feedbackOnAnEngineThatIsNoLongerActiveDropsNothing() {
    Router router = dynamo(3);
    assign(router, 0, FOUR);
    assign(router, 1, FOUR);
    assign(router, 2, H4);
    router.remove(0);
    int restarted = router.replace(1);

    assertThat(router.feedback(0, FOUR, 4, 4, 0)).as("removed").isZero();
    assertThat(router.feedback(1, FOUR, 4, 4, 0)).as("replaced").isZero();
    assertThat(router.feedback(99, FOUR, 4, 4, 0)).as("never registered").isZero();
    assertThat(router.feedback(restarted, FOUR, 4, 4, 0)).as("holds nothing yet").isZero();
    assertThat(router.feedbackPurgedTotal()).isZero();
    assertThat(router.indexSize()).isEqualTo(5);
  }
}
