package io.dpcoord.routing;

/**
 * A primitive long to non-negative int hash table: open addressing with linear probing over a
 * power-of-two table kept at most half full, deletion by backward shift (Knuth, TAOCP vol. 3, 6.4,
 * Algorithm R), so there are no tombstones and probe runs never degrade. Keys may be any long; the
 * home cell comes from the high bits of a Fibonacci multiplication, so small or sequential keys
 * spread as well as the SHA-derived block hashes.
 */
final class LongIntTable {
  static final int MISSING = -1;
  private static final long FIBONACCI = 0x9E3779B97F4A7C15L;

  private final int maxLength;
  // cell i holds its key at 2i and its value + 1 at 2i + 1 (0 marks an empty cell): one cache
  // line per probe instead of one in a key array and another in a value array
  private long[] cells;
  private int shift;
  private int size;

  /** A table that starts at {@code initialLength} cells and grows up to {@code maxLength}. */
  LongIntTable(int initialLength, int maxLength) {
    this.maxLength = maxLength;
    allocate(initialLength);
  }

  int size() {
    return size;
  }

  /** The value for {@code key}, or {@link #MISSING}. */
  int get(long key) {
    int mask = length() - 1;
    for (int i = home(key); ; i = (i + 1) & mask) {
      long v = cells[2 * i + 1];
      if (v == 0) {
        return MISSING;
      }
      if (cells[2 * i] == key) {
        return (int) v - 1;
      }
    }
  }

  /**
   * Adds {@code delta} to {@code key}'s value (an absent key counts as 0) and removes the key when
   * the sum is 0 or less: a multiset of keys.
   *
   * @return the new value (0 once removed)
   */
  int add(long key, int delta) {
    int mask = length() - 1;
    for (int i = home(key); ; i = (i + 1) & mask) {
      long v = cells[2 * i + 1];
      if (v == 0) {
        if (delta <= 0) {
          return 0;
        }
        if ((size + 1) * 2 > length()) {
          insert(key, delta); // grows first
        } else {
          cells[2 * i] = key;
          cells[2 * i + 1] = delta + 1L;
          size++;
        }
        return delta;
      }
      if (cells[2 * i] == key) {
        int sum = (int) v - 1 + delta;
        if (sum <= 0) {
          removeAt(i);
          return 0;
        }
        cells[2 * i + 1] = sum + 1L;
        return sum;
      }
    }
  }

  /** Reads {@code key}'s home cell and returns its value word, to bring it into the cache. */
  long touch(long key) {
    return cells[2 * home(key) + 1];
  }

  /** Maps {@code key}, which must be absent, to {@code value} (non-negative). */
  void insert(long key, int value) {
    if ((size + 1) * 2 > length()) {
      if (length() >= maxLength) {
        throw new IllegalStateException("table of " + length() + " cells is full");
      }
      rehash(length() * 2);
    }
    int mask = length() - 1;
    int i = home(key);
    while (cells[2 * i + 1] != 0) {
      i = (i + 1) & mask;
    }
    cells[2 * i] = key;
    cells[2 * i + 1] = value + 1L;
    size++;
  }

  /** Removes {@code key} if it is present. */
  void remove(long key) {
    int mask = length() - 1;
    int i = home(key);
    while (true) {
      if (cells[2 * i + 1] == 0) {
        return;
      }
      if (cells[2 * i] == key) {
        removeAt(i);
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** Empties cell {@code i}, which holds a key. */
  private void removeAt(int i) {
    int mask = length() - 1;
    size--;
    // Pull later members of the probe run into the hole unless their home lies cyclically in
    // (hole, their cell], where they would no longer be found.
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      if (cells[2 * j + 1] == 0) {
        cells[2 * i + 1] = 0;
        return;
      }
      int k = home(cells[2 * j]);
      boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        cells[2 * i] = cells[2 * j];
        cells[2 * i + 1] = cells[2 * j + 1];
        i = j;
      }
    }
  }

  private int home(long key) {
    return (int) ((key * FIBONACCI) >>> shift);
  }

  private int length() {
    return cells.length >> 1;
  }

  private void allocate(int length) {
    cells = new long[2 * length];
    shift = 64 - Integer.numberOfTrailingZeros(length);
  }

  private void rehash(int length) {
    long[] old = cells;
    allocate(length);
    int mask = length - 1;
    for (int j = 0; j < old.length; j += 2) {
      if (old[j + 1] != 0) {
        int i = home(old[j]);
        while (cells[2 * i + 1] != 0) {
          i = (i + 1) & mask;
        }
        cells[2 * i] = old[j];
        cells[2 * i + 1] = old[j + 1];
      }
    }
  }
}
