package io.dpcoord.sim.replay;

import java.util.Arrays;

/** A long to int map with open addressing for request ids; entries are never removed. */
final class LongIntMap {
  private static final int EMPTY = Integer.MIN_VALUE;

  private long[] keys = new long[1024];
  private int[] values = new int[1024];
  private int size;

  LongIntMap() {
    Arrays.fill(values, EMPTY);
  }

  /** The value for {@code key}, or {@code missing} if there is none. */
  int get(long key, int missing) {
    int mask = keys.length - 1;
    for (int i = home(key, mask); ; i = (i + 1) & mask) {
      if (values[i] == EMPTY) {
        return missing;
      }
      if (keys[i] == key) {
        return values[i];
      }
    }
  }

  /** Sets the value for {@code key}; {@code value} must not be {@code Integer.MIN_VALUE}. */
  void put(long key, int value) {
    int mask = keys.length - 1;
    int i = home(key, mask);
    while (values[i] != EMPTY) {
      if (keys[i] == key) {
        values[i] = value;
        return;
      }
      i = (i + 1) & mask;
    }
    keys[i] = key;
    values[i] = value;
    if (++size * 2 > keys.length) {
      grow();
    }
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    values = new int[oldKeys.length * 2];
    Arrays.fill(values, EMPTY);
    int mask = keys.length - 1;
    for (int j = 0; j < oldKeys.length; j++) {
      if (oldValues[j] != EMPTY) {
        int i = home(oldKeys[j], mask);
        while (values[i] != EMPTY) {
          i = (i + 1) & mask;
        }
        keys[i] = oldKeys[j];
        values[i] = oldValues[j];
      }
    }
  }

  private static int home(long key, int mask) {
    return (int) ((key * 0x9E3779B97F4A7C15L) >>> 32) & mask;
  }
}
