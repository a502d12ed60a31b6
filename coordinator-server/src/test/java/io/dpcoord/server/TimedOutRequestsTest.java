package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TimedOutRequestsTest {

  @Test
  void partialRepliesAreLateUntilTheTerminalOneWhichForgetsTheId() {
    TimedOutRequests timedOut = new TimedOutRequests();
    timedOut.add(42);
    assertThat(timedOut.late(42, false)).isTrue();
    assertThat(timedOut.late(42, false)).isTrue();
    assertThat(timedOut.late(7, false)).isFalse();
    assertThat(timedOut.late(42, true)).isTrue();
    assertThat(timedOut.late(42, true)).as("a duplicate is no late reply").isFalse();
    assertThat(timedOut.size()).isZero();
  }

  @Test
  void theOldestIdsAreForgottenBeyondTheCapacityAsAReferenceModelSays() {
    int capacity = 16;
    TimedOutRequests timedOut = new TimedOutRequests(capacity);
    Deque<Long> order = new ArrayDeque<>(); // the last `capacity` ids added, oldest first
    Set<Long> remembered = new HashSet<>();
    SplittableRandom random = new SplittableRandom(3);
    long next = 0;
    for (int step = 0; step < 10_000; step++) {
      if (random.nextInt(3) > 0) {
        long id = next++;
        timedOut.add(id);
        order.addLast(id);
        remembered.add(id);
        if (order.size() > capacity) {
          remembered.remove(order.removeFirst());
        }
      } else {
        long id = next == 0 ? 0 : random.nextLong(next);
        boolean last = random.nextBoolean();
        assertThat(timedOut.late(id, last)).isEqualTo(remembered.contains(id));
        if (last) {
          remembered.remove(id);
        }
      }
      assertThat(timedOut.size()).isEqualTo(remembered.size()).isLessThanOrEqualTo(capacity);
    }
  }
}
