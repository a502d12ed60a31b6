package io.dpcoord.routing;

import static io.dpcoord.routing.Routers.assign;
import static io.dpcoord.routing.Routers.name;
import static io.dpcoord.routing.Routers.send;
import static io.dpcoord.routing.Routers.setPending;
import static io.dpcoord.routing.Routers.withEngines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouterTest {
  private static final long H0 = 1001;
  private static final long H1 = 1002;
  private static final long H2 = 1003;
  private static final long H3 = 1004;

  private static RouterConfig.Builder config() {
    return RouterConfig.builder();
  }

  // ---- the reference rule ----

  @Test
  void noMatchGoesToLeastLoaded() {
    Router router = withEngines(3);
    setPending(router, 0, 5);
    setPending(router, 1, 1);
    setPending(router, 2, 3);

    Decision d = router.route(new long[] {H0, H1}, 2, true);

    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.prefixApplied()).isTrue();
    assertThat(d.hit()).isFalse();
    assertThat(d.matchDepth()).isZero();
  }

  @Test
  void longestMatchWins() {
    Router router = withEngines(2);
    assign(router, 0, H0);
    assign(router, 1, H0, H1);
    setPending(router, 0, 1);
    setPending(router, 1, 1);

    Decision d = router.route(new long[] {H0, H1, H2}, 3, true);

    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.matchDepth()).isEqualTo(2);
    assertThat(d.matchFraction()).isEqualTo(2.0 / 3);
    assertThat(d.hit()).isTrue();
  }

  @Test
  void equalScoresGoToLowestRankIndex() {
    Router router = withEngines(3);
    setPending(router, 0, 3);
    setPending(router, 1, 1);
    setPending(router, 2, 1);

    assertThat(router.route(new long[] {H0}, 1, true).engine()).isEqualTo(1);

    setPending(router, 0, 1);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isZero();
  }

  @Test
  void emptyHashesRouteByLoad() {
    Router router = withEngines(2);
    assign(router, 0, H0);

    Decision d = router.route(new long[0], 0, true);

    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.prefixApplied()).isFalse();
    assertThat(router.route(null, 0, true).engine()).isEqualTo(1);
  }

  @Test
  void disabledPrefixCachingRoutesByLoad() {
    Router router = withEngines(config().prefixCaching(false).build(), 2);
    assign(router, 0, H0);

    Decision d = router.route(new long[] {H0}, 1, true);

    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.prefixApplied()).isFalse();
    assertThat(d.hit()).isFalse();
  }

  @Test
  void loadBalancedPolicyAndIneligibleRequestsIgnorePrefixes() {
    Router balanced = withEngines(config().policy(Policy.LOAD_BALANCED).build(), 2);
    assign(balanced, 0, H0);
    assertThat(balanced.route(new long[] {H0}, 1, true).engine()).isEqualTo(1);

    Router prefix = withEngines(2);
    assign(prefix, 0, H0);
    assertThat(prefix.route(new long[] {H0}, 1, true).engine()).isZero();
    Decision multimodal = prefix.route(new long[] {H0}, 1, false);
    assertThat(multimodal.engine()).isEqualTo(1);
    assertThat(multimodal.prefixApplied()).isFalse();
  }

  @Test
  void loadOnlyCommitRecordsNoHashes() {
    Router router = withEngines(2);
    Decision d = router.route(new long[] {H0}, 1, false).copy();
    router.commit(d, new long[] {H0}, 1);

    assertThat(router.indexSize()).isZero();
    assertThat(router.pending(d.engine())).isEqualTo(1);
  }

  @Test
  void reassigningHashUpdatesTimestamp() {
    Router router = withEngines(2);
    assign(router, 0, H0);
    assign(router, 1, H0);
    setPending(router, 0, 1);
    setPending(router, 1, 1);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isEqualTo(1);

    assign(router, 0, H0);
    setPending(router, 0, 1);

    assertThat(router.route(new long[] {H0}, 1, true).engine()).isZero();
  }

  @Test
  void oneHashOwnedBySeveralRanks() {
    Router router = withEngines(3);
    assign(router, 0, H0);
    assign(router, 2, H0);
    setPending(router, 0, 4);
    setPending(router, 1, 0);
    setPending(router, 2, 1);

    Decision first = router.route(new long[] {H0}, 1, true);
    assertThat(first.engine()).isEqualTo(2);
    assertThat(first.hit()).isTrue();

    setPending(router, 2, 5);
    Decision second = router.route(new long[] {H0}, 1, true);
    assertThat(second.engine()).isZero();
    assertThat(second.hit()).isTrue();
  }

  @Test
  void recencyBreaksTiesAtEqualLoad() {
    Router router = withEngines(2);
    assign(router, 0, H0);
    assign(router, 1, H0);
    setPending(router, 0, 2);
    setPending(router, 1, 2);

    assertThat(router.route(new long[] {H0}, 1, true).engine()).isEqualTo(1);
  }

  @Test
  void recencyLetsAnOwnerWinAnExactScoreTieWithANonOwner() {
    // owner: 0.5 * 0.5 + 0.5 * 8/16 = 0.5; free engine: 0.5 * 16/16 = 0.5, exactly equal
    Router router = withEngines(2);
    assign(router, 1, H0);
    setPending(router, 0, 0);
    setPending(router, 1, 8);

    assertThat(router.route(new long[] {H0, H1}, 2, true).engine()).isEqualTo(1);
  }

  @Test
  void loadOverridesRecency() {
    Router router = withEngines(2);
    assign(router, 0, H0);
    assign(router, 1, H0);
    setPending(router, 0, 1);
    setPending(router, 1, 5);

    assertThat(router.route(new long[] {H0}, 1, true).engine()).isZero();
  }

  @Test
  void completionFreesCapacity() {
    Router router = withEngines(2);
    setPending(router, 0, 3);
    setPending(router, 1, 2);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isEqualTo(1);

    router.complete(0);
    router.complete(0);

    assertThat(router.pending(0)).isEqualTo(1);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isZero();
  }

  @Test
  void pendingNeverGoesBelowZero() {
    Router router = withEngines(1);
    router.complete(0);
    router.complete(0);

    assertThat(router.pending(0)).isZero();
  }

  @Test
  void alphaOnePrefersTheMatch() {
    Router router = withEngines(config().alpha(1.0).maxRequests(10).build(), 2);
    assign(router, 0, H0);
    setPending(router, 0, 9);
    setPending(router, 1, 0);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isZero();

    setPending(router, 0, 25);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isZero();
  }

  @Test
  void alphaZeroPrefersFreeCapacity() {
    Router router = withEngines(config().alpha(0.0).maxRequests(10).build(), 2);
    assign(router, 0, H0);
    setPending(router, 0, 8);
    setPending(router, 1, 1);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isEqualTo(1);

    // the match no longer scores, but at equal load the owner's recency still breaks the tie
    setPending(router, 0, 1);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isZero();
  }

  @Test
  void alphaHalfTradesMatchAgainstLoad() {
    // engine 0 holds 1 of 4 blocks: 0.5 * 0.25 is worth 4 free slots out of 16
    Router router = withEngines(2);
    assign(router, 0, H0);
    setPending(router, 1, 0);
    long[] request = {H0, H1, H2, H3};

    setPending(router, 0, 3);
    assertThat(router.route(request, 4, true).engine()).isZero();
    setPending(router, 0, 4);
    assertThat(router.route(request, 4, true).engine()).isZero();
    setPending(router, 0, 5);
    assertThat(router.route(request, 4, true).engine()).isEqualTo(1);
  }

  @Test
  void freeRankBeatsNearlyFullRankWithMatch() {
    Router router = withEngines(2);
    assign(router, 0, H0);
    setPending(router, 0, 15);
    setPending(router, 1, 0);

    Decision d = router.route(new long[] {H0, H1}, 2, true);

    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.hit()).isFalse();
  }

  @Test
  void requestsSharingAPrefixSpreadOverTheRanksThatOwnIt() {
    Router router = withEngines(3);
    for (int e = 0; e < 3; e++) {
      assign(router, e, H0, H1);
      setPending(router, e, 0);
    }
    int[] counts = new int[3];
    for (int i = 0; i < 6; i++) {
      Decision d = send(router, H0, H1);
      assertThat(d.hit()).isTrue();
      counts[d.engine()]++;
    }

    assertThat(counts).containsExactly(2, 2, 2);
  }

  @Test
  void firstBlockPolicyIgnoresDeeperMatches() {
    RouterConfig first = config().policy(Policy.FIRST_PREFIX_BLOCK).build();
    Router router = withEngines(first, 2);
    assign(router, 1, H0, H1, H2);
    assign(router, 0, H0);
    setPending(router, 0, 1);
    setPending(router, 1, 1);

    Decision d = router.route(new long[] {H0, H1, H2}, 3, true);

    assertThat(d.engine()).isZero();
    assertThat(d.matchDepth()).isEqualTo(1);
    assertThat(d.matchFraction()).isEqualTo(1.0);

    Router longest = withEngines(2);
    assign(longest, 1, H0, H1, H2);
    assign(longest, 0, H0);
    setPending(longest, 0, 1);
    setPending(longest, 1, 1);
    assertThat(longest.route(new long[] {H0, H1, H2}, 3, true).engine()).isEqualTo(1);
  }

  @Test
  void firstBlockPolicyRecordsOnlyTheFirstHash() {
    Router router = withEngines(config().policy(Policy.FIRST_PREFIX_BLOCK).build(), 2);

    send(router, H0, H1, H2);

    assertThat(router.indexSize()).isEqualTo(1);
  }

  @Test
  void singleBlockPrompt() {
    BlockHasher hasher = new BlockHasher(16);
    long[] tokens = new long[16];
    for (int i = 0; i < 16; i++) {
      tokens[i] = 500 + i;
    }
    long[] hashes = BlockHasherTest.hashesOf(hasher, tokens);
    assertThat(hashes).hasSize(1);
    for (Policy policy : new Policy[] {Policy.FIRST_PREFIX_BLOCK, Policy.LONGEST_PREFIX}) {
      Router router = withEngines(config().policy(policy).build(), 2);
      assign(router, 1, hashes);
      setPending(router, 0, 1);
      setPending(router, 1, 1);

      Decision d = router.route(hashes, 1, true);

      assertThat(d.engine()).as(policy.cliName()).isEqualTo(1);
      assertThat(d.matchDepth()).isEqualTo(1);
    }
  }

  @Test
  void partialBlockGivesNoHashAndRoutesByLoad() {
    BlockHasher hasher = new BlockHasher(16);
    long[] hashes = BlockHasherTest.hashesOf(hasher, new long[15]);
    Router router = withEngines(2);
    setPending(router, 0, 1);

    Decision d = router.route(hashes, hashes.length, true);

    assertThat(hashes).isEmpty();
    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.prefixApplied()).isFalse();
  }

  @Test
  void matchIsTheDeepestOwnedHashEvenWhenShallowerOnesWereEvicted() {
    // a deep hash present without its shallower ones still counts: the scan is deepest first
    Router router = withEngines(2);
    assign(router, 1, H2);
    setPending(router, 1, 0);

    Decision d = router.route(new long[] {H0, H1, H2}, 3, true);

    assertThat(d.engine()).isEqualTo(1);
    assertThat(d.matchDepth()).isEqualTo(3);
  }

  // ---- engines ----

  @Test
  void initialRankOrderIsUnsignedByteOrder() {
    Router router = new Router(config().build());
    int[] ids =
        router.registerInitial(
            List.of(
                name("mp-coord-2"),
                name("mp-coord-10"),
                new byte[] {(byte) 0xFF},
                name("mp-coord-1"),
                new byte[] {0x01}));

    assertThat(router.rankOf(ids[4])).isZero();
    assertThat(router.rankOf(ids[3])).isEqualTo(1);
    assertThat(router.rankOf(ids[1])).isEqualTo(2);
    assertThat(router.rankOf(ids[0])).isEqualTo(3);
    assertThat(router.rankOf(ids[2])).isEqualTo(4);
    assertThat(router.activeEnginesInRankOrder())
        .containsExactly(ids[4], ids[3], ids[1], ids[0], ids[2]);
  }

  @Test
  void removedEngineIsNeverChosen() {
    Router router = withEngines(3);
    assign(router, 1, H0);
    setPending(router, 0, 9);
    setPending(router, 1, 0);
    setPending(router, 2, 9);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isEqualTo(1);

    assertThat(router.remove(1)).isTrue();

    assertThat(router.isActive(1)).isFalse();
    assertThat(router.rankOf(2)).isEqualTo(1);
    assertThat(router.activeEnginesInRankOrder()).containsExactly(0, 2);
    Decision d = router.route(new long[] {H0}, 1, true);
    assertThat(d.engine()).isNotEqualTo(1);
    assertThat(d.staleFound()).isTrue();
    for (int i = 0; i < 50; i++) {
      assertThat(send(router, H0, 7000 + i).engine()).isNotEqualTo(1);
    }
    assertThat(router.remove(1)).isFalse();
  }

  @Test
  void removalKeepsTheOrderOfTheRanksAbove() {
    Router router = withEngines(4);
    router.remove(1);

    assertThat(router.activeEnginesInRankOrder()).containsExactly(0, 2, 3);
    assertThat(router.rankOf(3)).isEqualTo(2);
    // ties now go to engine 2 before engine 3, as before the removal
    setPending(router, 0, 1);
    assertThat(router.route(new long[] {H0}, 1, true).engine()).isEqualTo(2);
  }

  @Test
  void lateEngineIsAppendedAndRemovedOneRejoinsColdAtTheEnd() {
    Router router = withEngines(3);
    assign(router, 0, H0);
    router.remove(0);

    int late = router.register();
    int back = router.register();

    assertThat(router.activeEnginesInRankOrder()).containsExactly(1, 2, late, back);
    assertThat(back).isNotZero();
    assertThat(router.pending(back)).isZero();
    setPending(router, 1, 1);
    setPending(router, 2, 1);
    setPending(router, late, 1);
    Decision d = router.route(new long[] {H0}, 1, true);
    assertThat(d.engine()).isEqualTo(back);
    assertThat(d.hit()).isFalse();
  }

  @Test
  void reRegisteredEngineStartsCold() {
    Router router = withEngines(3);
    assign(router, 1, H0, H1);
    setPending(router, 0, 4);
    setPending(router, 1, 3);
    setPending(router, 2, 4);

    int restarted = router.replace(1);

    assertThat(restarted).isNotEqualTo(1);
    assertThat(router.isActive(1)).isFalse();
    assertThat(router.rankOf(restarted)).isEqualTo(1);
    assertThat(router.pending(restarted)).isZero();
    router.complete(1);
    assertThat(router.pending(restarted)).isZero();
    Decision d = router.route(new long[] {H0, H1}, 2, true);
    assertThat(d.engine()).isEqualTo(restarted);
    assertThat(d.hit()).isFalse();
    assertThat(d.staleFound()).isTrue();
  }

  // ---- staleness and bounds ----

  @Test
  void entriesBeforeAnEpochChangeNoLongerMatch() {
    Router router = withEngines(2);
    assign(router, 0, H0, H1);
    assign(router, 1, H1);
    setPending(router, 0, 1);
    setPending(router, 1, 1);
    assertThat(router.route(new long[] {H0, H1}, 2, true).hit()).isTrue();

    router.newEpoch();

    Decision d = router.route(new long[] {H0, H1}, 2, true);
    assertThat(d.hit()).isFalse();
    assertThat(d.staleFound()).isTrue();
    assertThat(router.stalePurgedTotal()).isEqualTo(3);
    assertThat(router.indexSize()).isZero();
    assertThat(router.route(new long[] {H0, H1}, 2, true).staleFound()).isFalse();

    assign(router, 1, H0, H1);
    setPending(router, 1, 1);
    Decision fresh = router.route(new long[] {H0, H1}, 2, true);
    assertThat(fresh.engine()).isEqualTo(1);
    assertThat(fresh.hit()).isTrue();
    assertThat(fresh.staleFound()).isFalse();
  }

  @Test
  void entriesExpireAfterTheTtl() {
    long[] clock = {1_000};
    RouterConfig ttl = config().ttl(Duration.ofMillis(100)).nanoClock(() -> clock[0]).build();
    Router router = withEngines(ttl, 2);
    assign(router, 1, H0);
    setPending(router, 0, 0);
    setPending(router, 1, 1);

    clock[0] += 100_000_000L;
    Decision atTtl = router.route(new long[] {H0}, 1, true);
    assertThat(atTtl.engine()).isEqualTo(1);
    assertThat(atTtl.hit()).isTrue();

    clock[0] += 1;
    Decision expired = router.route(new long[] {H0}, 1, true);
    assertThat(expired.engine()).isZero();
    assertThat(expired.hit()).isFalse();
    assertThat(expired.staleFound()).isTrue();
  }

  /**
   * A write meets the owners in front of its engine's slot and drops those that are stale, however
   * they became so; under the policies with owner masks the writes that skip the stale checks
   * (PrefixIndex.Staleness#mayBeStale) must not skip these.
   */
  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "longest_prefix, epoch, 4",
    "longest_prefix, ttl, 4",
    "longest_prefix, removal, 2",
    "least_work, epoch, 4",
    "least_work, ttl, 4",
    "least_work, removal, 2"
  })
  void aWriteDropsTheStaleOwnersItMeets(String policy, String source, long dropped) {
    long[] clock = {0};
    RouterConfig.Builder config = config().policy(Policy.parse(policy)).nanoClock(() -> clock[0]);
    if (source.equals("ttl")) {
      config.ttl(Duration.ofSeconds(1));
    }
    Router router = withEngines(config.build(), 3);
    assign(router, 0, H0, H1);
    assign(router, 1, H0, H1); // owners of each hash: 1, then 0
    switch (source) {
      case "epoch" -> router.newEpoch();
      case "ttl" -> clock[0] += 1_000_000_001L;
      default -> router.remove(1);
    }
    assertThat(router.stalePurgedTotal()).isZero();

    assign(router, 2, H0, H1); // engine 2 owns neither: the write meets every owner

    assertThat(router.stalePurgedTotal()).isEqualTo(dropped);
  }

  @Test
  void reassignmentRenewsTheTtl() {
    long[] clock = {0};
    RouterConfig ttl = config().ttl(Duration.ofSeconds(1)).nanoClock(() -> clock[0]).build();
    Router router = withEngines(ttl, 2);
    assign(router, 1, H0);
    clock[0] += 800_000_000L;
    assign(router, 1, H0);
    clock[0] += 800_000_000L;
    setPending(router, 0, 0);
    setPending(router, 1, 1);

    assertThat(router.route(new long[] {H0}, 1, true).engine()).isEqualTo(1);
  }

  @Test
  void indexNeverExceedsItsCapacity() {
    int capacity = 1000;
    Router router = withEngines(config().indexCapacity(capacity).build(), 4);
    long[] hashes = new long[64];
    long next = 1;
    int requests = 2_000_000 / hashes.length;
    for (int r = 0; r < requests; r++) {
      for (int i = 0; i < hashes.length; i++) {
        hashes[i] = next++;
      }
      Decision d = router.route(hashes, hashes.length, true);
      router.commit(d, hashes, hashes.length);
      router.complete(d.engine());
      assertThat(router.indexSize()).isLessThanOrEqualTo(capacity);
    }

    long distinct = next - 1;
    assertThat(distinct).isGreaterThanOrEqualTo(1_999_000);
    assertThat(router.indexSize()).isEqualTo(capacity);
    assertThat(router.evictedTotal()).isEqualTo(distinct - capacity);
    assertThat(router.index().allocatedEntries()).isEqualTo(capacity);
    assertThat(router.index().allocatedOwnerSlots()).isLessThanOrEqualTo(2 * capacity);
  }

  @Test
  void evictionDropsTheLeastRecentlyAssignedHash() {
    Router router = withEngines(config().indexCapacity(3).build(), 2);
    assign(router, 0, H0, H1, H2);
    assign(router, 0, H0);
    assign(router, 0, H3);
    setPending(router, 0, 1);
    setPending(router, 1, 0);

    assertThat(router.evictedTotal()).isEqualTo(1);
    assertThat(router.route(new long[] {H1}, 1, true).hit()).isFalse();
    assertThat(router.route(new long[] {H0}, 1, true).hit()).isTrue();
    assertThat(router.route(new long[] {H2}, 1, true).hit()).isTrue();
  }

  // ---- misuse ----

  @Test
  void routingWithoutEnginesIsRefused() {
    Router router = new Router(config().build());

    assertThatThrownBy(() -> router.route(new long[] {H0}, 1, true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no engine");
  }

  @Test
  void committingToARemovedEngineIsRefused() {
    Router router = withEngines(2);
    Decision d = router.route(new long[] {H0}, 1, true).copy();
    router.remove(d.engine());

    assertThatThrownBy(() -> router.commit(d, new long[] {H0}, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("engine " + d.engine());
  }

  @Test
  void badArgumentsAreNamed() {
    Router router = withEngines(2);

    assertThatThrownBy(() -> router.route(new long[] {H0}, 2, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hash count 2");
    assertThatThrownBy(() -> router.route(null, 1, true))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> router.replace(99))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("99");
    assertThatThrownBy(() -> router.registerInitial(List.of(name("x"))))
        .isInstanceOf(IllegalStateException.class);
    Router fresh = new Router(config().build());
    assertThatThrownBy(() -> fresh.registerInitial(List.of(name("x"), name("y"), name("x"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0x78");
  }

  @Test
  void aDecisionByLoadCarriesNoMatchStampOrAge() {
    Router router = withEngines(2);
    assign(router, 0, H0, H1); // stamp 1
    assign(router, 1, H2); // 2

    Decision d = router.route(new long[] {H0, H1}, 2, true);
    assertThat(d.engine()).isZero();
    assertThat(d.matchStamp()).isEqualTo(1);
    assertThat(d.matchAge()).isEqualTo(1);
    Decision snapshot = d.copy();

    d = router.route(new long[] {H0, H1}, 2, false);
    assertThat(d.matchDepth()).isZero();
    assertThat(d.matchStamp()).isZero();
    assertThat(d.matchAge()).isZero();
    assertThat(snapshot.matchStamp()).isEqualTo(1);
    assertThat(snapshot.matchAge()).isEqualTo(1);
  }

  @Test
  void decisionCopyIsIndependent() {
    Router router = withEngines(2);
    setPending(router, 0, 1);
    Decision snapshot = router.route(new long[] {H0}, 1, true).copy();

    setPending(router, 1, 5);
    router.route(new long[] {H0}, 1, true);

    assertThat(snapshot.engine()).isEqualTo(1);
  }
}
