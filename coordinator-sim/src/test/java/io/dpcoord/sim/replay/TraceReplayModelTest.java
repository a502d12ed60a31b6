package io.dpcoord.sim.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random traces through the JSON path, compared with a plain model of the rule that keys its index
 * by token prefixes instead of hashes (so it shares no code or hashing with the router), drops
 * entries eagerly on removal, restart and epoch change, and filters expired ones.
 */
class TraceReplayModelTest {
  private static final int BLOCK = 4;

  /** Engines are labels; list order is rank order; index keys are token prefixes. */
  static final class Model {
    final Policy policy;
    final double alpha;
    final int maxRequests;
    final long ttlNanos;
    final List<Integer> ranks = new ArrayList<>();
    final Map<Integer, Integer> pending = new HashMap<>();
    final Map<Integer, Integer> incarnation = new HashMap<>();
    final Map<List<Long>, Map<Integer, long[]>> index = new HashMap<>(); // label -> {stamp, time}
    long counter;
    long now;
    Long epoch;

    Model(RouterConfig c) {
      policy = c.policy();
      alpha = c.alpha();
      maxRequests = c.maxRequests();
      ttlNanos = c.ttlNanos();
    }

    List<List<Long>> used(List<Long> tokens) {
      List<List<Long>> keys = new ArrayList<>();
      int blocks = tokens.size() / BLOCK;
      if (policy == Policy.LOAD_BALANCED) {
        return keys;
      }
      for (int i = 0;
          i < (policy == Policy.FIRST_PREFIX_BLOCK ? Math.min(1, blocks) : blocks);
          i++) {
        keys.add(List.copyOf(tokens.subList(0, (i + 1) * BLOCK)));
      }
      return keys;
    }

    Map<Integer, long[]> fresh(List<Long> key) {
      Map<Integer, long[]> out = new HashMap<>();
      index
          .getOrDefault(key, Map.of())
          .forEach(
              (label, e) -> {
                if (ttlNanos == 0 || now - e[1] <= ttlNanos) {
                  out.put(label, e);
                }
              });
      return out;
    }

    /** {label, match depth, hit}. */
    int[] route(List<Long> tokens) {
      List<List<Long>> keys = used(tokens);
      if (keys.isEmpty()) {
        int best = ranks.get(0);
        for (int label : ranks) {
          if (pending.get(label) < pending.get(best)) {
            best = label;
          }
        }
        return new int[] {best, 0, 0};
      }
      int n = keys.size();
      Map<Integer, long[]> owners = Map.of();
      int depth = 0;
      for (int i = n - 1; i >= 0 && owners.isEmpty(); i--) {
        owners = fresh(keys.get(i));
        depth = i + 1;
      }
      int best = -1;
      double bestScore = -1;
      long bestRecency = -1;
      for (int label : ranks) {
        long[] e = owners.get(label);
        double match = e != null ? (double) depth / n : 0.0;
        long recency = e != null ? e[0] : 0;
        double free = Math.max(0, maxRequests - pending.get(label)) / (double) maxRequests;
        double score = alpha * match + (1.0 - alpha) * free;
        if (score > bestScore || (score == bestScore && recency > bestRecency)) {
          best = label;
          bestScore = score;
          bestRecency = recency;
        }
      }
      int chosenDepth = owners.containsKey(best) ? depth : 0;
      return new int[] {best, chosenDepth, chosenDepth > 0 ? 1 : 0};
    }

    void commit(int label, List<Long> tokens) {
      pending.merge(label, 1, Integer::sum);
      counter++;
      for (List<Long> key : used(tokens)) {
        index.computeIfAbsent(key, k -> new HashMap<>()).put(label, new long[] {counter, now});
      }
    }

    void complete(int label, int ofIncarnation) {
      if (ranks.contains(label) && incarnation.get(label) == ofIncarnation) {
        pending.put(label, Math.max(0, pending.get(label) - 1));
      }
    }

    void remove(int label) {
      ranks.remove(Integer.valueOf(label));
      drop(label);
    }

    void add(int label) {
      if (!ranks.contains(label)) {
        ranks.add(label);
      }
      drop(label);
      pending.put(label, 0);
      incarnation.merge(label, 1, Integer::sum);
    }

    void epoch(long value) {
      if (epoch == null || epoch != value) {
        index.clear();
      }
      epoch = value;
    }

    private void drop(int label) {
      index.values().forEach(m -> m.remove(label));
    }
  }

  static Stream<Arguments> settings() {
    List<Arguments> out = new ArrayList<>();
    for (Policy policy : Policy.values()) {
      if (!policy.isMegatron() || !MegatronRelease.V0_19.offers(policy)) {
        continue; // the model is the current rule's
      }
      for (double alpha : new double[] {0, 0.25, 0.5, 0.9, 1}) {
        for (int maxRequests : new int[] {1, 4, 16}) {
          out.add(Arguments.of(policy, alpha, maxRequests, 0L));
        }
      }
      out.add(Arguments.of(policy, 0.5, 8, 40L));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} alpha={1} max_requests={2} ttl_ms={3}")
  @MethodSource("settings")
  void replayMatchesTheModel(Policy policy, double alpha, int maxRequests, long ttlMs)
      throws Exception {
    RouterConfig config =
        RouterConfig.builder()
            .policy(policy)
            .alpha(alpha)
            .maxRequests(maxRequests)
            .blockSize(BLOCK)
            .ttl(Duration.ofMillis(ttlMs))
            .build();
    Random rnd = new Random(31L * maxRequests + policy.ordinal() + (long) (alpha * 1000));
    int initial = 2 + rnd.nextInt(4);
    Model model = new Model(config);
    for (int label = 0; label < initial; label++) {
      model.add(label);
    }
    long[][] families = new long[4][40];
    for (long[] f : families) {
      for (int i = 0; i < f.length; i++) {
        f[i] = rnd.nextInt(50_000) - (rnd.nextInt(10) == 0 ? 1L << 40 : 0);
      }
    }

    StringBuilder trace = new StringBuilder();
    List<int[]> expected = new ArrayList<>(); // {id, label, depth, hit}
    Map<Integer, int[]> inFlight = new HashMap<>(); // id -> {label, incarnation}
    List<Integer> open = new ArrayList<>();
    int nextLabel = initial;
    for (int op = 0; op < 1200; op++) {
      int kind = rnd.nextInt(100);
      if (kind < 55 || open.isEmpty()) {
        long[] family = families[rnd.nextInt(families.length)];
        List<Long> tokens = new ArrayList<>();
        int shared = rnd.nextInt(family.length + 1);
        for (int i = 0; i < shared; i++) {
          tokens.add(family[i]);
        }
        for (int i = rnd.nextInt(9); i > 0; i--) {
          tokens.add(rnd.nextLong());
        }
        int[] d = model.route(tokens);
        model.commit(d[0], tokens);
        expected.add(new int[] {op, d[0], d[1], d[2]});
        inFlight.put(op, new int[] {d[0], model.incarnation.get(d[0])});
        open.add(op);
        trace.append("{\"op\":\"submit\",\"id\":").append(op).append(",\"tokens\":[");
        for (int i = 0; i < tokens.size(); i++) {
          trace.append(i == 0 ? "" : ",").append(tokens.get(i));
        }
        trace.append("]}\n");
      } else if (kind < 88) {
        int id = open.remove(rnd.nextInt(open.size()));
        int[] req = inFlight.remove(id);
        model.complete(req[0], req[1]);
        trace.append("{\"op\":\"complete\",\"id\":").append(id).append("}\n");
      } else if (kind < 92) {
        if (model.ranks.size() > 1) {
          int label = model.ranks.get(rnd.nextInt(model.ranks.size()));
          model.remove(label);
          trace.append("{\"op\":\"remove\",\"rank\":").append(label).append("}\n");
        }
      } else if (kind < 95) {
        int label = rnd.nextBoolean() ? rnd.nextInt(nextLabel) : nextLabel++;
        model.add(label);
        trace.append("{\"op\":\"add\",\"rank\":").append(label).append("}\n");
      } else if (kind < 97) {
        long value = rnd.nextInt(3);
        model.epoch(value);
        trace.append("{\"op\":\"epoch\",\"value\":").append(value).append("}\n");
      } else {
        long ms = 10L * rnd.nextInt(4); // steps of 10 ms land exactly on the 40 ms TTL
        model.now += ms * 1_000_000L;
        trace.append("{\"op\":\"advance\",\"ms\":").append(ms).append("}\n");
      }
    }

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TraceReplay replay = new TraceReplay(config, initial);
    replay.run(new ByteArrayInputStream(trace.toString().getBytes(StandardCharsets.UTF_8)), out);

    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).hasSameSizeAs(expected);
    for (int i = 0; i < lines.size(); i++) {
      int[] e = expected.get(i);
      assertThat(lines.get(i))
          .startsWith(
              "{\"id\":"
                  + e[0]
                  + ",\"rank\":"
                  + e[1]
                  + ",\"match\":"
                  + e[2]
                  + ",\"hit\":"
                  + (e[3] == 1)
                  + ",\"stale\":");
    }
    for (int engine : replay.router().activeEnginesInRankOrder()) {
      assertThat(replay.router().pending(engine)).isNotNegative();
    }
    assertThat(replay.router().indexSize()).isLessThanOrEqualTo(config.indexCapacity());
  }
}
