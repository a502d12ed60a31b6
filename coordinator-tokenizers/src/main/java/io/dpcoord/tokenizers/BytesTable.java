package io.dpcoord.tokenizers;

import java.util.Arrays;

/** Byte strings to ids, looked up by a slice of a byte array without copying it. */
final class BytesTable {
  private final byte[][] keys;
  private final int[] ids;
  private final int mask;
  private final int maxLength;

  /**
   * The table of {@code keys[i] -> ids[i]}.
   *
   * @throws IllegalArgumentException "entries i and j are the same bytes" if two keys are equal
   */
  BytesTable(byte[][] keys, int[] ids) {
    int capacity = Integer.highestOneBit(Math.max(4, keys.length * 2 - 1)) << 1;
    this.keys = new byte[capacity][];
    this.ids = new int[capacity];
    int[] entries = new int[capacity];
    mask = capacity - 1;
    int longest = 0;
    for (int i = 0; i < keys.length; i++) {
      byte[] key = keys[i];
      int slot = hash(key, 0, key.length) & mask;
      while (this.keys[slot] != null) {
        if (Arrays.equals(this.keys[slot], key)) {
          throw new IllegalArgumentException(
              "entries " + entries[slot] + " and " + i + " are the same bytes");
        }
        slot = (slot + 1) & mask;
      }
      this.keys[slot] = key;
      this.ids[slot] = ids[i];
      entries[slot] = i;
      longest = Math.max(longest, key.length);
    }
    maxLength = longest;
  }

  /** The longest key's length. */
  int maxLength() {
    return maxLength;
  }

  /** The id of {@code bytes[from..to)}, or -1 if that is not a key. */
  int get(byte[] bytes, int from, int to) {
    int length = to - from;
    if (length > maxLength) {
      return -1;
    }
    for (int slot = hash(bytes, from, to) & mask; keys[slot] != null; slot = (slot + 1) & mask) {
      byte[] key = keys[slot];
      if (key.length == length && Arrays.equals(key, 0, length, bytes, from, to)) {
        return ids[slot];
      }
    }
    return -1;
  }

  private static int hash(byte[] bytes, int from, int to) {
    int h = 0x811c9dc5;
    for (int i = from; i < to; i++) {
      h = (h ^ (bytes[i] & 0xff)) * 0x01000193;
    }
    return h ^ (h >>> 16);
  }
}
