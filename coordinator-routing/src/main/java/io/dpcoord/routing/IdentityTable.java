package io.dpcoord.routing;

import java.util.Arrays;

/**
 * Engine identity bytes to the latest engine id that had them, looked up without allocating (the
 * server resolves the sender of every reply). Identities are only ever added.
 */
final class IdentityTable {
  private static final int EMPTY = -1;

  private int[] ids = new int[16];
  private byte[][] keys = new byte[16][];
  private int size;

  IdentityTable() {
    Arrays.fill(ids, EMPTY);
  }

  /** The latest engine id for {@code identity}, or -1 if it never registered. */
  int get(byte[] identity) {
    int mask = ids.length - 1;
    for (int i = home(identity, mask); ; i = (i + 1) & mask) {
      if (ids[i] == EMPTY) {
        return EMPTY;
      }
      if (Arrays.equals(keys[i], identity)) {
        return ids[i];
      }
    }
  }

  /** Makes {@code engine} the latest engine id for {@code identity}. */
  void put(byte[] identity, int engine) {
    int mask = ids.length - 1;
    int i = home(identity, mask);
    while (ids[i] != EMPTY) {
      if (Arrays.equals(keys[i], identity)) {
        ids[i] = engine;
        return;
      }
      i = (i + 1) & mask;
    }
    keys[i] = identity;
    ids[i] = engine;
    if (++size * 2 > ids.length) {
      grow();
    }
  }

  private void grow() {
    int[] oldIds = ids;
    byte[][] oldKeys = keys;
    ids = new int[oldIds.length * 2];
    keys = new byte[oldIds.length * 2][];
    Arrays.fill(ids, EMPTY);
    int mask = ids.length - 1;
    for (int j = 0; j < oldIds.length; j++) {
      if (oldIds[j] != EMPTY) {
        int i = home(oldKeys[j], mask);
        while (ids[i] != EMPTY) {
          i = (i + 1) & mask;
        }
        ids[i] = oldIds[j];
        keys[i] = oldKeys[j];
      }
    }
  }

  private static int home(byte[] identity, int mask) {
    int h = Arrays.hashCode(identity) * 0x9E3779B9;
    return (h ^ (h >>> 16)) & mask;
  }
}
