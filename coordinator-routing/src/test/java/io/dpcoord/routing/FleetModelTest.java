package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.ReferenceModelTest.RandomTraces;
import io.dpcoord.routing.ReferenceModelTest.Subject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compares the router under the policies beyond Megatron's with a plain model on random traces:
 * submits with shared prefixes, completes with their hashes, engine feedback, removals, late and
 * returning engines, restarts, and (for least_work) a clock that stands still between jumps long
 * enough to drain every backlog.
 */
class FleetModelTest {
  static final List<Policy> FLEET_POLICIES =
      Stream.of(Policy.values()).filter(p -> !p.isMegatron()).toList();

  /** Long enough at 25,000 tokens/s to drain any backlog a trace builds (2.5 x 10^10 tokens). */
  private static final long IDLE_NANOS = 1_000_000_000_000_000L;

  /** One engine's claim on a block hash: the label and the counter value of its last write. */
  record Owner(int label, long stamp) {}

  /**
   * A decision: the label chosen, its own match depth, the stamp of its deepest block and the age
   * of its hidden claim on the next block (-1 for none).
   */
  record Choice(int label, int depth, long stamp, long hiddenAge) {}

  /**
   * The rules written as plainly as possible: a map of hash to its owners (the last written first),
   * one multiset of hashes in flight per label, no bound. Every score is an exact integer (the
   * rule's score times a positive factor that is the same for every engine of one decision), so
   * equal scores are equal and go to the lowest rank. Engines are labels; the list order is the
   * rank order.
   *
   * <p>Feedback: an owner is stale when its stamp is at most its label's horizon, and hidden when
   * it is older than the fleet's age limit, both judged when it is looked at. Its age is the blocks
   * committed to its label after the commit that wrote it, counted over the label's last 1,024
   * commits (an older owner is as old as the oldest of them). Stale owners stay until the router
   * would meet them: a decision's walk meets the request's hashes up to the deepest match (and the
   * first hash past it), a write meets the owners written after the writer's own claim. Until then
   * sglang still counts them for their engine, as the router's index does; hidden owners stay, and
   * sglang counts them too.
   */
  static final class Model {
    final Policy policy;
    final boolean feedback;
    final int blockSize;
    final List<Integer> ranks = new ArrayList<>();
    final Map<Integer, Integer> pending = new HashMap<>();
    final Map<Integer, Map<Long, Integer>> inFlight = new HashMap<>();
    final Map<Integer, Long> backlog = new HashMap<>();
    final Map<Integer, Long> horizon = new HashMap<>();
    long ageLimit = Long.MAX_VALUE;
    long reach = Long.MAX_VALUE;
    // per label: {stamp, blocks committed to the label up to and including that commit}
    final Map<Integer, List<long[]>> commits = new HashMap<>();
    final Map<Integer, Integer> incarnation = new HashMap<>();
    final Map<Long, List<Owner>> index = new HashMap<>();
    // what the traces went through, so that a test can check that none of it went untested
    final Map<String, Integer> seen = new HashMap<>();
    long counter;
    long dropped;

    Model(Policy policy, boolean feedback, int blockSize) {
      this.policy = policy;
      this.feedback = feedback;
      this.blockSize = blockSize;
    }

    private void see(String what) {
      seen.merge(what, 1, Integer::sum);
    }

    boolean isStale(Owner o) {
      return o.stamp() <= horizon.get(o.label());
    }

    boolean isHidden(Owner o) {
      return ageLimit != Long.MAX_VALUE && age(o.label(), o.stamp()) > ageLimit;
    }

    /** With feedback, the blocks committed to the label since the commit stamped {@code stamp}. */
    long age(int label, long stamp) {
      if (!feedback) {
        return counter - stamp;
      }
      List<long[]> c = commits.get(label);
      if (c.isEmpty()) {
        return 0;
      }
      List<long[]> last = c.subList(Math.max(0, c.size() - 1024), c.size());
      long total = c.get(c.size() - 1)[1];
      long at = last.get(0)[1];
      for (long[] commit : last) {
        if (commit[0] <= stamp) {
          at = commit[1];
        }
      }
      return total - at;
    }

    /** The label's claim on {@code hash} that is not stale, or null. */
    Owner liveOwner(int label, long hash) {
      for (Owner o : index.getOrDefault(hash, List.of())) {
        if (o.label() == label && !isStale(o)) {
          return o;
        }
      }
      return null;
    }

    /** The label's fresh claim on {@code hash} (neither stale nor hidden), or null. */
    Owner freshOwner(int label, long hash) {
      Owner o = liveOwner(label, hash);
      return o == null || isHidden(o) ? null : o;
    }

    int depth(int label, List<Long> hashes) {
      // a match counts as far as its deepest block's age plus its depth is within feedback's
      // reach (Router.withinReach)
      int d = run(label, hashes);
      while (d > 0) {
        long age = age(label, freshOwner(label, hashes.get(d - 1)).stamp());
        if (age + d <= reach) {
          break;
        }
        see("a match cut to the reach");
        d = (int) Math.max(0, Math.min(d - 1, reach - age));
      }
      return d;
    }

    /** How many leading hashes have a fresh claim of the label. */
    int run(int label, List<Long> hashes) {
      int d = 0;
      while (d < hashes.size() && freshOwner(label, hashes.get(d)) != null) {
        d++;
      }
      return d;
    }

    /** The hashes the index names the label for, stale ones not yet dropped included. */
    long cached(int label) {
      return index.values().stream()
          .filter(owners -> owners.stream().anyMatch(o -> o.label() == label))
          .count();
    }

    long blocks(int label) {
      return inFlight.get(label).size();
    }

    Choice route(List<Long> hashes) {
      int best =
          switch (policy) {
            case RELATIVE_LOAD -> relativeLoad(hashes);
            case SGLANG -> sglang(hashes);
            case DYNAMO -> dynamo(hashes);
            case LLM_D -> llmd(hashes);
            case LEAST_WORK -> leastWork(hashes);
            default -> throw new AssertionError(policy);
          };
      int d = depth(best, hashes);
      Owner next = d < hashes.size() ? liveOwner(best, hashes.get(d)) : null;
      long hiddenAge = next == null || !isHidden(next) ? -1 : age(best, next.stamp());
      Choice choice =
          new Choice(best, d, d == 0 ? 0 : freshOwner(best, hashes.get(d - 1)).stamp(), hiddenAge);
      // the router's walk stops at the first hash that extends no engine's run: it meets the
      // hashes up to the deepest match and the one past it, and drops the stale owners there
      int deepest = ranks.stream().mapToInt(label -> run(label, hashes)).max().orElseThrow();
      for (int i = 0; i <= Math.min(deepest, hashes.size() - 1); i++) {
        dropStale(index.get(hashes.get(i)), hashes.get(i));
      }
      return choice;
    }

    private void dropStale(List<Owner> owners, long hash) {
      if (owners == null) {
        return;
      }
      int before = owners.size();
      owners.removeIf(this::isStale);
      dropped += before - owners.size();
      if (owners.isEmpty()) {
        index.remove(hash);
      }
    }

    /** The first label with the highest key. */
    private int highest(ToLongFunction<Integer> key) {
      int best = ranks.get(0);
      for (int label : ranks) {
        if (key.applyAsLong(label) > key.applyAsLong(best)) {
          best = label;
        }
      }
      return best;
    }

    private int lowest(ToLongFunction<Integer> key) {
      return highest(label -> -key.applyAsLong(label));
    }

    private int relativeLoad(List<Long> hashes) {
      // depth / n - (pending - total / r) / max(1, total / r), times n x max(r, total)
      long r = ranks.size();
      long total = ranks.stream().mapToLong(pending::get).sum();
      long n = Math.max(1, hashes.size());
      long scale = Math.max(r, total);
      return highest(label -> depth(label, hashes) * scale - n * (pending.get(label) * r - total));
    }

    private int sglang(List<Long> hashes) {
      int min = lowest(pending::get);
      int max = highest(pending::get);
      if (pending.get(max) - pending.get(min) > 64 && 2 * pending.get(max) > 3 * pending.get(min)) {
        see("sglang imbalanced");
        return min;
      }
      int longest = highest(label -> depth(label, hashes));
      int d = depth(longest, hashes);
      if (10 * d > 3 * hashes.size()) {
        see("sglang match");
        return longest;
      }
      see(d > 0 ? "sglang short match" : "sglang no match");
      if (index.values().stream().flatMap(List::stream).anyMatch(o -> isStale(o) || isHidden(o))) {
        see("sglang counts stale owners");
      }
      return lowest(this::cached);
    }

    private int dynamo(List<Long> hashes) {
      seeSharedBlocksInFlight();
      return lowest(label -> hashes.size() - depth(label, hashes) + blocks(label));
    }

    private int llmd(List<Long> hashes) {
      seeSharedBlocksInFlight();
      // 3 depth / n + 2 (max - pending) / (max - min) + 2 (most - blocks) / most,
      // times n x (max - min) x most (each 1 where it is 0, and then the term is 1)
      long n = Math.max(1, hashes.size());
      long minQ = ranks.stream().mapToLong(pending::get).min().orElseThrow();
      long maxQ = ranks.stream().mapToLong(pending::get).max().orElseThrow();
      long most = ranks.stream().mapToLong(this::blocks).max().orElseThrow();
      long q = maxQ == minQ ? 1 : maxQ - minQ;
      long b = most == 0 ? 1 : most;
      return highest(
          label -> {
            long queue = maxQ == minQ ? 1 : maxQ - pending.get(label);
            long kv = most == 0 ? 1 : most - blocks(label);
            return Math.addExact(
                Math.addExact(
                    Math.multiplyExact(3L * depth(label, hashes), q * b),
                    Math.multiplyExact(2 * queue, n * b)),
                Math.multiplyExact(2 * kv, n * q));
          });
    }

    private void seeSharedBlocksInFlight() {
      if (ranks.stream()
          .anyMatch(label -> inFlight.get(label).values().stream().anyMatch(c -> c > 1))) {
        see("a block shared in flight");
      }
    }

    private int leastWork(List<Long> hashes) {
      // tokens queued + tokens to prefill here + a block per pending request - the matched tokens
      // once more (FleetRules.CACHE_WEIGHT 2); ties: the longer match, then the fewer pending,
      // then the fewer cached, then the lower rank
      ToLongFunction<Integer> cost =
          label ->
              backlog.get(label)
                  + (hashes.size() - 2L * depth(label, hashes) + pending.get(label))
                      * (long) blockSize;
      long least = ranks.stream().mapToLong(cost).min().orElseThrow();
      List<Integer> tied =
          ranks.stream().filter(label -> cost.applyAsLong(label) == least).toList();
      // each tie-break in turn narrows the tie (and is noted when the labels still tied differ)
      Map<String, ToLongFunction<Integer>> breaks = new LinkedHashMap<>();
      breaks.put("least_work tie to the longer match", label -> -depth(label, hashes));
      breaks.put("least_work tie to the fewer pending", label -> pending.get(label));
      breaks.put("least_work tie to the fewer cached", this::cached);
      for (Map.Entry<String, ToLongFunction<Integer>> b : breaks.entrySet()) {
        ToLongFunction<Integer> key = b.getValue();
        long best = tied.stream().mapToLong(key).min().orElseThrow();
        if (tied.stream().mapToLong(key).anyMatch(k -> k != best)) {
          see(b.getKey());
        }
        tied = tied.stream().filter(label -> key.applyAsLong(label) == best).toList();
      }
      int chosen = tied.get(0); // the lowest rank
      if (!feedback
          || ageLimit != Long.MAX_VALUE
          || hashes.isEmpty()
          || ranks.stream().anyMatch(label -> depth(label, hashes) > 0)) {
        return chosen;
      }
      // a new prefix while no engine has served less than predicted: the fewest cached within
      // half a prefill of this request of the least work, then the least work, then the lower rank
      List<Integer> near =
          ranks.stream()
              .filter(
                  label ->
                      2 * cost.applyAsLong(label) <= 2 * least + hashes.size() * (long) blockSize)
              .toList();
      long fewest = near.stream().mapToLong(this::cached).min().orElseThrow();
      int placed =
          near.stream()
              .filter(label -> cached(label) == fewest)
              .min(
                  Comparator.<Integer>comparingLong(cost::applyAsLong)
                      .thenComparingInt(ranks::indexOf))
              .orElseThrow();
      if (placed != chosen) {
        see("least_work places a new prefix");
      }
      return placed;
    }

    /**
     * A commit of {@code all} hashes (of which the decision used {@code used}) to the label, whose
     * own match was {@code depth}.
     */
    void commit(int label, List<Long> used, List<Long> all, int depth) {
      counter++;
      List<long[]> c = commits.get(label);
      c.add(new long[] {counter, (c.isEmpty() ? 0 : c.get(c.size() - 1)[1]) + all.size()});
      pending.merge(label, 1, Integer::sum);
      for (long h : all) {
        inFlight.get(label).merge(h, 1, Integer::sum);
      }
      backlog.merge(label, (long) (all.size() - depth) * blockSize, Long::sum);
      for (long h : used) {
        write(label, h);
      }
    }

    /**
     * The label's claim goes first with the new stamp; a label new to the hash first drops its
     * stale owners.
     */
    private void write(int label, long hash) {
      List<Owner> owners = index.computeIfAbsent(hash, k -> new ArrayList<>());
      boolean renewed = owners.removeIf(o -> o.label() == label);
      for (Iterator<Owner> it = owners.iterator(); it.hasNext() && !renewed; ) {
        Owner o = it.next();
        if (isStale(o)) {
          it.remove();
          dropped++;
        }
      }
      owners.add(0, new Owner(label, counter));
    }

    boolean isCurrent(int label, int ofIncarnation) {
      return ranks.contains(label) && incarnation.get(label) == ofIncarnation;
    }

    void complete(int label, int ofIncarnation, List<Long> hashes) {
      if (isCurrent(label, ofIncarnation)) {
        pending.put(label, Math.max(0, pending.get(label) - 1));
        for (long h : hashes) {
          inFlight.get(label).computeIfPresent(h, (k, c) -> c > 1 ? c - 1 : null);
        }
      }
    }

    /**
     * Fewer served than predicted: the label's horizon goes up to the stamp and the fleet's age
     * limit is the age. All served, at a greater age than the limit: the limit rises to it. More
     * served than predicted, the next block's claim hidden at a greater age than the limit: the
     * limit rises to that.
     */
    boolean feedback(
        int label,
        int ofIncarnation,
        int predicted,
        int served,
        long stamp,
        long age,
        long hiddenAge) {
      if (!feedback || !isCurrent(label, ofIncarnation)) {
        return false;
      }
      if (served > predicted && hiddenAge > ageLimit) {
        see("a hidden block raised the limit");
        ageLimit = hiddenAge;
        reach = ageLimit + served;
        return false;
      }
      if (predicted == 0) {
        return false;
      }
      if (served >= predicted) {
        if (age > ageLimit) {
          see("the age limit rose");
          ageLimit = age;
          reach = ageLimit + served;
        }
        return false;
      }
      ageLimit = age;
      reach = ageLimit + predicted;
      boolean moved = stamp > horizon.get(label);
      horizon.put(label, Math.max(stamp, horizon.get(label)));
      if (moved) {
        see("the horizon moved");
      }
      return moved;
    }

    /** The clock jumps far enough to drain every backlog. */
    void idle() {
      backlog.replaceAll((label, tokens) -> 0L);
    }

    void remove(int label) {
      ranks.remove(Integer.valueOf(label));
      dropClaims(label);
    }

    /** A new or returning label is appended; an active one restarts in place. */
    void add(int label) {
      if (!ranks.contains(label)) {
        ranks.add(label);
      }
      dropClaims(label);
      pending.put(label, 0);
      inFlight.put(label, new HashMap<>());
      backlog.put(label, 0L);
      horizon.put(label, 0L);
      commits.put(label, new ArrayList<>());
      incarnation.merge(label, 1, Integer::sum);
    }

    /** An engine gone or restarted: its claims are stale, and they do not count as feedback's. */
    private void dropClaims(int label) {
      index.values().forEach(owners -> owners.removeIf(o -> o.label() == label));
      index.values().removeIf(List::isEmpty);
    }
  }

  /** A request in flight: where it went and what the decision said. */
  record Sent(int engine, int label, int incarnation, List<Long> hashes, Choice choice, long age) {}

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
      Model model = runTrace(new Random(seed * 104729 + submits), policy, feedback, submits);
      if (!feedback) {
        assertThat(model.dropped).isZero();
      }
    }
  }

  /** What each policy's traces went through, over the three loads of one seed. */
  private static Map<String, Integer> seenIn(Policy policy, boolean feedback) {
    Map<String, Integer> seen = new HashMap<>();
    for (int submits : new int[] {55, 70, 85}) {
      Model model = runTrace(new Random(104729 + submits), policy, feedback, submits);
      model.seen.forEach((what, times) -> seen.merge(what, times, Integer::sum));
      seen.merge("stale owners dropped", (int) model.dropped, Integer::sum);
    }
    return seen;
  }

  @Test
  void sglangTracesTakeEveryBranch() {
    Map<String, Integer> seen = seenIn(Policy.SGLANG, true);
    for (String branch :
        List.of(
            "sglang imbalanced",
            "sglang match",
            "sglang short match",
            "sglang no match",
            "sglang counts stale owners")) {
      assertThat(seen.getOrDefault(branch, 0)).as(branch).isGreaterThan(20);
    }
  }

  @Test
  void leastWorkTracesBreakTiesBothWays() {
    Map<String, Integer> seen = seenIn(Policy.LEAST_WORK, false);
    for (String branch :
        List.of(
            "least_work tie to the longer match",
            "least_work tie to the fewer pending",
            "least_work tie to the fewer cached")) {
      assertThat(seen.getOrDefault(branch, 0)).as(branch).isGreaterThan(20);
    }
  }

  @Test
  void leastWorkWithFeedbackPlacesNewPrefixesUntilAShortfall() {
    // rare in these traces, whose engines soon serve less than predicted
    assertThat(seenIn(Policy.LEAST_WORK, true).getOrDefault("least_work places a new prefix", 0))
        .isPositive();
    assertThat(seenIn(Policy.LEAST_WORK, false))
        .doesNotContainKey("least_work places a new prefix");
  }

  @Test
  void dynamoAndLlmdTracesShareBlocksInFlight() {
    for (Policy policy : List.of(Policy.DYNAMO, Policy.LLM_D)) {
      assertThat(seenIn(policy, false).getOrDefault("a block shared in flight", 0))
          .as(policy.cliName())
          .isGreaterThan(100);
    }
  }

  @Test
  void feedbackTracesMoveHorizonsRaiseLimitsAndDropStaleOwners() {
    // hidden owners (older than the limit) stay; only those behind a horizon are dropped
    for (Policy policy : FLEET_POLICIES) {
      Map<String, Integer> seen = seenIn(policy, true);
      for (String event :
          List.of("the horizon moved", "stale owners dropped", "a match cut to the reach")) {
        assertThat(seen.getOrDefault(event, 0)).as("%s: %s", policy, event).isGreaterThan(5);
      }
      // rarer: a confirmation past the fleet's limit needs a decision made before it last fell
      assertThat(seen.getOrDefault("the age limit rose", 0))
          .as("%s: the age limit rose", policy)
          .isPositive();
      assertThat(seen.getOrDefault("a hidden block raised the limit", 0))
          .as("%s: a hidden block raised the limit", policy)
          .isGreaterThan(5);
    }
  }

  /** One random trace; every decision must equal the model's. Returns the model. */
  static Model runTrace(Random rnd, Policy policy, boolean feedback, int submits) {
    long[] now = {0};
    RouterConfig config =
        RouterConfig.builder().policy(policy).feedback(feedback).nanoClock(() -> now[0]).build();
    int initial = 2 + rnd.nextInt(4);
    Model model = new Model(policy, feedback, config.blockSize());
    for (int label = 0; label < initial; label++) {
      model.add(label);
    }
    Subject subject = new Subject(config, initial);
    Router router = subject.router;
    RandomTraces traces = new RandomTraces(rnd);
    int nextLabel = initial;
    List<Sent> inFlight = new ArrayList<>();

    for (int op = 0; op < 3000; op++) {
      if (rnd.nextInt(50) == 0) {
        now[0] += IDLE_NANOS;
        model.idle();
      }
      int kind = rnd.nextInt(100);
      if (kind < submits || inFlight.isEmpty()) {
        List<Long> hashes = traces.request();
        long[] array = hashes.stream().mapToLong(Long::longValue).toArray();
        boolean eligible = rnd.nextInt(25) != 0;
        List<Long> used = eligible ? hashes : List.of();
        Decision d = router.route(array, array.length, eligible);
        Choice expected = model.route(used);
        long age = expected.depth() == 0 ? 0 : model.age(expected.label(), expected.stamp());
        assertThat(
                new long[] {
                  subject.labelOfEngine.get(d.engine()),
                  d.matchDepth(),
                  d.matchStamp(),
                  d.matchAge(),
                  d.hiddenAge()
                })
            .as("op %d, request %s: label, depth, stamp, age, hidden age", op, used)
            .containsExactly(
                expected.label(), expected.depth(), expected.stamp(), age, expected.hiddenAge());
        router.commit(d, array, array.length);
        model.commit(expected.label(), used, hashes, expected.depth());
        inFlight.add(
            new Sent(
                d.engine(),
                expected.label(),
                model.incarnation.get(expected.label()),
                hashes,
                expected,
                age));
      } else if (kind < 97) {
        Sent s = inFlight.remove(rnd.nextInt(inFlight.size()));
        long[] array = s.hashes().stream().mapToLong(Long::longValue).toArray();
        router.complete(s.engine(), array, array.length);
        model.complete(s.label(), s.incarnation(), s.hashes());
        if (rnd.nextBoolean()) {
          // served: fewer than predicted (the engine lost some), as many, or more
          int predicted = s.choice().depth();
          int served =
              rnd.nextInt(4) == 0 ? rnd.nextInt(predicted + 1) : predicted + rnd.nextInt(2);
          long stamp = s.choice().stamp();
          long hidden = s.choice().hiddenAge();
          assertThat(router.feedback(s.engine(), predicted, served, stamp, s.age(), hidden))
              .as("op %d, feedback", op)
              .isEqualTo(
                  model.feedback(
                      s.label(), s.incarnation(), predicted, served, stamp, s.age(), hidden));
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
    return model;
  }
}
