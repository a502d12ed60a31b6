package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.ReferenceModelTest.RandomTraces;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The walk over owner masks against the walk over owner nodes, on random traces: two routers see
 * the same operations, one whose engine ids stay below 127 (it walks the masks) and one whose
 * rank-0 engine was restarted until its id passed 127 before the trace began (it reads every owner
 * node, as the walk did before the masks). Every decision, every stale node dropped and every owner
 * count must be the same, through epochs, TTL expiry, feedback, restarts, removals and eviction.
 * The mask router's writes also skip the stale checks where its masks and bounds show that no owner
 * can be stale (PrefixIndex.Staleness#mayBeStale), which the other's never do (an owner from 127 up
 * may be stale), so the same counts check that shortcut too; without feedback it is taken all
 * through a trace.
 */
class FleetWalkTest {

  static Stream<Arguments> settings() {
    List<Arguments> out = new ArrayList<>();
    for (Policy policy : FleetModelTest.FLEET_POLICIES) {
      for (long ttl : new long[] {0, 40}) {
        for (boolean feedback : new boolean[] {true, false}) {
          out.add(Arguments.of(policy, ttl, feedback));
        }
      }
    }
    return out.stream();
  }

  /** A request in flight: its engine in each router and what the decision said. */
  record Sent(
      int maskEngine,
      int nodeEngine,
      long[] hashes,
      int depth,
      long stamp,
      long age,
      long hiddenAge) {}

  @ParameterizedTest(name = "{0} ttl={1} feedback={2}")
  @MethodSource("settings")
  void masksDecideAsTheOwnerNodesDo(Policy policy, long ttl, boolean feedback) {
    for (long seed = 1; seed <= 3; seed++) {
      run(new Random(seed * 7919 + ttl), policy, ttl, feedback);
    }
  }

  private static void run(Random rnd, Policy policy, long ttl, boolean feedback) {
    long[] now = {0};
    RouterConfig.Builder config =
        RouterConfig.builder()
            .policy(policy)
            .feedback(feedback)
            .indexCapacity(48)
            .nanoClock(() -> now[0]);
    if (ttl > 0) {
      config.ttl(Duration.ofNanos(ttl));
    }
    int engines = 3 + rnd.nextInt(4);
    Router masks = Routers.withEngines(config.build(), engines);
    Router nodes = Routers.withEngines(config.build(), engines);
    int high = nodes.activeEnginesInRankOrder()[0];
    while (high < 127) {
      high = nodes.replace(high);
    }
    RandomTraces traces = new RandomTraces(rnd);
    List<Sent> inFlight = new ArrayList<>();
    int newIds = 0;
    int maskWalks = 0;
    for (int op = 0; op < 4000; op++) {
      now[0] += rnd.nextInt(4);
      int kind = rnd.nextInt(100);
      if (kind < 60 || inFlight.isEmpty()) {
        long[] hashes = traces.request().stream().mapToLong(Long::longValue).toArray();
        Decision a = masks.route(hashes, hashes.length, true).copy();
        Decision b = nodes.route(hashes, hashes.length, true).copy();
        assertThat(
                new long[] {
                  a.rank(), a.matchDepth(), a.matchStamp(), a.matchAge(), a.hiddenAge(), flag(a)
                })
            .as("op %d: rank, depth, stamp, age, hidden age, stale found", op)
            .containsExactly(
                b.rank(), b.matchDepth(), b.matchStamp(), b.matchAge(), b.hiddenAge(), flag(b));
        masks.commit(a, hashes, hashes.length);
        nodes.commit(b, hashes, hashes.length);
        inFlight.add(
            new Sent(
                a.engine(),
                b.engine(),
                hashes,
                a.matchDepth(),
                a.matchStamp(),
                a.matchAge(),
                a.hiddenAge()));
        if (a.matchDepth() > 0) {
          maskWalks++;
        }
      } else if (kind < 94) {
        Sent s = inFlight.remove(rnd.nextInt(inFlight.size()));
        masks.complete(s.maskEngine(), s.hashes(), s.hashes().length);
        nodes.complete(s.nodeEngine(), s.hashes(), s.hashes().length);
        int served = rnd.nextInt(s.depth() + 2);
        assertThat(
                masks.feedback(
                    s.maskEngine(), s.depth(), served, s.stamp(), s.age(), s.hiddenAge()))
            .isEqualTo(
                nodes.feedback(
                    s.nodeEngine(), s.depth(), served, s.stamp(), s.age(), s.hiddenAge()));
      } else if (kind < 96) {
        masks.newEpoch();
        nodes.newEpoch();
      } else if (kind < 98 && newIds < 100) {
        // a restart in place, or (rank 0 staying, so the node router keeps an id from 127 up) a
        // removal with a newcomer appended
        int rank = rnd.nextInt(masks.activeEngines());
        int[] a = masks.activeEnginesInRankOrder();
        int[] b = nodes.activeEnginesInRankOrder();
        if (rank == 0 || rnd.nextBoolean()) {
          masks.replace(a[rank]);
          nodes.replace(b[rank]);
        } else {
          masks.remove(a[rank]);
          nodes.remove(b[rank]);
          masks.register();
          nodes.register();
          newIds++;
        }
        newIds++;
      }
      assertThat(nodes.activeEnginesInRankOrder()[0]).isGreaterThanOrEqualTo(127);
      assertThat(Arrays.stream(masks.activeEnginesInRankOrder()).max().orElseThrow())
          .isLessThan(127);
      assertThat(masks.stalePurgedTotal()).as("op %d", op).isEqualTo(nodes.stalePurgedTotal());
      assertThat(masks.feedbackPurgedTotal()).isEqualTo(nodes.feedbackPurgedTotal());
      assertThat(masks.indexSize()).isEqualTo(nodes.indexSize());
      int[] a = masks.activeEnginesInRankOrder();
      int[] b = nodes.activeEnginesInRankOrder();
      for (int r = 0; r < a.length; r++) {
        assertThat(masks.index().ownedBy(a[r])).isEqualTo(nodes.index().ownedBy(b[r]));
      }
    }
    assertThat(maskWalks).isGreaterThan(500);
    assertThat(masks.stalePurgedTotal()).isGreaterThan(100);
  }

  private static long flag(Decision d) {
    return d.staleFound() ? 1 : 0;
  }
}
