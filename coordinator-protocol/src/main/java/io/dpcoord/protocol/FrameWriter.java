package io.dpcoord.protocol;

import java.util.Arrays;

/**
 * Writes msgpack the way Python's {@code msgpack.packb(..., use_bin_type=True)} does: smallest int
 * and header encodings, str8 for 32..255-byte strings, float64 for floats.
 *
 * <p>The buffer grows as needed and is kept between frames, so encoding a frame allocates only the
 * exact-size array {@link #toByteArray()} returns. Raw values are copied as they are.
 */
final class FrameWriter {
  private byte[] buf;
  private int size;

  FrameWriter(int initialCapacity) {
    buf = new byte[initialCapacity];
  }

  /** Starts a new frame, keeping the buffer. */
  FrameWriter reset() {
    size = 0;
    return this;
  }

  FrameWriter arrayHeader(int count) {
    return header(count, 0x90, 0xdc, 0xdd);
  }

  FrameWriter mapHeader(int count) {
    return header(count, 0x80, 0xde, 0xdf);
  }

  private FrameWriter header(int count, int fix, int type16, int type32) {
    if (count < 16) {
      ensure(1);
      buf[size++] = (byte) (fix | count);
    } else if (count <= 0xffff) {
      typed(type16, count, 2);
    } else {
      typed(type32, count, 4);
    }
    return this;
  }

  FrameWriter int64(long v) {
    if (v >= 0) {
      if (v <= 0x7f) {
        ensure(1);
        buf[size++] = (byte) v;
      } else if (v <= 0xff) {
        typed(0xcc, v, 1);
      } else if (v <= 0xffff) {
        typed(0xcd, v, 2);
      } else if (v <= 0xffffffffL) {
        typed(0xce, v, 4);
      } else {
        typed(0xcf, v, 8);
      }
    } else if (v >= -32) {
      ensure(1);
      buf[size++] = (byte) v;
    } else if (v >= Byte.MIN_VALUE) {
      typed(0xd0, v, 1);
    } else if (v >= Short.MIN_VALUE) {
      typed(0xd1, v, 2);
    } else if (v >= Integer.MIN_VALUE) {
      typed(0xd2, v, 4);
    } else {
      typed(0xd3, v, 8);
    }
    return this;
  }

  /** A str; a lone surrogate in {@code s} is a misuse. */
  FrameWriter str(String s) {
    int len = s.length();
    if (len >= 32) {
      return strUtf8(RawValue.utf8(s));
    }
    // a short ASCII string (every key) written in place: no encoder, no array
    ensure(1 + len);
    for (int i = 0; i < len; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        return strUtf8(RawValue.utf8(s));
      }
      buf[size + 1 + i] = (byte) c;
    }
    buf[size] = (byte) (0xa0 | len);
    size += 1 + len;
    return this;
  }

  FrameWriter strUtf8(byte[] utf8) {
    int len = utf8.length;
    if (len < 32) {
      ensure(1);
      buf[size++] = (byte) (0xa0 | len);
    } else if (len <= 0xff) {
      typed(0xd9, len, 1);
    } else if (len <= 0xffff) {
      typed(0xda, len, 2);
    } else {
      typed(0xdb, len, 4);
    }
    return bytes(utf8, 0, len);
  }

  /** A msgpack bin, in the smallest encoding (as Python's {@code use_bin_type=True} writes). */
  FrameWriter bin(byte[] data) {
    int len = data.length;
    if (len <= 0xff) {
      typed(0xc4, len, 1);
    } else if (len <= 0xffff) {
      typed(0xc5, len, 2);
    } else {
      typed(0xc6, len, 4);
    }
    return bytes(data, 0, len);
  }

  FrameWriter nil() {
    ensure(1);
    buf[size++] = (byte) 0xc0;
    return this;
  }

  FrameWriter bool(boolean v) {
    ensure(1);
    buf[size++] = (byte) (v ? 0xc3 : 0xc2);
    return this;
  }

  FrameWriter float64(double v) {
    return typed(0xcb, Double.doubleToRawLongBits(v), 8);
  }

  /** Copies an encoded value as it is. */
  FrameWriter raw(RawValue v) {
    return v.copyTo(this);
  }

  FrameWriter bytes(byte[] src, int offset, int length) {
    ensure(length);
    System.arraycopy(src, offset, buf, size, length);
    size += length;
    return this;
  }

  /** Appends what {@code other} holds. */
  FrameWriter append(FrameWriter other) {
    return bytes(other.buf, 0, other.size);
  }

  /** What was written, as one value (the caller wrote exactly one). */
  RawValue toRawValue() {
    byte[] out = toByteArray();
    return RawValue.slice(out, 0, out.length);
  }

  /** The frame so far, in an array of exactly its size. */
  byte[] toByteArray() {
    return Arrays.copyOf(buf, size);
  }

  private FrameWriter typed(int type, long v, int n) {
    ensure(1 + n);
    buf[size] = (byte) type;
    for (int i = n; i >= 1; i--) {
      buf[size + i] = (byte) v;
      v >>>= 8;
    }
    size += 1 + n;
    return this;
  }

  private void ensure(int more) {
    if (more > buf.length - size) {
      long wanted = Math.max((long) size + more, 2L * buf.length);
      if (wanted > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("frame would exceed 2 GiB");
      }
      buf = Arrays.copyOf(buf, (int) wanted);
    }
  }
}
