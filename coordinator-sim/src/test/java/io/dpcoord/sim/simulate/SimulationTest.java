package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * The simulation on cases computed by hand (block size 4, a step of 1 ms + 10 us per prefill token
 * + 100 us per sequence, longest_prefix at alpha 0.5), and its bounds against an independent count.
 */
class SimulationTest {
  private static final Offset<Double> NS = within(1e-9);
  private static final long A = 1, B = 2, C = 3, D = 4, E = 5, F = 6, G = 7;

  /** A workload from a list; block size 4. */
  static Workload list(SimRequest... requests) {
    return new Workload() {
      @Override
      public String name() {
        return "hand";
      }

      @Override
      public int blockSize() {
        return 4;
      }

      @Override
      public Iterator<SimRequest> requests() {
        return List.of(requests).iterator();
      }
    };
  }

  static SimRequest at(double ms, int input, int output, long... blocks) {
    return new SimRequest(Math.round(ms * 1e6), input, output, blocks);
  }

  static SimConfig twoEngines(int cacheBlocks, Eviction eviction) {
    return twoEngines(Policy.LONGEST_PREFIX, cacheBlocks, eviction);
  }

  static SimConfig twoEngines(Policy policy, int cacheBlocks, Eviction eviction) {
    RouterConfig routing = RouterConfig.builder().policy(policy).alpha(0.5).maxRequests(16).build();
    return SimConfig.builder(routing, 4)
        .engines(2)
        .cacheBlocks(cacheBlocks)
        .eviction(eviction)
        .batching(4, 64)
        .stepTime(1.0, 10.0, 100.0)
        .build();
  }

  /**
   * R1 [A,B] at 0 goes to engine 0 (no match, both idle: the lower rank). R2 [C,D] at 0.5 ms: no
   * match, engine 0 has one pending: engine 1. R3 [A,B,E]: engine 0 matches 2 of 3 (score 0.83 vs
   * 0.5). R4 [C,D]: engine 1. R5 [F,G]: no match, both idle: engine 0, whose 3-block cache then
   * evicts. R6 [A,B]: the router believes engine 0 holds both; under lineage eviction it still
   * holds A (B was evicted as a leaf), under LRU neither (A, the eldest, went first).
   */
  static Workload sixRequests() {
    return list(
        at(0, 8, 2, A, B),
        at(0.5, 8, 1, C, D),
        at(100, 12, 1, A, B, E),
        at(200, 8, 1, C, D),
        at(300, 8, 1, F, G),
        at(400, 8, 1, A, B));
  }

  @Test
  void lineageEvictionKeepsTheSharedHeadAndEveryFigureIsTheHandComputedOne() {
    SimResult r = Simulation.run(sixRequests(), twoEngines(3, Eviction.LINEAGE), null);
    assertThat(r.requests()).isEqualTo(6);
    assertThat(r.requestsPerEngine()).containsExactly(4, 2);
    assertThat(r.promptBlocks()).isEqualTo(13);
    assertThat(r.cachedBlocks()).isEqualTo(5); // R3 2, R4 2, R6 1
    assertThat(r.promptTokens()).isEqualTo(52);
    assertThat(r.cachedTokens()).isEqualTo(19); // R3 8, R4 7 (the last token is recomputed), R6 4
    assertThat(r.predictedBlocks()).isEqualTo(6); // R3 2, R4 2, R6 2
    assertThat(r.predictedCached()).isEqualTo(5);
    assertThat(r.evictions()).isEqualTo(3); // R5 evicts E and B; R6 re-inserts B, evicting G
    assertThat(r.boundSingleCachedBlocks()).isEqualTo(6);
    assertThat(r.boundRoutedCachedBlocks()).isEqualTo(6);
    // at arrival engine 0 holds A, B for R3 (2), engine 1 C, D for R4 (2), engine 0 A for R6 (1)
    assertThat(r.bestNowCachedBlocks()).isEqualTo(5);
    assertThat(r.outputTokens()).isEqualTo(7);
    // TTFT: R1 1+0.08+0.1, R2 1.18, R3 1+0.04+0.1, R4 1+0.01+0.1, R5 1.18, R6 1.14
    assertThat(r.ttftMs()[0]).isCloseTo(1.14, NS);
    assertThat(r.ttftMs()[1]).isCloseTo(1.18, NS);
    assertThat(r.ttftMs()[2]).isCloseTo(1.18, NS);
    // R1 decodes its second token in a 1.1 ms step: E2E 2.28 ms; the others end with their first
    assertThat(r.e2eMs()[0]).isCloseTo(1.14, NS);
    assertThat(r.e2eMs()[1]).isCloseTo(2.28, NS);
    assertThat(r.busySeconds()[0]).isCloseTo(5.74e-3, NS);
    assertThat(r.busySeconds()[1]).isCloseTo(2.29e-3, NS);
    assertThat(r.makespanSeconds()).isCloseTo(0.40114, NS);
    assertThat(r.hitRatio()).isCloseTo(5 / 13.0, NS);
    assertThat(r.precision()).isCloseTo(5 / 6.0, NS);
  }

  @Test
  void lruEvictionLosesTheSharedHeadFirst() {
    SimResult r = Simulation.run(sixRequests(), twoEngines(3, Eviction.LRU), null);
    assertThat(r.requestsPerEngine()).containsExactly(4, 2);
    assertThat(r.cachedBlocks()).isEqualTo(4); // R6 finds nothing
    assertThat(r.cachedTokens()).isEqualTo(15);
    assertThat(r.predictedCached()).isEqualTo(4);
    assertThat(r.evictions()).isEqualTo(4); // R5 evicts A and B, R6 evicts E and F
    assertThat(r.busySeconds()[0]).isCloseTo(5.78e-3, NS); // R6 prefills 8 tokens: 1.18 ms
    // the bounds do not depend on the engines' caches; what they held at each arrival does
    assertThat(r.boundSingleCachedBlocks()).isEqualTo(6);
    assertThat(r.bestNowCachedBlocks()).isEqualTo(4); // R3 2, R4 2, R6 none
  }

  /**
   * load_balanced sends R2 [A,B], which arrives while R1 [A,B] is in its step on engine 0, to the
   * idle engine 1 (fewer pending): it finds nothing there, though engine 0 held both blocks then.
   */
  @Test
  void bestNowCountsWhatTheEngineHoldingTheMostHeldAtArrival() {
    Workload twice = list(at(0, 8, 1, A, B), at(0.5, 8, 1, A, B));
    SimResult r = Simulation.run(twice, twoEngines(Policy.LOAD_BALANCED, 16, Eviction.LRU), null);
    assertThat(r.requestsPerEngine()).containsExactly(1, 1);
    assertThat(r.cachedBlocks()).isZero();
    assertThat(r.bestNowCachedBlocks()).isEqualTo(2);
    assertThat(r.bestNow()).isCloseTo(0.5, NS);
  }

  @Test
  void anInfiniteCacheReusesWhatTheBoundSaysAndNoCacheReusesNothing() {
    SimResult big = Simulation.run(sixRequests(), twoEngines(1000, Eviction.LRU), null);
    assertThat(big.cachedBlocks())
        .isEqualTo(big.boundRoutedCachedBlocks())
        .isEqualTo(big.bestNowCachedBlocks())
        .isEqualTo(6);
    assertThat(big.evictions()).isZero();
    SimResult none = Simulation.run(sixRequests(), twoEngines(0, Eviction.LRU), null);
    assertThat(none.cachedBlocks()).isZero();
    assertThat(none.bestNowCachedBlocks()).isZero();
    assertThat(none.predictedCached()).isZero();
    assertThat(none.predictedBlocks()).isEqualTo(6); // the router still believes
  }

  @Test
  void chunkedPrefillSplitsALongPromptAcrossSteps() {
    // 150 tokens with 64 per step: chunks 64, 64, 22; first token after the third step
    SimResult r = Simulation.run(list(at(0, 150, 1)), twoEngines(0, Eviction.LRU), null);
    double steps = (1 + 0.64 + 0.1) * 2 + (1 + 0.22 + 0.1);
    assertThat(r.ttftMs()[2]).isCloseTo(steps, NS);
  }

  @Test
  void requestsBeyondMaxNumSeqsWaitForARunningOneToFinish() {
    // 5 one-token requests at once on 1 engine with at most 4 running: the fifth starts in step 2
    SimConfig one = twoEngines(0, Eviction.LRU).toBuilder().engines(1).build();
    SimResult r =
        Simulation.run(
            list(Stream.generate(() -> at(0, 4, 1)).limit(5).toArray(SimRequest[]::new)),
            one,
            null);
    double first = 1 + 0.16 + 0.4; // 4 requests x 4 tokens, 4 sequences
    double second = 1 + 0.04 + 0.1;
    assertThat(r.ttftMs()[0]).isCloseTo(first, NS);
    assertThat(r.ttftMs()[2]).isCloseTo(first + second, NS);
  }

  @Test
  void theBoundsEqualAnIndependentCountOnARandomTrace() {
    SplittableRandom random = new SplittableRandom(7);
    SimRequest[] requests = new SimRequest[400];
    for (int i = 0; i < requests.length; i++) {
      int n = 1 + random.nextInt(6);
      long[] blocks = new long[n];
      long h = random.nextInt(5); // 5 roots; children drawn from a small alphabet share prefixes
      for (int j = 0; j < n; j++) {
        h = h * 31 + random.nextInt(3);
        blocks[j] = h;
      }
      requests[i] = at(i * 0.3, n * 4 + random.nextInt(4), 1 + random.nextInt(3), blocks);
    }
    SimResult r = Simulation.run(list(requests), twoEngines(8, Eviction.LINEAGE), null);
    Set<Long> seen = new HashSet<>();
    long reusable = 0;
    for (SimRequest q : requests) {
      int run = 0;
      while (run < q.blocks().length && seen.contains(q.blocks()[run])) {
        run++;
      }
      reusable += run;
      for (long b : q.blocks()) {
        seen.add(b);
      }
    }
    assertThat(r.boundSingleCachedBlocks()).isEqualTo(reusable);
    assertThat(r.boundRoutedCachedBlocks()).isLessThanOrEqualTo(reusable);
    assertThat(r.cachedBlocks()).isLessThanOrEqualTo(r.boundRoutedCachedBlocks());
    assertThat(r.requests()).isEqualTo(400);
  }

  @Test
  void theSameWorkloadAndConfigurationGiveTheSameResult() {
    SimResult a = Simulation.run(sixRequests(), twoEngines(3, Eviction.LINEAGE), null);
    SimResult b = Simulation.run(sixRequests(), twoEngines(3, Eviction.LINEAGE), null);
    assertThat(b).usingRecursiveComparison().isEqualTo(a);
  }
}
