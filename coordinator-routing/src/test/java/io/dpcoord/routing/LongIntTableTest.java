package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link LongIntTable} against a HashMap, through growth, collisions and backward-shift deletes.
 */
class LongIntTableTest {

  @Test
  void answersLikeAMapAndAMultiset() {
    SplittableRandom rnd = new SplittableRandom(11);
    LongIntTable table = new LongIntTable(16, 1 << 16);
    Map<Long, Integer> model = new HashMap<>();
    for (int step = 0; step < 200_000; step++) {
      // few enough keys that runs collide and the table both grows and empties
      long key = rnd.nextInt(3) == 0 ? rnd.nextLong() : rnd.nextInt(600) * 0x10000L;
      int op = rnd.nextInt(10);
      if (op < 5) {
        int delta = rnd.nextInt(7) - 3;
        int want = Math.max(0, model.getOrDefault(key, 0) + delta);
        if (want == 0) {
          model.remove(key);
        } else {
          model.put(key, want);
        }
        assertThat(table.add(key, delta)).as("add at step %d", step).isEqualTo(want);
      } else if (op < 7) {
        model.remove(key);
        table.remove(key);
      } else if (op < 8 && !model.containsKey(key)) {
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
}
