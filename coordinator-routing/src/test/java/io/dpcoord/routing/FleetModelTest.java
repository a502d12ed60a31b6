package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.ReferenceModelTest.RandomTraces;
import io.dpcoord.routing.ReferenceModelTest.Subject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compares the router under the policies beyond Megatron's with a plain model on random traces:
 * submits with shared prefixes, completes with their blocks, engine feedback, removals, late and
 * returning engines, restarts.
 */
class FleetModelTest {
  static final List<Policy> FLEET_POLICIES =
      Stream.of(Policy.values()).filter(p -> !p.isMegatron()).toList();

  /**
   * The rules written as plainly as possible: a map of hash to the labels that hold it, eager
   * deletion, no bound. Every score is an exact integer (the rule's score times a positive factor
   * that is the same for every engine of one decision), so equal scores are equal and go to the
   * lowest rank. Engines are labels; the list order is the rank order.
   */
  static final class Model {
    final Policy policy;
    final boolean feedback;
    final List<Integer> ranks = new ArrayList<>();
    final Map<Integer, Integer> pending = new HashMap<>();
    final Map<Integer, Long> blocks = new HashMap<>();
    final Map<Integer, Integer> cached = new HashMap<>();
    final Map<Integer, Integer> incarnation = new HashMap<>();
    final Map<Long, Set<Integer>> index = new HashMap<>();
    // how often each of sglang's branches decided, so that a test can check none went untested
    final Map<String, Integer> branches = new HashMap<>();
    long dropped;

    Model(Policy policy, boolean feedback) {
      this.policy = policy;
      this.feedback = feedback;
    }

    int depth(int label, List<Long> hashes) {
      int d = 0;
      while (d < hashes.size() && index.getOrDefault(hashes.get(d), Set.of()).contains(label)) {
        d++;
      }
      return d;
    }

    /** Returns {label, its depth}. */
    int[] route(List<Long> hashes) {
      int n = hashes.size();
      int best =
          switch (policy) {
            case RELATIVE_LOAD -> relativeLoad(hashes);
            case SGLANG -> sglang(hashes);
            case DYNAMO -> dynamo(hashes);
            case LLM_D -> llmd(hashes);
            default -> throw new AssertionError(policy);
          };
      return new int[] {best, n == 0 ? 0 : depth(best, hashes)};
    }

    /** The first label with the highest key. */
    private int highest(Map<Integer, Long> key) {
      int best = ranks.get(0);
      for (int label : ranks) {
        if (key.get(label) > key.get(best)) {
          best = label;
        }
      }
      return best;
    }

    private int lowest(Map<Integer, Long> key) {
      Map<Integer, Long> negated = new HashMap<>();
      key.forEach((label, k) -> negated.put(label, -k));
      return highest(negated);
    }

    private int relativeLoad(List<Long> hashes) {
      // depth / n - (pending - total / r) / max(1, total / r), times n x max(r, total)
      long r = ranks.size();
      long total = ranks.stream().mapToLong(pending::get).sum();
      long n = Math.max(1, hashes.size());
      long scale = Math.max(r, total);
      Map<Integer, Long> key = new HashMap<>();
      for (int label : ranks) {
        key.put(label, depth(label, hashes) * scale - n * (pending.get(label) * r - total));
      }
      return highest(key);
    }

    private int sglang(List<Long> hashes) {
      Map<Integer, Long> load = new HashMap<>();
      ranks.forEach(label -> load.put(label, (long) pending.get(label)));
      int min = lowest(load);
      int max = highest(load);
      if (load.get(max) - load.get(min) > 64 && 2 * load.get(max) > 3 * load.get(min)) {
        branches.merge("imbalanced", 1, Integer::sum);
        return min;
      }
      Map<Integer, Long> depth = new HashMap<>();
      ranks.forEach(label -> depth.put(label, (long) depth(label, hashes)));
      int longest = highest(depth);
      if (10 * depth.get(longest) > 3L * hashes.size()) {
        branches.merge("match", 1, Integer::sum);
        return longest;
      }
      branches.merge(depth.get(longest) > 0 ? "short match" : "no match", 1, Integer::sum);
      Map<Integer, Long> size = new HashMap<>();
      ranks.forEach(label -> size.put(label, (long) cached.getOrDefault(label, 0)));
      return lowest(size);
    }

    private int dynamo(List<Long> hashes) {
      Map<Integer, Long> cost = new HashMap<>();
      for (int label : ranks) {
        cost.put(label, hashes.size() - depth(label, hashes) + blocks.get(label));
      }
      return lowest(cost);
    }

    private int llmd(List<Long> hashes) {
      // 3 depth / n + 2 (max - pending) / (max - min) + 2 (most - blocks) / most,
      // times n x (max - min) x most (each 1 where it is 0, and then the term is 1)
      long n = Math.max(1, hashes.size());
      long minQ = ranks.stream().mapToLong(pending::get).min().orElseThrow();
      long maxQ = ranks.stream().mapToLong(pending::get).max().orElseThrow();
      long most = ranks.stream().mapToLong(blocks::get).max().orElseThrow();
      long q = maxQ == minQ ? 1 : maxQ - minQ;
      long b = most == 0 ? 1 : most;
      Map<Integer, Long> key = new HashMap<>();
      for (int label : ranks) {
        long queue = maxQ == minQ ? 1 : maxQ - pending.get(label);
        long kv = most == 0 ? 1 : most - blocks.get(label);
        key.put(
            label,
            Math.addExact(
                Math.addExact(
                    Math.multiplyExact(3L * depth(label, hashes), q * b),
                    Math.multiplyExact(2 * queue, n * b)),
                Math.multiplyExact(2 * kv, n * q)));
      }
      return highest(key);
    }

    void commit(int label, List<Long> hashes, int count) {
      pending.merge(label, 1, Integer::sum);
      blocks.merge(label, (long) count, Long::sum);
      for (long h : hashes) {
        if (index.computeIfAbsent(h, k -> new HashSet<>()).add(label)) {
          cached.merge(label, 1, Integer::sum);
        }
      }
    }

    boolean isCurrent(int label, int ofIncarnation) {
      return ranks.contains(label) && incarnation.get(label) == ofIncarnation;
    }

    void complete(int label, int ofIncarnation, int count) {
      if (isCurrent(label, ofIncarnation)) {
        pending.put(label, Math.max(0, pending.get(label) - 1));
        blocks.put(label, Math.max(0, blocks.get(label) - count));
      }
    }

    int feedback(int label, int ofIncarnation, List<Long> hashes, int predicted, int served) {
      if (!feedback || !isCurrent(label, ofIncarnation) || served >= predicted) {
        return 0;
      }
      int count = 0;
      for (long h : hashes.subList(served, hashes.size())) {
        Set<Integer> owners = index.get(h);
        if (owners != null && owners.remove(label)) {
          count++;
          cached.merge(label, -1, Integer::sum);
          if (owners.isEmpty()) {
            index.remove(h);
          }
        }
      }
      dropped += count;
      return count;
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
      blocks.put(label, 0L);
      incarnation.merge(label, 1, Integer::sum);
    }

    private void dropEntries(int label) {
      index.values().forEach(owners -> owners.remove(label));
      index.values().removeIf(Set::isEmpty);
      cached.put(label, 0);
    }
  }

  /** A request in flight: where it went and what the decision said. */
  record Sent(int engine, int label, int incarnation, List<Long> hashes, int depth) {}

  static Stream<Arguments> settings() {
    List<Arguments> out = new ArrayList<>();
    for (Policy policy : FLEET_POLICIES) {
      for (boolean feedback : new boolean[] {true, false}) {
        // the share of operations that submit: the fleet stays light, or its queues grow
        for (int submits : new int[] {55, 70, 85}) {
          out.add(Arguments.of(policy, feedback, submits));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} feedback={1} submits={2}%")
  @MethodSource("settings")
  void routerMatchesTheModelOnRandomTraces(Policy policy, boolean feedback, int submits) {
    for (long seed = 1; seed <= 2; seed++) {
      runTrace(
          new Random(seed * 104729 + submits),
          RouterConfig.builder().policy(policy).feedback(feedback).build(),
          submits);
    }
  }

  @Test
  void sglangTracesTakeEveryBranch() {
    Map<String, Integer> branches = new HashMap<>();
    for (int submits : new int[] {55, 70, 85}) {
      Model model =
          runTrace(
              new Random(104729 + submits),
              RouterConfig.builder().policy(Policy.SGLANG).feedback(true).build(),
              submits);
      model.branches.forEach((branch, times) -> branches.merge(branch, times, Integer::sum));
    }
    assertThat(branches)
        .containsOnlyKeys("imbalanced", "match", "short match", "no match")
        .allSatisfy((branch, times) -> assertThat(times).as(branch).isGreaterThan(20));
  }

  /** One random trace; every decision must equal the model's. Returns the model. */
  static Model runTrace(Random rnd, RouterConfig config, int submits) {
    int initial = 2 + rnd.nextInt(4);
    Model model = new Model(config.policy(), config.feedback());
    for (int label = 0; label < initial; label++) {
      model.add(label);
    }
    Subject subject = new Subject(config, initial);
    Router router = subject.router;
    RandomTraces traces = new RandomTraces(rnd);
    int nextLabel = initial;
    List<Sent> inFlight = new ArrayList<>();

    for (int op = 0; op < 3000; op++) {
      int kind = rnd.nextInt(100);
      if (kind < submits || inFlight.isEmpty()) {
        List<Long> hashes = traces.request();
        long[] array = hashes.stream().mapToLong(Long::longValue).toArray();
        boolean eligible = rnd.nextInt(25) != 0;
        Decision d = router.route(array, array.length, eligible);
        int label = subject.labelOfEngine.get(d.engine());
        List<Long> used = eligible ? hashes : List.of();
        assertThat(new int[] {label, d.matchDepth()})
            .as("op %d, request %s", op, used)
            .containsExactly(model.route(used));
        router.commit(d, array, array.length);
        model.commit(label, used, array.length);
        inFlight.add(
            new Sent(d.engine(), label, model.incarnation.get(label), hashes, d.matchDepth()));
      } else if (kind < 97) {
        Sent s = inFlight.remove(rnd.nextInt(inFlight.size()));
        int count = s.hashes().size();
        router.complete(s.engine(), count);
        model.complete(s.label(), s.incarnation(), count);
        if (rnd.nextBoolean()) {
          // served: fewer than predicted (the engine lost some), as many, or more
          int served = rnd.nextInt(s.depth() + 2);
          long[] array = s.hashes().stream().mapToLong(Long::longValue).toArray();
          assertThat(router.feedback(s.engine(), array, count, s.depth(), served))
              .as("op %d, feedback", op)
              .isEqualTo(model.feedback(s.label(), s.incarnation(), s.hashes(), s.depth(), served));
        }
      } else if (kind < 98) {
        if (model.ranks.size() > 1) {
          int label = model.ranks.get(rnd.nextInt(model.ranks.size()));
          assertThat(router.remove(subject.engineOfLabel.get(label))).isTrue();
          model.remove(label);
        }
      } else {
        int label = rnd.nextInt(3) == 0 || nextLabel > 12 ? rnd.nextInt(nextLabel) : nextLabel++;
        subject.track(label, subject.register(label));
        model.add(label);
      }
      for (int label : model.ranks) {
        assertThat(router.pending(subject.engineOfLabel.get(label)))
            .as("op %d, pending of %d", op, label)
            .isEqualTo(model.pending.get(label))
            .isNotNegative();
      }
    }

    int[] order = router.activeEnginesInRankOrder();
    assertThat(order).hasSize(model.ranks.size());
    for (int r = 0; r < order.length; r++) {
      assertThat(subject.labelOfEngine.get(order[r])).isEqualTo(model.ranks.get(r));
    }
    assertThat(router.feedbackPurgedTotal()).isEqualTo(model.dropped);
    if (!config.feedback()) {
      assertThat(model.dropped).isZero();
    }
    return model;
  }
}
