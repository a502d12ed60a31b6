package io.dpcoord.routing;

import static io.dpcoord.routing.Routers.assign;
import static io.dpcoord.routing.Routers.name;
import static io.dpcoord.routing.Routers.send;
import static io.dpcoord.routing.Routers.setPending;
import static io.dpcoord.routing.Routers.withEngines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Each rule of Megatron core_v0.18.2's routing on small cases computed by hand from its code
 * (docs/design/routing.md, "Megatron 0.18 routing").
 */
class Megatron018RouterTest {
  private static final long H0 = 2001;
  private static final long H1 = 2002;
  private static final long H2 = 2003;
  private static final long[] SHORT = {};

  private static RouterConfig.Builder v18() {
    return RouterConfig.builder().release(MegatronRelease.V0_18);
  }

  /** Engines a, b, c registered in the order c, a, b: ids (= rank indexes) a=0, b=1, c=2. */
  private static Router arrivedCAB(RouterConfig config) {
    Router router = new Router(config);
    int[] ids = router.registerInitial(List.of(name("c"), name("a"), name("b")));
    assertThat(ids).containsExactly(2, 0, 1);
    return router;
  }

  private static int roundRobin(Router router) {
    Decision d = send(router, SHORT);
    assertThat(d.prefixApplied()).isFalse();
    assertThat(d.hashesUsed()).isZero();
    return d.engine();
  }

  // ---- round-robin fallback ----

  @Test
  void promptsWithoutACompleteBlockGoRoundRobinInRegistrationOrder() {
    Router router = arrivedCAB(v18().build());
    setPending(router, 2, 5); // load does not matter to round-robin

    assertThat(roundRobin(router)).isEqualTo(2);
    assertThat(roundRobin(router)).isZero();
    assertThat(roundRobin(router)).isEqualTo(1);
    assertThat(roundRobin(router)).isEqualTo(2);
    assertThat(router.rankOf(2)).isEqualTo(2);
    assertThat(router.activeEnginesInRankOrder()).containsExactly(0, 1, 2);
  }

  @Test
  void cursorKeepsItsNumberWhenAnEngineLeavesAndANewOneIsAppended() {
    Router router = arrivedCAB(v18().build()); // round-robin order c, a, b
    assertThat(roundRobin(router)).isEqualTo(2); // idx 0, cursor 1
    assertThat(roundRobin(router)).isZero(); // idx 1, cursor 2

    router.remove(2); // order a, b: b, next in line, moves to position 1 and is skipped once

    assertThat(roundRobin(router)).isZero(); // 2 % 2 = 0
    assertThat(roundRobin(router)).isEqualTo(1); // cursor 1
    int d = router.register(); // order a, b, d
    assertThat(d).isEqualTo(3);
    assertThat(roundRobin(router)).isEqualTo(d); // cursor 2
    assertThat(roundRobin(router)).isZero(); // 3 % 3 = 0
  }

  @Test
  void prefixDecisionsDoNotMoveTheCursorButARetryAfterAFailedSendDoes() {
    Router router = arrivedCAB(v18().build());
    assertThat(roundRobin(router)).isEqualTo(2); // cursor 1

    send(router, H0, H1); // scored: cursor stays
    send(router, H2);
    assertThat(roundRobin(router)).isZero(); // cursor 2

    // the pick b (idx 2) cannot be sent to: the caller removes it and routes again
    assertThat(router.route(SHORT, 0, true).engine()).isEqualTo(1);
    router.remove(1); // order c, a; cursor 3
    assertThat(router.route(SHORT, 0, true).engine()).isEqualTo(0); // 3 % 2 = 1
  }

  @Test
  void disabledPrefixCachingAndIneligibleRequestsGoRoundRobinAndRecordNothing() {
    Router off = arrivedCAB(v18().prefixCaching(false).build());
    assertThat(off.route(new long[] {H0}, 1, true).engine()).isEqualTo(2);
    Decision d = send(off, H0);
    assertThat(d.engine()).isZero();
    assertThat(d.hashesUsed()).isZero();
    assertThat(off.indexSize()).isZero();

    Router on = arrivedCAB(v18().build());
    Decision multimodal = on.route(new long[] {H0}, 1, false);
    assertThat(multimodal.engine()).isEqualTo(2);
    assertThat(multimodal.prefixApplied()).isFalse();
    assertThat(multimodal.hashesUsed()).isZero();
  }

  // ---- round_robin policy ----

  @Test
  void roundRobinPolicyIgnoresPrefixesButRecordsEveryHash() {
    Router router = arrivedCAB(v18().policy(Policy.ROUND_ROBIN).build());
    assign(router, 1, H0, H1); // round_robin's hashesUsed is 0: this records nothing
    assertThat(router.indexSize()).isZero();

    Decision first = send(router, H0, H1, H2);
    assertThat(first.engine()).isEqualTo(2);
    assertThat(first.prefixApplied()).isFalse();
    assertThat(first.hit()).isFalse();
    assertThat(first.matchDepth()).isZero();
    assertThat(first.hashesUsed()).isEqualTo(3);
    assertThat(router.indexSize()).isEqualTo(3);

    Decision second = send(router, H0, H1, H2);
    assertThat(second.engine()).isZero(); // not engine c, which holds all three blocks
    assertThat(second.hit()).isFalse();
    assertThat(send(router, SHORT).engine()).isEqualTo(1);
    assertThat(router.indexSize()).isEqualTo(3);
  }

  // ---- rank indexes, removal and rejoining ----

  @Test
  void aRejoiningEngineTakesItsOldIndexWithItsFrozenPendingCountAndItsEntries() {
    Router router = withEngines(v18().build(), 3); // a=0, b=1, c=2
    assign(router, 1, H0); // pending b = 1
    assign(router, 1, H1); // pending b = 2
    assertThat(router.remove(1)).isTrue();
    router.complete(1); // 0.18 would fail on a reply from a removed engine: nothing changes
    assertThat(router.pending(1)).isZero();
    assertThat(router.rankOf(1)).isEqualTo(-1);
    assertThat(router.activeEnginesInRankOrder()).containsExactly(0, 2);
    assertThat(router.rankOf(2)).isEqualTo(2);

    assertThat(router.rejoin(1)).isEqualTo(1);

    assertThat(router.activeEngines()).isEqualTo(3);
    assertThat(router.rankOf(1)).isEqualTo(1);
    assertThat(router.pending(1)).isEqualTo(2);
    assertThat(router.activeEnginesInRankOrder()).containsExactly(0, 1, 2);
    setPending(router, 0, 2);
    setPending(router, 2, 2);
    Decision d = router.route(new long[] {H0}, 1, true);
    assertThat(d.engine()).isEqualTo(1); // its entry for H0 counts again
    assertThat(d.rank()).isEqualTo(1);
    assertThat(d.hit()).isTrue();
    assertThat(d.staleFound()).isFalse();
    router.complete(1);
    assertThat(router.pending(1)).isEqualTo(1);
  }

  @Test
  void aRejoiningEngineWinsTiesAtItsOldIndexButIsLastInRoundRobinOrder() {
    Router router = withEngines(v18().build(), 3);
    router.remove(0);
    router.rejoin(0);

    assertThat(router.route(new long[] {H0}, 1, true).engine()).isZero(); // all equal: index 0
    assertThat(roundRobin(router)).isEqualTo(1);
    assertThat(roundRobin(router)).isEqualTo(2);
    assertThat(roundRobin(router)).isZero();
  }

  /**
   * Engines a, b, c with the given pending counts; a holds H0, b holds H0 and H1 and is removed.
   */
  private static Router bLeftHoldingTwoBlocks(RouterConfig config, int a, int b, int c) {
    Router router = withEngines(config, 3);
    assign(router, 0, H0);
    assign(router, 1, H0, H1);
    setPending(router, 0, a);
    setPending(router, 1, b);
    setPending(router, 2, c);
    router.remove(1);
    return router;
  }

  @Test
  void aRemovedOwnerOfTheDeepestHashHidesAShallowerMatchOfAConnectedEngine() {
    // alpha 0.25, max 16; a holds H0, b holds H0 H1 and leaves with 16 pending, c holds nothing.
    // 0.18 scans H1 first: its only owner is b, so a gets no credit for H0.
    //   b: 0.25 * 1 + 0.75 * 0/16 = 0.25 (removed, loses anyway)
    //   a: 0.75 * 12/16 = 0.5625      (with credit for 1 of 2 blocks it would be 0.6875)
    //   c: 0.75 * 14/16 = 0.65625
    Router router = bLeftHoldingTwoBlocks(v18().alpha(0.25).build(), 4, 16, 2);

    Decision d = router.route(new long[] {H0, H1}, 2, true);

    assertThat(d.engine()).isEqualTo(2);
    assertThat(d.matchDepth()).isZero();
    assertThat(d.staleFound()).isFalse();

    Router forgets = bLeftHoldingTwoBlocks(RouterConfig.builder().alpha(0.25).build(), 4, 16, 2);
    Decision current = forgets.route(new long[] {H0, H1}, 2, true);
    assertThat(current.engine()).isZero();
    assertThat(current.matchDepth()).isEqualTo(1);
  }

  @Test
  void whereMegatron018WouldChooseARemovedEngineTheBestConnectedOneIsChosen() {
    // b left idle holding both blocks: 0.5 * 1 + 0.5 * 1 = 1.0 beats everyone (0.18 fails here).
    // Of a and c (0.5 each, no recency: a's H0 is shallower than the hash b owns), a has the
    // lower index.
    Router router = bLeftHoldingTwoBlocks(v18().build(), 0, 0, 0);

    Decision d = router.route(new long[] {H0, H1}, 2, true);

    assertThat(d.engine()).isZero();
    assertThat(d.matchDepth()).isZero();
    assertThat(d.hit()).isFalse();
    assertThat(d.prefixApplied()).isTrue();
  }

  @Test
  void aRestartOfAnActiveEngineChangesNothing() {
    Router router = withEngines(v18().build(), 3);
    assign(router, 1, H0);
    setPending(router, 0, 1);
    setPending(router, 2, 1);
    assertThat(roundRobin(router)).isZero();

    assertThat(router.replace(1)).isEqualTo(1);

    assertThat(router.pending(1)).isEqualTo(1);
    assertThat(router.rankOf(1)).isEqualTo(1);
    assertThat(roundRobin(router)).isEqualTo(1); // still second in round-robin order
    router.complete(1);
    Decision d = router.route(new long[] {H0}, 1, true);
    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.hit()).isTrue();
  }

  @Test
  void aLateEngineTakesTheNextIndexWhateverItsIdentity() {
    Router router = withEngines(v18().build(), 2);
    router.remove(0);
    int late = router.register();

    assertThat(late).isEqualTo(2);
    assertThat(router.rankOf(late)).isEqualTo(2);
    assertThat(router.activeEnginesInRankOrder()).containsExactly(1, 2);
    assertThat(router.rejoin(0)).isZero();
    assertThat(router.activeEnginesInRankOrder()).containsExactly(0, 1, 2);
  }

  @Test
  void rejoinNeedsAnEngineThatWasRemoved() {
    Router v18 = withEngines(v18().build(), 2);
    assertThatThrownBy(() -> v18.rejoin(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("engine 0 is not a removed engine");
    assertThatThrownBy(() -> v18.rejoin(2)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> v18.rejoin(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void underMegatron019RejoinIsAColdRegistration() {
    Router router = withEngines(3);
    assign(router, 0, H0);
    router.remove(0);

    int back = router.rejoin(0);

    assertThat(back).isEqualTo(3);
    assertThat(router.activeEnginesInRankOrder()).containsExactly(1, 2, 3);
    assertThat(router.rankOf(back)).isEqualTo(2);
    assertThat(router.pending(back)).isZero();
    setPending(router, 1, 1);
    setPending(router, 2, 1);
    assertThat(router.route(new long[] {H0}, 1, true).hit()).isFalse();
    assertThat(router.replace(back)).isNotEqualTo(back);
  }

  // ---- the extensions still apply ----

  @Test
  void epochsAndTtlStillMakeEntriesStale() {
    long[] clock = {0};
    Router router =
        withEngines(v18().ttl(Duration.ofMillis(10)).nanoClock(() -> clock[0]).build(), 2);
    assign(router, 1, H0);
    setPending(router, 1, 1);
    assertThat(router.route(new long[] {H0}, 1, true).hit()).isTrue();
    clock[0] += 10_000_001L;
    Decision expired = router.route(new long[] {H0}, 1, true);
    assertThat(expired.engine()).isZero();
    assertThat(expired.staleFound()).isTrue();

    Router epochs = withEngines(v18().build(), 2);
    assign(epochs, 1, H0);
    setPending(epochs, 1, 1);
    epochs.remove(1);
    epochs.newEpoch();
    epochs.rejoin(1);
    setPending(epochs, 0, 1);
    Decision d = epochs.route(new long[] {H0}, 1, true);
    assertThat(d.engine()).isZero();
    assertThat(d.hit()).isFalse();
    assertThat(d.staleFound()).isTrue();
  }

  @Test
  void invariantsHoldUnderChurnWithATinyIndexATtlAndEpochs() {
    for (Policy policy :
        List.of(Policy.LONGEST_PREFIX, Policy.FIRST_PREFIX_BLOCK, Policy.ROUND_ROBIN)) {
      for (long seed = 1; seed <= 4; seed++) {
        Random rnd = new Random(seed);
        long[] clock = {0};
        Router router =
            withEngines(
                v18()
                    .policy(policy)
                    .indexCapacity(17)
                    .maxRequests(4)
                    .ttl(Duration.ofMillis(50))
                    .nanoClock(() -> clock[0])
                    .build(),
                2 + rnd.nextInt(4));
        ReferenceModelTest.RandomTraces traces = new ReferenceModelTest.RandomTraces(rnd);
        Map<Integer, Integer> pending = new HashMap<>(); // engine id -> committed - completed
        List<Integer> inFlight = new ArrayList<>();
        List<Integer> removed = new ArrayList<>();
        for (int op = 0; op < 3000; op++) {
          int kind = rnd.nextInt(100);
          if (kind < 55 || inFlight.isEmpty()) {
            long[] hashes = traces.request().stream().mapToLong(Long::longValue).toArray();
            Decision d = send(router, hashes);
            assertThat(router.isActive(d.engine())).isTrue();
            assertThat(d.rank()).isEqualTo(d.engine());
            assertThat(d.hashesUsed())
                .isEqualTo(
                    policy == Policy.FIRST_PREFIX_BLOCK
                        ? Math.min(1, hashes.length)
                        : hashes.length);
            pending.merge(d.engine(), 1, Integer::sum);
            inFlight.add(d.engine());
          } else if (kind < 88) {
            int engine = inFlight.remove(rnd.nextInt(inFlight.size()));
            router.complete(engine);
            if (router.isActive(engine)) {
              pending.merge(engine, -1, Integer::sum);
            } else {
              inFlight.add(engine); // 0.18 would fail on this reply; it comes after the return
            }
          } else if (kind < 92 && router.activeEngines() > 1) {
            int[] active = router.activeEnginesInRankOrder();
            int engine = active[rnd.nextInt(active.length)];
            assertThat(router.remove(engine)).isTrue();
            removed.add(engine);
          } else if (kind < 96 && !removed.isEmpty()) {
            int engine = removed.remove(rnd.nextInt(removed.size()));
            assertThat(router.rejoin(engine)).isEqualTo(engine);
          } else if (kind < 98) {
            int[] active = router.activeEnginesInRankOrder();
            int engine = active[rnd.nextInt(active.length)];
            assertThat(router.replace(engine)).isEqualTo(engine);
          } else if (rnd.nextBoolean()) {
            router.newEpoch();
          } else {
            clock[0] += rnd.nextInt(30) * 1_000_000L;
          }
          assertThat(router.indexSize()).isLessThanOrEqualTo(17);
          for (int engine : router.activeEnginesInRankOrder()) {
            assertThat(router.pending(engine)).isEqualTo(pending.getOrDefault(engine, 0));
            assertThat(router.rankOf(engine)).isEqualTo(engine);
          }
        }
        if (policy != Policy.ROUND_ROBIN) {
          assertThat(router.stalePurgedTotal()).isPositive();
        }
        assertThat(router.evictedTotal()).isPositive();
      }
    }
  }
}
