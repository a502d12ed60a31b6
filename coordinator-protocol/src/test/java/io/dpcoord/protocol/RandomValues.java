package io.dpcoord.protocol;

import java.io.IOException;
import java.util.Random;
import org.msgpack.core.MessagePacker;

/** Random msgpack values Python's msgpack can read (str keys, valid UTF-8, bounded depth). */
final class RandomValues {
  private RandomValues() {}

  /** Writes one random value nested at most {@code depth} containers deep. */
  static void write(MessagePacker p, Random rnd, int depth) throws IOException {
    int kind = rnd.nextInt(depth > 0 ? 12 : 10);
    switch (kind) {
      case 0 -> p.packNil();
      case 1 -> p.packBoolean(rnd.nextBoolean());
      case 2 -> p.packLong(rnd.nextInt(300) - 150);
      case 3 -> p.packLong(rnd.nextLong() >> rnd.nextInt(64));
      case 4 -> p.packDouble(rnd.nextDouble());
      case 5 -> p.packFloat(rnd.nextFloat());
      case 6 -> p.packString(randomText(rnd, rnd.nextInt(4) == 0 ? 300 : 20));
      case 7 -> {
        byte[] b = new byte[rnd.nextInt(40)];
        rnd.nextBytes(b);
        p.packBinaryHeader(b.length);
        p.writePayload(b);
      }
      case 8 -> {
        byte[] b = new byte[rnd.nextInt(20)];
        rnd.nextBytes(b);
        p.packExtensionTypeHeader((byte) rnd.nextInt(128), b.length);
        p.writePayload(b);
      }
      case 9 ->
          p.packBigInteger(
              java.math.BigInteger.ONE
                  .shiftLeft(63)
                  .add(java.math.BigInteger.valueOf(rnd.nextInt(1000))));
      case 10 -> {
        int n = rnd.nextInt(rnd.nextInt(10) == 0 ? 40 : 5);
        p.packArrayHeader(n);
        for (int i = 0; i < n; i++) {
          write(p, rnd, depth - 1);
        }
      }
      default -> {
        int n = rnd.nextInt(rnd.nextInt(10) == 0 ? 20 : 5);
        p.packMapHeader(n);
        for (int i = 0; i < n; i++) {
          p.packString("k" + rnd.nextInt(100));
          write(p, rnd, depth - 1);
        }
      }
    }
  }

  static String randomText(Random rnd, int maxLen) {
    StringBuilder sb = new StringBuilder();
    int n = rnd.nextInt(maxLen + 1);
    for (int i = 0; i < n; i++) {
      int r = rnd.nextInt(10);
      if (r < 6) {
        sb.append((char) ('a' + rnd.nextInt(26)));
      } else if (r < 8) {
        sb.append((char) (0xa0 + rnd.nextInt(0x700)));
      } else if (r < 9) {
        sb.append((char) (0x4e00 + rnd.nextInt(0x5000)));
      } else {
        sb.appendCodePoint(0x1f600 + rnd.nextInt(0x40));
      }
    }
    return sb.toString();
  }
}
