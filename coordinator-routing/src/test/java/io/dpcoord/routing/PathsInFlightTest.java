package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link PathsInFlight}'s distinct blocks against a multiset of every hash in flight (a HashMap of
 * counts), on chained hash sequences: a hash stands for its whole prefix, as block hashes do.
 */
class PathsInFlightTest {

  /** Prompts of up to 12 blocks from a trie of few branches, so prefixes repeat and nest. */
  private static long[] chained(SplittableRandom rnd) {
    long[] hashes = new long[rnd.nextInt(13)];
    long h = 17;
    for (int i = 0; i < hashes.length; i++) {
      // a block's hash covers its parent's and its own content (one of 3, or of 5 signed values)
      long content = rnd.nextInt(4) == 0 ? rnd.nextInt(5) - 2 : rnd.nextInt(3);
      h = (h * 0x9E3779B97F4A7C15L + content) ^ (h >>> 29);
      hashes[i] = h;
    }
    return hashes;
  }

  @Test
  void countsEachBlockInFlightOnceAsAMultisetDoes() {
    SplittableRandom rnd = new SplittableRandom(3);
    PathsInFlight.Pool pool = new PathsInFlight.Pool();
    PathsInFlight paths = new PathsInFlight(pool);
    Map<Long, Integer> model = new HashMap<>();
    List<long[]> inFlight = new ArrayList<>();
    int sharedSeen = 0;
    int unmatchedSeen = 0;
    for (int step = 0; step < 50_000; step++) {
      int op = rnd.nextInt(10);
      if (op < 5 || inFlight.isEmpty()) {
        long[] request = chained(rnd);
        // the caller's buffer is longer than the request, and reused after the call
        long[] buffer = new long[request.length + 3];
        System.arraycopy(request, 0, buffer, 0, request.length);
        paths.add(buffer, request.length);
        Arrays.fill(buffer, 99);
        inFlight.add(request);
        for (long h : request) {
          sharedSeen += model.merge(h, 1, Integer::sum) > 1 ? 1 : 0;
        }
      } else if (op < 9) {
        long[] request = inFlight.remove(rnd.nextInt(inFlight.size()));
        paths.remove(request, request.length);
        for (long h : request) {
          model.computeIfPresent(h, (k, c) -> c > 1 ? c - 1 : null);
        }
      } else {
        // a request not in flight, perhaps a prefix of one that is: changes nothing
        long[] other = chained(rnd);
        if (inFlight.stream().noneMatch(r -> Arrays.equals(r, other))) {
          paths.remove(other, other.length);
          unmatchedSeen++;
        }
      }
      assertThat(paths.distinct()).as("step %d", step).isEqualTo(model.size());
    }
    assertThat(sharedSeen).as("blocks shared in flight").isGreaterThan(10_000);
    assertThat(unmatchedSeen).as("completions matching nothing").isGreaterThan(1_000);
  }

  @Test
  void theSameRequestTwiceInFlightCountsOnceUntilBothAreDone() {
    PathsInFlight paths = new PathsInFlight(new PathsInFlight.Pool());
    long[] a = {1, 2, 3};
    paths.add(a, 3);
    paths.add(a, 3);
    paths.add(new long[] {1, 2}, 2);
    paths.add(new long[] {1, 5}, 2);
    assertThat(paths.distinct()).as("1, 2, 3 and 5").isEqualTo(4);
    paths.remove(a, 3);
    assertThat(paths.distinct()).isEqualTo(4);
    paths.remove(a, 3);
    assertThat(paths.distinct()).as("1, 2 and 5").isEqualTo(3);
    paths.remove(a, 3);
    paths.remove(new long[] {1}, 1);
    assertThat(paths.distinct()).as("nothing more to take off").isEqualTo(3);
    paths.remove(new long[] {1, 5}, 2);
    paths.remove(new long[] {1, 2}, 2);
    assertThat(paths.distinct()).isZero();
  }

  @Test
  void thePoolHandsBackArraysOfAPowerOfTwoAtLeastAsLong() {
    PathsInFlight.Pool pool = new PathsInFlight.Pool();
    assertThat(pool.take(1)).hasSize(1);
    assertThat(pool.take(3)).hasSize(4);
    long[] given = pool.take(64);
    assertThat(given).hasSize(64);
    pool.give(given);
    assertThat(pool.take(33)).isSameAs(given);
    assertThat(pool.take(33)).isNotSameAs(given).hasSize(64);
  }
}
