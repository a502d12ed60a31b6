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
  void readyForOnlyAtItsLengthOnceAllocated() throws InterruptedException {
    SpareArray spare = new SpareArray();
    int length = SpareArray.AHEAD * 2;
    spare.prepare(length);
    while (!spare.readyFor(length)) {
      Thread.sleep(1); // polls the helper's future; the timeout bounds the wait
    }

    assertThat(spare.readyFor(length * 2)).isFalse();
    assertThat(spare.take(length)).hasSize(length).containsOnly(0L);
    assertThat(spare.readyFor(length)).as("taken").isFalse();
  }

  @Test
  void anArrayTheHelperCouldNotAllocateIsLetGo() throws InterruptedException {
    SpareArray spare = new SpareArray();
    spare.prepare(Integer.MAX_VALUE); // beyond the VM's array limit: fails at once, no heap used
    while (spare.held()) {
      assertThat(spare.readyFor(Integer.MAX_VALUE)).isFalse();
      Thread.sleep(1);
    }
    assertThat(spare.readyFor(Integer.MAX_VALUE)).isFalse();
  }
}
