package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs {@link PrefixIndex} and {@link LinkedPrefixIndex} (the index before entries moved into the
 * hash-table cells) through the same random operations and checks that they answer alike: the same
 * owners in the same order, the same stale owners dropped, the same hashes evicted.
 */
class PrefixIndexTest {

  /** Staleness the way the router decides it, with state a test can change. */
  static final class Engines implements PrefixIndex.Staleness {
    boolean[] active = new boolean[64];
    int count;
    long epochStamp;
    long now;
    long ttl;

    int add() {
      if (count == active.length) {
        active = Arrays.copyOf(active, count * 2);
      }
      active[count] = true;
      return count++;
    }

    @Override
    public boolean isStale(int engine, long stamp, long writtenNanos) {
      return !active[engine] || stamp <= epochStamp || (ttl > 0 && now - writtenNanos > ttl);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 7, 64, 1000})
  void answersLikeTheLinkedIndex(int capacity) {
    for (long seed = 1; seed <= 5; seed++) {
      compare(capacity, seed, 40_000, capacity * 3L + 5);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {40_000})
  void answersLikeTheLinkedIndexWhenLarge(int capacity) {
    compare(capacity, 7, 400_000, capacity * 2L);
  }

  /**
   * Runs {@code steps} random operations over {@code hashes} distinct single hashes and a set of
   * requests (hash sequences sharing prefixes, committed whole as the router does).
   */
  private static void compare(int capacity, long seed, int steps, long hashes) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Engines engines = new Engines();
    engines.ttl = seed % 2 == 0 ? 50 : 0;
    int[] live = new int[8];
    for (int i = 0; i < live.length; i++) {
      live[i] = engines.add();
    }
    PrefixIndex subject = new PrefixIndex(capacity, engines);
    LinkedPrefixIndex reference = new LinkedPrefixIndex(capacity, engines);
    int[] gotEngines = new int[1 << 12];
    long[] gotStamps = new long[1 << 12];
    int[] wantEngines = new int[1 << 12];
    long[] wantStamps = new long[1 << 12];
    long[][] requests = requests(rnd, hashes);
    long counter = 0;
    for (int step = 0; step < steps; step++) {
      // a few hot hashes and a long tail, so owner lists grow and the index overflows
      long hash = rnd.nextInt(4) == 0 ? rnd.nextLong(8) : rnd.nextLong(hashes);
      int op = rnd.nextInt(100);
      if (op < 35) {
        counter++;
        int engine = live[rnd.nextInt(live.length)];
        subject.assign(hash, engine, counter, engines.now);
        reference.assign(hash, engine, counter, engines.now);
      } else if (op < 55) {
        counter++;
        int engine = live[rnd.nextInt(live.length)];
        long[] request = requests[rnd.nextInt(requests.length)];
        int length = 1 + rnd.nextInt(request.length);
        for (int i = 0; i < length; i++) {
          subject.assign(request[i], engine, counter, engines.now);
          reference.assign(request[i], engine, counter, engines.now);
        }
      } else if (op < 95) {
        if (rnd.nextBoolean()) {
          long[] request = requests[rnd.nextInt(requests.length)];
          hash = request[rnd.nextInt(request.length)];
        }
        subject.resetStaleSeen();
        reference.resetStaleSeen();
        int cell = subject.lookup(hash);
        int entry = reference.lookup(hash);
        assertThat(cell >= 0).as("tracked %d at step %d", hash, step).isEqualTo(entry >= 0);
        if (cell >= 0) {
          int got = subject.collectOwners(cell, gotEngines, gotStamps);
          int want = reference.collectOwners(entry, wantEngines, wantStamps);
          assertThat(Arrays.copyOf(gotEngines, got)).isEqualTo(Arrays.copyOf(wantEngines, want));
          assertThat(Arrays.copyOf(gotStamps, got)).isEqualTo(Arrays.copyOf(wantStamps, want));
        }
        assertThat(subject.staleSeen()).isEqualTo(reference.staleSeen());
      } else if (op < 98) {
        // a restart: the old id goes stale, a new one takes its place
        int i = rnd.nextInt(live.length);
        engines.active[live[i]] = false;
        live[i] = engines.add();
      } else if (op < 99) {
        engines.epochStamp = counter - rnd.nextInt(4);
      } else {
        engines.now += rnd.nextInt(20);
      }
      assertThat(subject.size()).as("size at step %d", step).isEqualTo(reference.size());
      assertThat(subject.evicted()).isEqualTo(reference.evicted());
      assertThat(subject.purged()).as("purged at step %d", step).isEqualTo(reference.purged());
      assertThat(subject.size()).isLessThanOrEqualTo(capacity);
    }
    assertThat(subject.allocatedEntries()).isEqualTo(reference.allocatedEntries());
    assertThat(subject.allocatedNodes()).isEqualTo(reference.allocatedNodes());
  }

  /** 32 requests of 1 to 24 hashes: 4 shared prefixes, some repeated hashes, tails of their own. */
  private static long[][] requests(SplittableRandom rnd, long hashes) {
    long[][] prefixes = new long[4][];
    for (int p = 0; p < prefixes.length; p++) {
      prefixes[p] = new long[rnd.nextInt(12)];
      for (int i = 0; i < prefixes[p].length; i++) {
        prefixes[p][i] = rnd.nextLong(hashes);
      }
    }
    long[][] requests = new long[32][];
    for (int r = 0; r < requests.length; r++) {
      long[] prefix = prefixes[rnd.nextInt(prefixes.length)];
      requests[r] = Arrays.copyOf(prefix, prefix.length + 1 + rnd.nextInt(12));
      for (int i = prefix.length; i < requests[r].length; i++) {
        requests[r][i] = rnd.nextInt(8) == 0 && i > 0 ? requests[r][i - 1] : rnd.nextLong(hashes);
      }
    }
    return requests;
  }
}
