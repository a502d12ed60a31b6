package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link LongIntTable} against a HashMap, through growth, collisions and backward-shift deletes,
 * including while a growth moves the old table's cells over.
 */
class LongIntTableTest {

  @Test
  void answersLikeAMap() {
    SplittableRandom rnd = new SplittableRandom(11);
    LongIntTable table = new LongIntTable(16, 1 << 16);
    Map<Long, Integer> model = new HashMap<>();
    for (int step = 0; step < 200_000; step++) {
      // few enough keys that runs collide and the table both grows and empties
      long key = rnd.nextInt(6) == 0 ? rnd.nextLong() : rnd.nextInt(600) * 0x10000L;
      int op = rnd.nextInt(10);
      if (op < 4) {
        model.remove(key);
        table.remove(key);
      } else if (!model.containsKey(key)) {
        int value = rnd.nextInt(1000);
        model.put(key, value);
        table.insert(key, value);
      }
      Integer want = model.get(key);
      assertThat(table.get(key)).isEqualTo(want == null ? LongIntTable.MISSING : want);
      assertThat(table.size()).isEqualTo(model.size());
      if (step % 10_000 == 0) {
        model.forEach((k, v) -> assertThat(table.get(k)).isEqualTo(v));
      }
    }
  }

  /**
   * Grows from 16 cells to 2^12 or more through keys a quarter of which have their home in the last
   * eighth of the table (so runs wrap round, and cross the cell where a growth's move stands), with
   * removes between the inserts, and checks every key after each operation while a growth is under
   * way.
   */
  @Test
  void answersWhileItGrows() {
    SplittableRandom rnd = new SplittableRandom(12);
    LongIntTable table = new LongIntTable(16, 1 << 13);
    Map<Long, Integer> model = new HashMap<>();
    List<Long> keys = new ArrayList<>();
    int growths = 0;
    boolean wasGrowing = false;
    for (int step = 0; step < 6_000; step++) {
      long key;
      if (keys.isEmpty() || rnd.nextInt(4) != 0) {
        // a quarter with the top 3 bits of key x FIBONACCI set: a home in the last eighth of any
        // table of 16 to 2^13 cells (the multiplier is odd, so each product has one key)
        long product =
            rnd.nextInt(4) == 0 ? 0xE000_0000_0000_0000L | rnd.nextLong() >>> 3 : rnd.nextLong();
        key = product * FIBONACCI_INVERSE;
      } else {
        key = keys.get(rnd.nextInt(keys.size()));
      }
      int op = rnd.nextInt(10);
      if (op < 6 && !model.containsKey(key)) {
        int value = rnd.nextInt(1000);
        model.put(key, value);
        keys.add(key);
        table.insert(key, value);
      } else {
        model.remove(key);
        table.remove(key);
      }
      assertThat(table.size()).isEqualTo(model.size());
      if (table.growing()) {
        growths += wasGrowing ? 0 : 1;
        List<Long> wrong = new ArrayList<>();
        model.forEach(
            (k, v) -> {
              if (table.get(k) != v) {
                wrong.add(k);
              }
            });
        assertThat(wrong).as("keys answered wrong at step %d", step).isEmpty();
      }
      wasGrowing = table.growing();
      assertThat(table.get(key)).isEqualTo(model.getOrDefault(key, LongIntTable.MISSING));
    }
    assertThat(growths).as("growths seen").isGreaterThanOrEqualTo(8);
    model.forEach((k, v) -> assertThat(table.get(k)).isEqualTo(v));
  }

  @Test
  @Timeout(30)
  void preallocatedItGrowsOnceStraightToItsLargestTable() throws InterruptedException {
    int max = 1 << 13; // 2 x 8,192 longs: allocated ahead (SpareArray.AHEAD)
    LongIntTable table = new LongIntTable(16, max, true);
    assertThat(table.holdsFull()).isTrue();
    while (!table.fullReady()) {
      Thread.sleep(1); // polls the helper's future; the timeout bounds the wait
    }
    SplittableRandom rnd = new SplittableRandom(5);
    Map<Long, Integer> model = new HashMap<>();
    int growths = 0;
    boolean wasGrowing = false;
    while (model.size() < max / 2) {
      long key = rnd.nextLong();
      if (!model.containsKey(key)) {
        int value = rnd.nextInt(1000);
        model.put(key, value);
        table.insert(key, value);
      }
      growths += table.growing() && !wasGrowing ? 1 : 0;
      wasGrowing = table.growing();
    }

    // doubling from 16 cells to 8,192 would have grown nine times
    assertThat(growths).isEqualTo(1);
    assertThat(table.holdsFull()).isFalse();
    model.forEach((k, v) -> assertThat(table.get(k)).isEqualTo(v));
  }

  /** The inverse of the table's multiplier modulo 2^64, by Newton's iteration. */
  private static final long FIBONACCI_INVERSE = inverse(0x9E3779B97F4A7C15L);

  private static long inverse(long odd) {
    long x = odd; // correct to 3 bits; each step doubles them
    for (int i = 0; i < 5; i++) {
      x *= 2 - odd * x;
    }
    return x;
  }

  @Test
  void theInverseInvertsTheMultiplier() {
    assertThat(0x9E3779B97F4A7C15L * FIBONACCI_INVERSE).isEqualTo(1L);
  }
}
