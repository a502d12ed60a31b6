package io.dpcoord.routing;

/**
 * A primitive long to non-negative int hash table: open addressing with linear probing over a
 * power-of-two table kept at most half full, deletion by backward shift (Knuth, TAOCP vol. 3, 6.4,
 * Algorithm R), so there are no tombstones and probe runs never degrade. Keys may be any long; the
 * home cell comes from the high bits of a Fibonacci multiplication, so small or sequential keys
 * spread as well as the SHA-derived block hashes.
 *
 * <p>It grows without stopping: a full table is not rehashed in one go (at half a million keys that
 * cost the event loop 18 ms compiled, and a method that runs a handful of times in a process's life
 * mostly runs uncompiled, several times slower) but moved a few cells at each insert or remove
 * while both tables answer (see the notes in the body); and the larger table is allocated ahead
 * ({@link SpareArray}).
 */
final class LongIntTable {
  /*
   * Growth. When an insert would fill the table past half, a table twice the size becomes `cells`
   * and the full one becomes `old`. Every key is in exactly one of them: inserts go to `cells`,
   * and each insert or remove first moves the next MOVES cells of `old` into `cells`. The new
   * table starts a quarter full and grows again at half full: with L cells in `old`, that is L / 2
   * inserts later, and the move is over after L / MOVES = L / 4 operations.
   *
   * The move starts at an empty cell `start` of `old` and goes round from there; the cells
   * [start, start + moved) (cyclically) are empty once moved. A run of `old` that began in that
   * range now begins at the first unmoved cell, so a lookup in `old` whose home is in the moved
   * range starts its probe there. Nothing is ever added to `old`, and a backward-shift delete in
   * it fills a hole only from later in the same run, so the moved range stays empty and every
   * remaining run stays whole: a key whose home is in the moved range is never "between" a hole
   * and its cell, and is pulled into the hole as it should be.
   */

  static final int MISSING = -1;
  private static final long FIBONACCI = 0x9E3779B97F4A7C15L;

  /** Cells of the old table moved per operation while the table grows. */
  private static final int MOVES = 4;

  private final int maxLength;
  // cell i holds its key at 2i and its value + 1 at 2i + 1 (0 marks an empty cell): one cache
  // line per probe instead of one in a key array and another in a value array
  private long[] cells;
  private int shift;
  private int size; // keys in both tables

  // while the table grows: the table being emptied, its shift, where its move began, cells moved
  private long[] old;
  private int oldShift;
  private int start;
  private int moved;

  // the next table, allocated ahead once the keys reach prepareAt (see SpareArray)
  private final SpareArray spare = new SpareArray();
  private int prepareAt;

  // the sum of touchAll's loads (so they stay)
  private long touched;

  /** A table that starts at {@code initialLength} cells and grows up to {@code maxLength}. */
  LongIntTable(int initialLength, int maxLength) {
    this(initialLength, maxLength, false);
  }

  /**
   * With {@code preallocate}, a table of {@code maxLength} cells is allocated at once on the helper
   * thread, and the first growth after it is ready goes straight to it.
   */
  LongIntTable(int initialLength, int maxLength, boolean preallocate) {
    this.maxLength = maxLength;
    cells = new long[2 * initialLength];
    shift = shiftFor(initialLength);
    prepareAt = 3 * initialLength / 8;
    if (preallocate && initialLength < maxLength) {
      spare.prepareFull(2 * maxLength);
    }
  }

  int size() {
    return size;
  }

  /** Whether the table of {@code maxLength} cells allocated ahead is held, not yet taken. */
  boolean holdsFull() {
    return spare.fullHeld();
  }

  /** Whether the table of {@code maxLength} cells, if being allocated ahead, is ready. */
  boolean fullReady() {
    return spare.fullReady();
  }

  /** Whether a growth is under way: both tables hold keys. */
  boolean growing() {
    return old != null;
  }

  /** The value for {@code key}, or {@link #MISSING}. */
  int get(long key) {
    int i = find(cells, home(key, shift), key);
    if (i >= 0) {
      return (int) cells[2 * i + 1] - 1;
    }
    if (old != null) {
      i = find(old, oldProbeStart(key), key);
      if (i >= 0) {
        return (int) old[2 * i + 1] - 1;
      }
    }
    return MISSING;
  }

  /** Reads {@code key}'s home cells and returns their value words, to bring them into the cache. */
  long touch(long key) {
    long v = cells[2 * home(key, shift) + 1];
    return old == null ? v : v + old[2 * home(key, oldShift) + 1];
  }

  /**
   * {@link #touch}es {@code keys[from..to)} in one loop of independent loads, so that the cache
   * misses of the operations on them that follow overlap instead of coming one at a time.
   */
  void touchAll(long[] keys, int from, int to) {
    long sum = 0;
    for (int i = from; i < to; i++) {
      sum += touch(keys[i]);
    }
    touched = sum;
  }

  /** Maps {@code key}, which must be absent, to {@code value} (non-negative). */
  void insert(long key, int value) {
    move();
    if ((size + 1) * 2 > length(cells)) {
      grow();
    }
    put(cells, shift, key, value + 1L);
    if (++size == prepareAt && length(cells) < maxLength) {
      spare.prepare(4 * length(cells));
    }
  }

  /** Removes {@code key} if it is present. */
  void remove(long key) {
    move();
    int i = find(cells, home(key, shift), key);
    if (i >= 0) {
      removeAt(cells, shift, i);
    } else if (old != null) {
      i = find(old, oldProbeStart(key), key);
      if (i >= 0) {
        removeAt(old, oldShift, i);
      }
    }
  }

  /** The cell of {@code key} in {@code table}, probing from cell {@code from}; -1 if absent. */
  private static int find(long[] table, int from, long key) {
    int mask = length(table) - 1;
    for (int i = from; ; i = (i + 1) & mask) {
      if (table[2 * i + 1] == 0) {
        return -1;
      }
      if (table[2 * i] == key) {
        return i;
      }
    }
  }

  /** Where a probe for {@code key} in {@code old} starts: its home, or the first unmoved cell. */
  private int oldProbeStart(long key) {
    int mask = length(old) - 1;
    int h = home(key, oldShift);
    return ((h - start) & mask) < moved ? (start + moved) & mask : h;
  }

  /** Starts a growth: the table doubles, and the full one is moved over by later operations. */
  private void grow() {
    while (old != null) {
      move(); // a growth that could not finish in time (not expected; see the notes)
    }
    int length = length(cells);
    if (length >= maxLength) {
      throw new IllegalStateException("table of " + length + " cells is full");
    }
    old = cells;
    oldShift = shift;
    cells = spare.next(old.length, 4 * length); // doubled, or the largest if it is ready
    int next = length(cells);
    shift = shiftFor(next);
    prepareAt = 3 * next / 8; // the next growth comes at half
    start = 0;
    while (old[2 * start + 1] != 0) {
      start++; // a half-full table has an empty cell
    }
    moved = 0;
  }

  /** Moves the next {@link #MOVES} cells of a growth's old table, and ends the growth after. */
  private void move() {
    if (old == null) {
      return;
    }
    int length = length(old);
    int mask = length - 1;
    for (int k = 0; k < MOVES && moved < length; k++, moved++) {
      int i = (start + moved) & mask;
      if (old[2 * i + 1] != 0) {
        put(cells, shift, old[2 * i], old[2 * i + 1]);
        old[2 * i + 1] = 0;
      }
    }
    if (moved == length) {
      old = null;
    }
  }

  /** Puts a key that is in neither table into {@code table} with its stored value word. */
  private static void put(long[] table, int tableShift, long key, long valueWord) {
    int mask = length(table) - 1;
    int i = home(key, tableShift);
    while (table[2 * i + 1] != 0) {
      i = (i + 1) & mask;
    }
    table[2 * i] = key;
    table[2 * i + 1] = valueWord;
  }

  /** Empties cell {@code i} of {@code table}, which holds a key. */
  private void removeAt(long[] table, int tableShift, int i) {
    int mask = length(table) - 1;
    size--;
    // Pull later members of the probe run into the hole unless their home lies cyclically in
    // (hole, their cell], where they would no longer be found.
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      if (table[2 * j + 1] == 0) {
        table[2 * i + 1] = 0;
        return;
      }
      int k = home(table[2 * j], tableShift);
      boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        table[2 * i] = table[2 * j];
        table[2 * i + 1] = table[2 * j + 1];
        i = j;
      }
    }
  }

  private static int home(long key, int shift) {
    return (int) ((key * FIBONACCI) >>> shift);
  }

  private static int length(long[] table) {
    return table.length >> 1;
  }

  private static int shiftFor(int length) {
    return 64 - Integer.numberOfTrailingZeros(length);
  }
}
