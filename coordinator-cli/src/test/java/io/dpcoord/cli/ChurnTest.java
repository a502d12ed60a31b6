package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChurnTest {
  private static final long SECOND = 1_000_000_000L;

  private final List<String> taken = new ArrayList<>();

  /** Advances {@code churn} to {@code fraction} of a 10 s run, noting the steps taken. */
  private void advance(Churn churn, double fraction) {
    churn.advance(
        fraction,
        (long) (fraction * 10 * SECOND),
        epoch -> taken.add("epoch " + epoch),
        rank -> taken.add("restart " + rank));
  }

  @Test
  void theEpochComesAtHalfTimeAndTheLastRankRestartsAt70Percent() {
    Churn churn = new Churn(true, 4);
    assertThat(churn.plan()).isEqualTo(", churn: new epoch at 50%, rank 3 restarted at 70%");

    advance(churn, 0.49);
    assertThat(taken).isEmpty();
    assertThat(churn.nextAt()).isEqualTo(0.5);

    advance(churn, 0.5);
    assertThat(taken).containsExactly("epoch 1");
    assertThat(churn.nextAt()).isEqualTo(0.7);

    advance(churn, 0.69);
    assertThat(taken).containsExactly("epoch 1");

    advance(churn, 0.7);
    assertThat(taken).containsExactly("epoch 1", "restart 3");
    assertThat(churn.nextAt()).isEqualTo(1.0);
    assertThat(churn.summary())
        .isEqualTo("SET_GENERATION_EPOCH 1 at 5.0 s; rank 3 killed and restarted at 7.0 s");
  }

  @Test
  void eachStepIsTakenOnceAndBothInOrderWhenTheRunJumpsPastThem() {
    Churn churn = new Churn(true, 2);

    for (double fraction : new double[] {0.8, 0.9, 1.2}) {
      advance(churn, fraction);
    }

    assertThat(taken).containsExactly("epoch 1", "restart 1");
    assertThat(churn.summary())
        .isEqualTo("SET_GENERATION_EPOCH 1 at 8.0 s; rank 1 killed and restarted at 8.0 s");
  }

  @Test
  void withoutChurnNothingIsEverDue() {
    Churn churn = new Churn(false, 4);

    advance(churn, 2.0);

    assertThat(taken).isEmpty();
    assertThat(churn.nextAt()).isEqualTo(1.0);
    assertThat(churn.summary()).isEqualTo("none");
    assertThat(churn.plan()).isEqualTo(", no churn");
  }
}
