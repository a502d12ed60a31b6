package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link SpareArray}: arrays allocated ahead are handed over, zeroed, and only at their length. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SpareArrayTest {

  @Test
  void growCopiesTheOldValuesIntoAZeroedArrayOfTheNewLength() {
    SpareArray spare = new SpareArray();
    int length = SpareArray.AHEAD * 2;
    spare.prepare(length);
    long[] old = new long[SpareArray.AHEAD];
    Arrays.fill(old, 7L);

    long[] grown = spare.grow(old, length);

    assertThat(grown).hasSize(length);
    assertThat(Arrays.stream(grown, 0, old.length).allMatch(v -> v == 7L)).isTrue();
    assertThat(Arrays.stream(grown, old.length, length).allMatch(v -> v == 0L)).isTrue();
    assertThat(spare.ready()).as("handed over, so no spare is left").isFalse();
  }

  @Test
  void aReadySpareStaysWhenAskedAgainAndIsTakenOnce() throws InterruptedException {
    SpareArray spare = new SpareArray();
    int length = SpareArray.AHEAD * 4;
    spare.prepare(length);
    while (!spare.ready()) {
      Thread.sleep(1); // polls the helper's future; the timeout bounds the wait
    }
    spare.prepare(length); // asked again for the same length: the ready one stays
    assertThat(spare.ready()).isTrue();

    assertThat(spare.take(length)).hasSize(length).containsOnly(0L);
    assertThat(spare.ready()).isFalse();
  }

  @Test
  void aSpareOfAnotherLengthIsDroppedAndAFreshArrayAllocated() {
    SpareArray spare = new SpareArray();
    spare.prepare(SpareArray.AHEAD * 2);

    assertThat(spare.take(SpareArray.AHEAD * 3)).hasSize(SpareArray.AHEAD * 3).containsOnly(0L);
    assertThat(spare.ready()).isFalse();
  }

  @Test
  void smallArraysAreNotPrepared() {
    SpareArray spare = new SpareArray();
    spare.prepare(SpareArray.AHEAD - 1);

    assertThat(spare.ready()).isFalse();
    assertThat(spare.take(SpareArray.AHEAD - 1)).hasSize(SpareArray.AHEAD - 1);
  }

  @Test
  void aReleasedSpareIsNotHandedOver() {
    SpareArray spare = new SpareArray();
    int length = SpareArray.AHEAD * 2;
    spare.prepare(length);
    assertThat(spare.held()).isTrue();

    spare.release();

    assertThat(spare.held()).isFalse();
    assertThat(spare.ready()).isFalse();
    long[] old = {5L};
    assertThat(spare.grow(old, length)).hasSize(length).startsWith(5L);
  }

  @Test
  void theLargestArrayIsHandedOverOnceReadyInsteadOfTheDoubledOne() throws InterruptedException {
    SpareArray spare = new SpareArray();
    int largest = SpareArray.AHEAD * 8;
    spare.prepareFull(largest);
    spare.prepare(SpareArray.AHEAD * 2);
    while (!spare.fullReady()) {
      Thread.sleep(1); // polls the helper's future; the timeout bounds the wait
    }
    long[] old = {7L, 8L};

    long[] grown = spare.grow(old, SpareArray.AHEAD * 2);

    assertThat(grown).hasSize(largest).startsWith(7L, 8L);
    assertThat(Arrays.stream(grown, 2, largest).allMatch(v -> v == 0L)).isTrue();
    assertThat(spare.held()).as("the doubled one let go with it").isFalse();
  }

  @Test
  void theLargestArrayIsLetGoOnceTheArraysReachItsLength() {
    SpareArray spare = new SpareArray();
    spare.prepareFull(SpareArray.AHEAD * 2);

    // an array already as long: whether the largest is ready or not, it is not handed over
    assertThat(spare.next(SpareArray.AHEAD * 2, SpareArray.AHEAD * 4))
        .hasSize(SpareArray.AHEAD * 4);
    assertThat(spare.fullHeld()).isFalse();
  }

  @Test
  void aLargestArrayTheHelperCouldNotAllocateIsLetGo() throws InterruptedException {
    SpareArray spare = new SpareArray();
    spare.prepareFull(
        Integer.MAX_VALUE); // beyond the VM's array limit: fails at once, no heap used
    while (!spare.fullReady()) {
      Thread.sleep(1);
    }

    assertThat(spare.next(16, 32)).as("doubling goes on").hasSize(32);
    assertThat(spare.fullHeld()).isFalse();
  }
}
