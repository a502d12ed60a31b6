package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compares the router with a straightforward model of the reference rule on random traces: submits
 * with shared prefixes, completes, removals, late and returning engines, restarts.
 */
class ReferenceModelTest {
  /** The policies of the rule this model describes (Megatron 0.19, the default release). */
  static final List<Policy> RELEASE_0_19_POLICIES =
      Stream.of(Policy.values())
          .filter(p -> p.isMegatron() && MegatronRelease.V0_19.offers(p))
          .toList();

  /**
   * The rule written as plainly as possible: lists and maps, eager deletion on removal, no
   * staleness, no bound. Engines are labels; the list order is the rank order.
   */
  static final class Model {
    final Policy policy;
    final double alpha;
    final int maxRequests;
    final List<Integer> ranks = new ArrayList<>();
    final Map<Integer, Integer> pending = new HashMap<>();
    final Map<Integer, Integer> incarnation = new HashMap<>();
    // in assignment order, least recent first, for the capacity bound
    final LinkedHashMap<Long, Map<Integer, Long>> index = new LinkedHashMap<>();
    int capacity = Integer.MAX_VALUE;
    long counter;

    Model(Policy policy, double alpha, int maxRequests) {
      this.policy = policy;
      this.alpha = alpha;
      this.maxRequests = maxRequests;
    }

    boolean prefixRouted(List<Long> hashes) {
      return policy != Policy.LOAD_BALANCED && !hashes.isEmpty();
    }

    List<Long> used(List<Long> hashes) {
      return policy == Policy.FIRST_PREFIX_BLOCK ? hashes.subList(0, 1) : hashes;
    }

    /** Returns {label, match depth of the chosen label}. */
    int[] route(List<Long> hashes) {
      if (!prefixRouted(hashes)) {
        int best = ranks.get(0);
        for (int label : ranks) {
          if (pending.get(label) < pending.get(best)) {
            best = label;
          }
        }
        return new int[] {best, 0};
      }
      List<Long> used = used(hashes);
      int n = used.size();
      Map<Integer, Long> owners = Map.of();
      int depth = 0;
      for (int i = n - 1; i >= 0; i--) {
        Map<Integer, Long> o = index.get(used.get(i));
        if (o != null && !o.isEmpty()) {
          owners = o;
          depth = i + 1;
          break;
        }
      }
      int best = -1;
      double bestScore = -1;
      long bestRecency = -1;
      for (int label : ranks) {
        double match = owners.containsKey(label) ? (double) depth / n : 0.0;
        long recency = owners.getOrDefault(label, 0L);
        double free = Math.max(0, maxRequests - pending.get(label)) / (double) maxRequests;
        double score = alpha * match + (1.0 - alpha) * free;
        if (score > bestScore || (score == bestScore && recency > bestRecency)) {
          best = label;
          bestScore = score;
          bestRecency = recency;
        }
      }
      return new int[] {best, owners.containsKey(best) ? depth : 0};
    }

    void commit(int label, List<Long> hashes) {
      pending.merge(label, 1, Integer::sum);
      counter++;
      if (prefixRouted(hashes)) {
        for (long h : used(hashes)) {
          Map<Integer, Long> owners = index.remove(h);
          if (owners == null) {
            owners = new HashMap<>();
            if (index.size() == capacity) {
              index.remove(index.keySet().iterator().next());
            }
          }
          owners.put(label, counter);
          index.put(h, owners);
        }
      }
    }

    void complete(int label, int ofIncarnation) {
      if (ranks.contains(label) && incarnation.get(label) == ofIncarnation) {
        pending.put(label, Math.max(0, pending.get(label) - 1));
      }
    }

    void remove(int label) {
      ranks.remove(Integer.valueOf(label));
      dropEntries(label);
    }

    /** A new or returning label is appended; an active one restarts in place. */
    void add(int label) {
      if (!ranks.contains(label)) {
        ranks.add(label);
      }
      dropEntries(label);
      pending.put(label, 0);
      incarnation.merge(label, 1, Integer::sum);
    }

    private void dropEntries(int label) {
      index.values().forEach(owners -> owners.remove(label));
      index.values().removeIf(Map::isEmpty);
    }
  }

  /** The router under test with label bookkeeping. */
  static final class Subject {
    final Router router;
    final Map<Integer, Integer> engineOfLabel = new HashMap<>();
    final Map<Integer, Integer> labelOfEngine = new HashMap<>();

    Subject(RouterConfig config, int initial) {
      router = new Router(config);
      List<byte[]> ids = new ArrayList<>();
      for (int label = 0; label < initial; label++) {
        ids.add(identity(label));
      }
      int[] engines = router.registerInitial(ids);
      for (int label = 0; label < initial; label++) {
        track(label, engines[label]);
      }
    }

    /** Registers the label's engine: a restart when it is active, else new or back, cold. */
    int register(int label) {
      Integer engine = engineOfLabel.get(label);
      return engine != null && router.isActive(engine) ? router.replace(engine) : router.register();
    }

    void track(int label, int engine) {
      engineOfLabel.put(label, engine);
      labelOfEngine.put(engine, label);
    }

    static byte[] identity(int label) {
      return new byte[] {
        (byte) (label >>> 24), (byte) (label >>> 16), (byte) (label >>> 8), (byte) label
      };
    }
  }

  static Stream<Arguments> settings() {
    List<Arguments> out = new ArrayList<>();
    for (Policy policy : RELEASE_0_19_POLICIES) {
      for (double alpha : new double[] {0, 0.25, 0.5, 0.9, 1}) {
        for (int maxRequests : new int[] {1, 3, 16}) {
          out.add(Arguments.of(policy, alpha, maxRequests));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} alpha={1} max_requests={2}")
  @MethodSource("settings")
  void routerMatchesTheModelOnRandomTraces(Policy policy, double alpha, int maxRequests) {
    for (long seed = 1; seed <= 3; seed++) {
      runTrace(
          new Random(seed * 7919 + maxRequests),
          RouterConfig.builder().policy(policy).alpha(alpha).maxRequests(maxRequests).build(),
          true);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"LONGEST_PREFIX", "FIRST_PREFIX_BLOCK", "LOAD_BALANCED"})
  void routerMatchesAnLruModelWhenTheIndexOverflows(Policy policy) {
    // No engine churn here: lazily purged stale entries legitimately hold capacity in the router
    // until they are walked or evicted, where the model drops them at once.
    for (long seed = 1; seed <= 4; seed++) {
      Random rnd = new Random(seed);
      int capacity = 10 + rnd.nextInt(40);
      Model model = new Model(policy, 0.5, 4);
      model.capacity = capacity;
      Subject subject =
          new Subject(
              RouterConfig.builder().policy(policy).maxRequests(4).indexCapacity(capacity).build(),
              4);
      for (int label = 0; label < 4; label++) {
        model.add(label);
      }
      RandomTraces traces = new RandomTraces(rnd);
      List<Integer> open = new ArrayList<>();
      for (int op = 0; op < 2000; op++) {
        if (rnd.nextInt(100) < 60 || open.isEmpty()) {
          List<Long> hashes = traces.request();
          long[] array = hashes.stream().mapToLong(Long::longValue).toArray();
          Decision d = subject.router.route(array, array.length, true);
          int label = subject.labelOfEngine.get(d.engine());
          assertThat(new int[] {label, d.matchDepth()})
              .as("seed %d op %d", seed, op)
              .containsExactly(model.route(hashes));
          subject.router.commit(d, array, array.length);
          model.commit(label, hashes);
          open.add(label);
        } else {
          int label = open.remove(rnd.nextInt(open.size()));
          subject.router.complete(subject.engineOfLabel.get(label));
          model.complete(label, 1);
        }
        assertThat(subject.router.indexSize()).isEqualTo(model.index.size());
      }
      if (policy == Policy.LOAD_BALANCED) {
        assertThat(subject.router.indexSize()).isZero();
      } else {
        assertThat(subject.router.evictedTotal()).isPositive();
      }
    }
  }

  @Test
  void invariantsHoldWithATinyIndex() {
    for (Policy policy : RELEASE_0_19_POLICIES) {
      for (long seed = 1; seed <= 4; seed++) {
        runTrace(
            new Random(seed),
            RouterConfig.builder().policy(policy).indexCapacity(17).maxRequests(4).build(),
            false);
      }
    }
  }

  /** One random trace; with {@code compare} every decision must equal the model's. */
  static void runTrace(Random rnd, RouterConfig config, boolean compare) {
    int initial = 2 + rnd.nextInt(5);
    Model model = new Model(config.policy(), config.alpha(), config.maxRequests());
    for (int label = 0; label < initial; label++) {
      model.add(label);
    }
    Subject subject = new Subject(config, initial);
    Router router = subject.router;
    RandomTraces traces = new RandomTraces(rnd);
    int nextLabel = initial;
    Map<Integer, int[]> inFlight = new HashMap<>(); // id -> {engine, label, incarnation}
    List<Integer> ids = new ArrayList<>();

    for (int op = 0; op < 1500; op++) {
      int kind = rnd.nextInt(100);
      if (kind < 55 || ids.isEmpty()) {
        List<Long> hashes = traces.request();
        long[] array = hashes.stream().mapToLong(Long::longValue).toArray();
        Decision d = router.route(array, array.length, true);
        int label = subject.labelOfEngine.get(d.engine());
        int[] expected = model.route(hashes);
        if (compare) {
          assertThat(new int[] {label, d.matchDepth()})
              .as("op %d, request %s", op, hashes)
              .containsExactly(expected);
          assertThat(d.hit()).isEqualTo(expected[1] > 0);
        }
        assertThat(router.isActive(d.engine())).isTrue();
        router.commit(d, array, array.length);
        model.commit(label, hashes);
        int id = op;
        inFlight.put(id, new int[] {d.engine(), label, model.incarnation.get(label)});
        ids.add(id);
      } else if (kind < 92) {
        int[] req = inFlight.remove(ids.remove(rnd.nextInt(ids.size())));
        router.complete(req[0]);
        model.complete(req[1], req[2]);
      } else if (kind < 96) {
        if (model.ranks.size() > 1) {
          int label = model.ranks.get(rnd.nextInt(model.ranks.size()));
          assertThat(router.remove(subject.engineOfLabel.get(label))).isTrue();
          model.remove(label);
        }
      } else {
        int label;
        int pick = rnd.nextInt(3);
        if (pick == 0 || nextLabel > 40) {
          label = rnd.nextInt(nextLabel); // active: restart; removed: returns cold
        } else {
          label = nextLabel++;
        }
        subject.track(label, subject.register(label));
        model.add(label);
      }
      if (compare) {
        for (int label : model.ranks) {
          assertThat(router.pending(subject.engineOfLabel.get(label)))
              .isEqualTo(model.pending.get(label));
        }
      }
    }

    int[] order = router.activeEnginesInRankOrder();
    assertThat(order).hasSize(model.ranks.size());
    for (int r = 0; r < order.length; r++) {
      assertThat(router.pending(order[r])).isNotNegative();
      if (compare) {
        assertThat(subject.labelOfEngine.get(order[r])).isEqualTo(model.ranks.get(r));
      }
    }
    assertThat(router.indexSize()).isLessThanOrEqualTo(config.indexCapacity());
  }

  /** Requests built from a few shared prefixes (chains of hashes) plus unique tails. */
  static final class RandomTraces {
    private final Random rnd;
    private final long[][] families;
    private long unique = 1L << 40;

    RandomTraces(Random rnd) {
      this.rnd = rnd;
      this.families = new long[5][12];
      for (long[] f : families) {
        for (int i = 0; i < f.length; i++) {
          f[i] = 1 + rnd.nextInt(1 << 30);
        }
      }
    }

    List<Long> request() {
      List<Long> hashes = new ArrayList<>();
      if (rnd.nextInt(20) == 0) {
        return hashes; // shorter than one block
      }
      long[] family = families[rnd.nextInt(families.length)];
      int shared = rnd.nextInt(family.length + 1);
      for (int i = 0; i < shared; i++) {
        hashes.add(family[i]);
      }
      int tail = rnd.nextInt(4);
      for (int i = 0; i < tail; i++) {
        hashes.add(unique++);
      }
      return hashes;
    }
  }
}
