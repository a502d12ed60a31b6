package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WrittenBlocksTest {

  @Test
  void countsTheBlocksSentToTheSameEngineAfterTheStampedCommit() {
    WrittenBlocks w = new WrittenBlocks();
    w.record(0, 1, 4); // engine 0: 4 blocks at stamp 1
    w.record(1, 2, 7); // engine 1 does not age engine 0's entries
    w.record(0, 3, 2);
    w.record(0, 5, 3);

    assertThat(w.since(0, 1)).isEqualTo(5);
    assertThat(w.since(0, 3)).isEqualTo(3);
    assertThat(w.since(0, 5)).isZero();
    assertThat(w.since(0, 4)).as("between commits: the last one at or before it").isEqualTo(3);
    assertThat(w.since(1, 2)).isZero();
    assertThat(w.since(2, 1)).as("an engine never sent anything").isZero();
    assertThat(w.since(70, 1)).as("an id never seen").isZero();
  }

  @Test
  void anEntryOlderThanTheRingIsAsOldAsItsOldestCommit() {
    WrittenBlocks w = new WrittenBlocks();
    for (long stamp = 1; stamp <= 1024 + 10; stamp++) {
      w.record(0, stamp, 1);
    }
    // the ring keeps stamps 11 to 1034; stamp 11's total is 11, the total is 1034
    assertThat(w.since(0, 11)).isEqualTo(1023);
    assertThat(w.since(0, 3)).as("older than the ring: a lower bound").isEqualTo(1023);
    assertThat(w.since(0, 1034)).isZero();
  }

  @Test
  void agreesWithAPlainListOverRandomCommitsToManyEngines() {
    Random rnd = new Random(7);
    WrittenBlocks w = new WrittenBlocks();
    int engines = 80; // past the first growth of the per-engine arrays
    List<List<long[]>> commits = new ArrayList<>();
    for (int e = 0; e < engines; e++) {
      commits.add(new ArrayList<>());
    }
    long stamp = 0;
    for (int op = 0; op < 200_000; op++) {
      int e = rnd.nextInt(3) == 0 ? rnd.nextInt(engines) : rnd.nextInt(3); // 3 busy engines
      stamp += 1 + rnd.nextInt(3);
      int blocks = rnd.nextInt(20);
      List<long[]> c = commits.get(e);
      c.add(new long[] {stamp, (c.isEmpty() ? 0 : c.get(c.size() - 1)[1]) + blocks});
      w.record(e, stamp, blocks);
      if (op % 7 == 0) {
        int q = rnd.nextInt(engines);
        long at = stamp - rnd.nextInt(10_000);
        assertThat(w.since(q, at))
            .as("op %d, engine %d, stamp %d", op, q, at)
            .isEqualTo(plain(commits.get(q), at));
        long limit = rnd.nextInt(3000);
        assertThat(at >= 1 && at <= w.staleThrough(q, limit))
            .as("op %d, engine %d, stamp %d, limit %d: stale by age", op, q, at, limit)
            .isEqualTo(at >= 1 && w.since(q, at) > limit);
      }
    }
  }

  /** The same rule over the engine's whole history, cut to its last 1,024 commits. */
  private static long plain(List<long[]> c, long stamp) {
    if (c.isEmpty()) {
      return 0;
    }
    List<long[]> last = c.subList(Math.max(0, c.size() - 1024), c.size());
    long at = last.get(0)[1];
    for (long[] commit : last) {
      if (commit[0] <= stamp) {
        at = commit[1];
      }
    }
    return c.get(c.size() - 1)[1] - at;
  }
}
