package io.dpcoord.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A bounds-checked cursor over msgpack bytes in one array.
 *
 * <p>Design notes.
 *
 * <ul>
 *   <li>Every length or count a value declares is checked against the bytes that remain before
 *       anything is read or sized from it, so a five-byte frame claiming a 4 GiB string costs five
 *       bytes of work and no allocation.
 *   <li>{@link #skipValue(int)} is iterative: an explicit stack holds, per open container, the
 *       values still to read. Its depth is capped at {@link #MAX_DEPTH}, so nesting costs neither
 *       Java stack nor unbounded memory.
 *   <li>Values are skipped, not decoded, but they are checked against what Python's msgpack ({@code
 *       unpackb(raw=False)} with its default {@code strict_map_key}) accepts, because our peers
 *       unpack every frame we forward that way and an unreadable one takes the peer's loop down:
 *       str must be valid UTF-8, map keys must be str or bin, ext codes must be 0..127 or a
 *       well-formed timestamp (-1), containers may nest at most 1024 deep. Found by running msgpack
 *       1.0.3 on each case; see docs/design/protocol.md.
 *   <li>We do not use msgpack-core's {@code MessageUnpacker.skipValue}. It is iterative too, but
 *       keeps its counter in an {@code int} and adds {@code 2 * count} for a map32 header without a
 *       bound: {@code df 40 00 00 00} (a map32 claiming 2^30 entries, with none present) overflows
 *       the counter to a negative number and the skip returns normally after five bytes, so a value
 *       cut short would be forwarded as if it were whole. {@code MsgpackReaderTest} keeps that
 *       behaviour on record.
 * </ul>
 *
 * <p>Not thread-safe; each codec owns one.
 */
final class MsgpackReader {

  /** Value families, named as msgpack users in Python see them. */
  enum Type {
    NIL("nil"),
    BOOL("bool"),
    INT("int"),
    FLOAT("float"),
    STR("str"),
    BIN("bin"),
    ARRAY("array"),
    MAP("map"),
    EXT("ext"),
    RESERVED("the reserved byte 0xc1");

    private final String wireName;

    Type(String wireName) {
      this.wireName = wireName;
    }

    @Override
    public String toString() {
      return wireName;
    }
  }

  private static final Type[] TYPES = new Type[256];

  /**
   * Encoded size of the scalars whose size the type byte alone gives and that need no further check
   * (ints, floats, nil, bools); 0 for everything else. A table instead of a switch: token ids mix
   * uint16 and uint32 encodings at random, and a switch on them mispredicts.
   */
  private static final byte[] FIXED_SIZE = new byte[256];

  /**
   * {@link #readInt64s} reads runs of uint16 ids in a loop of their own while its first {@value}
   * runs of an array average {@link #RUN_PAYS} ids or more; ids whose encodings mix at random
   * (uniform ids below 128,000: half uint16, half uint32) leave every run after one or two ids, and
   * each exit costs a mispredicted branch, so such an array is read id by id after them.
   */
  private static final int RUN_TRIAL = 16;

  private static final int RUN_PAYS = 4;

  private static final VarHandle BIG_ENDIAN_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  static {
    for (int b = 0; b < 256; b++) {
      TYPES[b] = classify(b);
      FIXED_SIZE[b] = (byte) fixedSize(b);
    }
  }

  private static int fixedSize(int b) {
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
      return 1;
    }
    if (b >= 0xcc && b <= 0xd3) {
      return 1 + (1 << (b & 3)); // uint8..uint64, int8..int64
    }
    if (b == 0xca) {
      return 5;
    }
    return b == 0xcb ? 9 : 0;
  }

  private static Type classify(int b) {
    if (b <= 0x7f || b >= 0xe0) {
      return Type.INT;
    }
    if (b <= 0x8f) {
      return Type.MAP;
    }
    if (b <= 0x9f) {
      return Type.ARRAY;
    }
    if (b <= 0xbf) {
      return Type.STR;
    }
    switch (b) {
      case 0xc0:
        return Type.NIL;
      case 0xc1:
        return Type.RESERVED;
      case 0xc2:
      case 0xc3:
        return Type.BOOL;
      case 0xc4:
      case 0xc5:
      case 0xc6:
        return Type.BIN;
      case 0xca:
      case 0xcb:
        return Type.FLOAT;
      case 0xd9:
      case 0xda:
      case 0xdb:
        return Type.STR;
      case 0xdc:
      case 0xdd:
        return Type.ARRAY;
      case 0xde:
      case 0xdf:
        return Type.MAP;
      default:
        // 0xc7..0xc9 ext8/16/32, 0xcc..0xd3 ints, 0xd4..0xd8 fixext
        return (b >= 0xcc && b <= 0xd3) ? Type.INT : Type.EXT;
    }
  }

  /** The deepest nesting of containers Python's msgpack reads (its unpacker's stack size). */
  static final int MAX_DEPTH = 1024;

  private byte[] buf = new byte[0];
  private long[] openLeft = new long[8];
  private boolean[] openIsMap = new boolean[8];
  private int base;
  private int pos;
  private int limit;
  // keeps readInt64s's cache-line loads from being optimised away
  private int touched;
  private Header context;
  private RawValue echo;

  /** Points the cursor at {@code length} bytes of {@code buf} from {@code offset}. */
  void reset(byte[] buf, int offset, int length, Header context) {
    this.buf = buf;
    this.base = offset;
    this.pos = offset;
    this.limit = offset + length;
    this.context = context;
  }

  /**
   * A value that {@link #skipValue(int)} may meet again: where the next array or str it skips
   * starts with these exact bytes, it moves past them in one comparison instead of checking them
   * element by element. {@code known} must hold one value already checked as {@link #skipValue}
   * checks (a {@link RawValue}) with no container inside it (a prompt: a str or an array of ints),
   * so that equal bytes are that same complete, valid value at any depth where an array may sit.
   * Null: none.
   */
  void echo(RawValue known) {
    echo = known;
  }

  /** Whether the value at {@code at} is {@link #echo(RawValue)}'s, byte for byte. */
  private boolean echoAt(int at) {
    return echo != null && echo.isAt(buf, at, limit);
  }

  /** The header named in error messages from now on (null: "frame"). */
  void context(Header header) {
    this.context = header;
  }

  byte[] buffer() {
    return buf;
  }

  /** Absolute index in {@link #buffer()} of the next byte. */
  int position() {
    return pos;
  }

  int remaining() {
    return limit - pos;
  }

  boolean atEnd() {
    return pos == limit;
  }

  /** The family of the next value, without consuming it; the reserved byte 0xc1 is malformed. */
  Type peekType() throws ProtocolException {
    require(1);
    Type type = TYPES[buf[pos] & 0xff];
    if (type == Type.RESERVED) {
      throw malformed("the reserved byte 0xc1");
    }
    return type;
  }

  /** Reads an array header and returns its declared element count (not checked). */
  long readArrayHeader() throws ProtocolException {
    require(1);
    int b = buf[pos] & 0xff;
    if (b >= 0x90 && b <= 0x9f) {
      pos++;
      return b & 0x0f;
    }
    if (b == 0xdc) {
      return readLength(2);
    }
    if (b == 0xdd) {
      return readLength(4);
    }
    throw new IllegalStateException("not an array header: 0x" + Integer.toHexString(b));
  }

  /** Reads a map header and returns its declared entry count (not checked). */
  long readMapHeader() throws ProtocolException {
    require(1);
    int b = buf[pos] & 0xff;
    if (b >= 0x80 && b <= 0x8f) {
      pos++;
      return b & 0x0f;
    }
    if (b == 0xde) {
      return readLength(2);
    }
    if (b == 0xdf) {
      return readLength(4);
    }
    throw new IllegalStateException("not a map header: 0x" + Integer.toHexString(b));
  }

  /**
   * Reads a str header and returns its payload length, checked against the bytes remaining; the
   * cursor is then at the payload.
   */
  int readStrHeader() throws ProtocolException {
    require(1);
    int b = buf[pos] & 0xff;
    long len;
    if (b >= 0xa0 && b <= 0xbf) {
      pos++;
      len = b & 0x1f;
    } else if (b == 0xd9) {
      len = readLength(1);
    } else if (b == 0xda) {
      len = readLength(2);
    } else if (b == 0xdb) {
      len = readLength(4);
    } else {
      throw new IllegalStateException("not a str header: 0x" + Integer.toHexString(b));
    }
    checkBytes(len);
    return (int) len;
  }

  /**
   * Reads a bin value (the cursor on its header) and returns a copy of its payload.
   *
   * @throws IllegalStateException if the value is not a bin
   */
  byte[] readBin() throws ProtocolException {
    require(1);
    int b = buf[pos] & 0xff;
    if (b < 0xc4 || b > 0xc6) {
      throw new IllegalStateException("not a bin header: 0x" + Integer.toHexString(b));
    }
    long len = readLength(1 << (b - 0xc4));
    checkBytes(len);
    byte[] out = Arrays.copyOfRange(buf, pos, pos + (int) len);
    pos += (int) len;
    return out;
  }

  /** Fails unless {@code count} values (each at least one byte) can still follow. */
  void checkElements(long count) throws ProtocolException {
    if (count > remaining()) {
      throw malformed("declares " + count + " elements but only " + remaining() + " bytes remain");
    }
  }

  /** Whether the next value is an int that does not fit in int64 (a uint64 above 2^63-1). */
  boolean nextIsUint64AboveInt64() throws ProtocolException {
    require(1);
    if ((buf[pos] & 0xff) != 0xcf) {
      return false;
    }
    require(9);
    return buf[pos + 1] < 0;
  }

  /** The raw 64 bits of the next uint64 value, for error messages; does not consume it. */
  long peekRawUint64() throws ProtocolException {
    require(9);
    return readBigEndian(pos + 1, 8);
  }

  /** Reads an int value that fits in int64 (check with {@link #peekType()} first). */
  long readInt64() throws ProtocolException {
    require(1);
    int b = buf[pos] & 0xff;
    if (b <= 0x7f) {
      pos++;
      return b;
    }
    if (b >= 0xe0) {
      pos++;
      return (byte) b;
    }
    long v;
    switch (b) {
      case 0xcc:
        require(2);
        v = buf[pos + 1] & 0xffL;
        pos += 2;
        return v;
      case 0xcd:
        require(3);
        v = readBigEndian(pos + 1, 2);
        pos += 3;
        return v;
      case 0xce:
        require(5);
        v = readBigEndian(pos + 1, 4);
        pos += 5;
        return v;
      case 0xcf:
      case 0xd3:
        require(9);
        v = readBigEndian(pos + 1, 8);
        pos += 9;
        return v;
      case 0xd0:
        require(2);
        v = buf[pos + 1];
        pos += 2;
        return v;
      case 0xd1:
        require(3);
        v = (short) readBigEndian(pos + 1, 2);
        pos += 3;
        return v;
      case 0xd2:
        require(5);
        v = (int) readBigEndian(pos + 1, 4);
        pos += 5;
        return v;
      default:
        throw new IllegalStateException("not an int: 0x" + Integer.toHexString(b));
    }
  }

  /**
   * Reads a float32 or float64 as a double (a float32 widened, as Python's msgpack unpacks it).
   *
   * @throws IllegalStateException if the value is not a float
   */
  double readFloat64() throws ProtocolException {
    require(1);
    int b = buf[pos] & 0xff;
    if (b == 0xca) {
      require(5);
      float f = Float.intBitsToFloat((int) readBigEndian(pos + 1, 4));
      pos += 5;
      return f;
    }
    if (b == 0xcb) {
      require(9);
      double d = Double.longBitsToDouble(readBigEndian(pos + 1, 8));
      pos += 9;
      return d;
    }
    throw new IllegalStateException("not a float: 0x" + Integer.toHexString(b));
  }

  /**
   * Reads a bool.
   *
   * @throws IllegalStateException if the value is not a bool
   */
  boolean readBool() throws ProtocolException {
    require(1);
    int b = buf[pos] & 0xff;
    if (b != 0xc2 && b != 0xc3) {
      throw new IllegalStateException("not a bool: 0x" + Integer.toHexString(b));
    }
    pos++;
    return b == 0xc3;
  }

  /**
   * Whether the next value is a str whose UTF-8 bytes equal {@code key}; does not consume it. Only
   * str counts: a bin with the same bytes is a different key.
   */
  boolean nextIsStr(byte[] key) throws ProtocolException {
    require(1);
    int b = buf[pos] & 0xff;
    int headerSize;
    long len;
    if (b >= 0xa0 && b <= 0xbf) {
      headerSize = 1;
      len = b & 0x1f;
    } else if (b == 0xd9) {
      require(2);
      headerSize = 2;
      len = buf[pos + 1] & 0xff;
    } else if (b == 0xda) {
      require(3);
      headerSize = 3;
      len = readBigEndian(pos + 1, 2);
    } else if (b == 0xdb) {
      require(5);
      headerSize = 5;
      len = readBigEndian(pos + 1, 4);
    } else {
      return false;
    }
    if (len != key.length || (long) headerSize + len > remaining()) {
      return false;
    }
    int start = pos + headerSize;
    for (int i = 0; i < key.length; i++) {
      if (buf[start + i] != key[i]) {
        return false;
      }
    }
    return true;
  }

  /** Moves back to {@code position}, a position this reader was at in the current frame. */
  void rewind(int position) {
    pos = position;
  }

  /** Moves past {@code n} payload bytes already checked by {@link #readStrHeader()}. */
  void advance(int n) {
    pos += n;
  }

  /**
   * Skips exactly one complete value, checking that Python's msgpack could read it.
   *
   * @param enclosingDepth how many containers enclose the value in its frame (1 for a field of the
   *     frame's array); nesting is limited to {@link #MAX_DEPTH} containers in all
   */
  void skipValue(int enclosingDepth) throws ProtocolException {
    int top = 0;
    do {
      require(1);
      int at = pos;
      int b = buf[pos++] & 0xff;
      boolean key = false;
      if (top > 0) {
        long left = openLeft[top - 1];
        key = openIsMap[top - 1] && (left & 1) == 0;
        openLeft[top - 1] = left - 1;
      }
      Type type = TYPES[b];
      if (key && type != Type.STR && type != Type.BIN) {
        pos = at;
        throw malformed(
            "a map key of type " + type + "; Python's msgpack accepts only str and bin keys");
      }
      int size = FIXED_SIZE[b];
      if (size != 0) {
        if (size > limit - at) {
          throw malformed("unexpected end of input");
        }
        pos = at + size;
      } else if (type == Type.ARRAY || type == Type.MAP) {
        long count = containerCount(b);
        long values = type == Type.MAP ? 2 * count : count;
        if (enclosingDepth + top + 1 > MAX_DEPTH) {
          pos = at;
          throw malformed("containers nested deeper than " + MAX_DEPTH + " levels");
        }
        if (values > remaining()) {
          throw malformed(
              "declares " + values + " values but only " + remaining() + " bytes remain");
        }
        if (type == Type.ARRAY && echoAt(at)) {
          pos = at + echo.length();
          values = 0;
        } else if (type == Type.ARRAY) {
          values -= skipFixedSizeRun(values);
        }
        if (values > 0) {
          push(top++, values, type == Type.MAP);
        }
      } else if (type == Type.STR && echoAt(at)) {
        pos = at + echo.length();
      } else {
        skipScalar(b, at);
      }
      while (top > 0 && openLeft[top - 1] == 0) {
        top--;
      }
    } while (top > 0);
  }

  /** Skips one value of a standalone buffer (enclosed by nothing). */
  void skipValue() throws ProtocolException {
    skipValue(0);
  }

  /**
   * Skips up to {@code count} fixed-size scalars in a row (the common token-id array) and returns
   * how many it skipped; stops at the first other value.
   */
  private long skipFixedSizeRun(long count) {
    byte[] b = buf;
    int p = pos;
    int end = limit;
    long done = 0;
    boolean afterUint16 = false;
    int entries = 0;
    long runValues = 0;
    // as in readInt64s: runs of uint16 apart while the first RUN_TRIAL of them pay, ...
    while (done < count && p < end) {
      byte t = b[p];
      int size = FIXED_SIZE[t & 0xff];
      if (size == 0 || size > end - p) {
        pos = p;
        return done;
      }
      if (afterUint16 && t == (byte) 0xcd) {
        // only each type byte is read, its address known before the one before it is read
        long from = done;
        do {
          p += 3;
          done++;
        } while (done < count && p <= end - 3 && b[p] == (byte) 0xcd);
        runValues += done - from;
        if (++entries == RUN_TRIAL && runValues < RUN_TRIAL * RUN_PAYS) {
          break;
        }
        afterUint16 = false;
        continue;
      }
      afterUint16 = t == (byte) 0xcd;
      p += size;
      done++;
    }
    // ... else one value after the other
    while (done < count && p < end) {
      int size = FIXED_SIZE[b[p] & 0xff];
      if (size == 0 || size > end - p) {
        break;
      }
      p += size;
      done++;
    }
    pos = p;
    return done;
  }

  /**
   * Reads {@code out.length} int64 values in a row. Returns -1 when all were read, else the index
   * of the first element that is not an int within int64, with the cursor left on it.
   */
  int readInt64s(long[] out) throws ProtocolException {
    byte[] b = buf;
    int p = pos;
    int end = limit;
    // Another thread (jeromq's I/O thread) wrote the frame, often on another core: one load per
    // cache line, independent of each other, fetches the ids' lines together before the parse
    // reads them one after the other.
    int warmEnd = (int) Math.min(end, p + 9L * out.length);
    int sum = 0;
    for (int q = p; q < warmEnd; q += 64) {
      sum += b[q];
    }
    touched = sum;
    int runEnd = end - 8; // an id read as 8 bytes from its type byte stays in the buffer
    int previous = -1; // the type byte of the id before
    boolean runs = true; // whether the ids come in runs long enough to pay (RUN_TRIAL)
    int entries = 0; // runs read
    int runIds = 0; // ids read in them
    for (int i = 0; i < out.length; i++) {
      if (p >= end) {
        pos = p;
        throw malformed("unexpected end of input");
      }
      int t = b[p] & 0xff;
      if (runs && t == 0xcd && previous == 0xcd && p <= runEnd) {
        // A run of uint16 ids (ids from 256 to 65,535): each id's size is known before its type
        // byte is read, so the next id's address does not wait for this one's load and the
        // processor reads ahead (about 3 times as fast on long runs, 1.5 times on text's ids;
        // docs/PERFORMANCE.md, "Token ids in runs").
        int from = i;
        do {
          out[i++] = ((long) BIG_ENDIAN_LONG.get(b, p) << 8) >>> 48;
          p += 3;
        } while (i < out.length && p <= runEnd && b[p] == (byte) 0xcd);
        runIds += i - from;
        if (++entries == RUN_TRIAL) {
          runs = runIds >= RUN_TRIAL * RUN_PAYS;
        }
        i--;
        previous = -1;
        continue;
      }
      previous = t;
      if (t <= 0x7f || t >= 0xe0) {
        out[i] = (byte) t; // fixint: positive ones are below 0x80, so the byte cast keeps them
        p++;
      } else if (t >= 0xcc && t <= 0xd3 && end - p >= 9) {
        // one 8-byte big-endian read, then shift the n-byte value down: no per-size branch
        int n = 1 << (t & 3);
        int shift = 64 - 8 * n;
        long word = (long) BIG_ENDIAN_LONG.get(b, p + 1);
        long v = t >= 0xd0 ? word >> shift : word >>> shift;
        if (t == 0xcf && v < 0) {
          pos = p;
          return i;
        }
        out[i] = v;
        p += 1 + n;
      } else {
        pos = p;
        if (TYPES[t] != Type.INT || nextIsUint64AboveInt64()) {
          return i;
        }
        out[i] = readInt64(); // near the end of the buffer: the checked path
        p = pos;
      }
    }
    pos = p;
    return -1;
  }

  private void push(int top, long values, boolean isMap) {
    if (top == openLeft.length) {
      openLeft = Arrays.copyOf(openLeft, 2 * top);
      openIsMap = Arrays.copyOf(openIsMap, 2 * top);
    }
    openLeft[top] = values;
    openIsMap[top] = isMap;
  }

  /** The count of a container header whose type byte {@code b} was just consumed. */
  private long containerCount(int b) throws ProtocolException {
    if (b <= 0x9f) {
      return b & 0x0f; // fixmap or fixarray
    }
    return readLengthAt(b == 0xdc || b == 0xde ? 2 : 4);
  }

  /** Skips a non-container value whose type byte {@code b} (at {@code at}) was consumed. */
  private void skipScalar(int b, int at) throws ProtocolException {
    if (b <= 0x7f || b >= 0xe0) {
      return; // fixint
    }
    if (b >= 0xa0 && b <= 0xbf) {
      skipStr(b & 0x1f);
      return;
    }
    switch (b) {
      case 0xc0: // nil
      case 0xc2: // false
      case 0xc3: // true
        return;
      case 0xc1:
        pos = at;
        throw malformed("the reserved byte 0xc1");
      case 0xc4: // bin8
        skipBytes(readLengthAt(1));
        return;
      case 0xc5:
        skipBytes(readLengthAt(2));
        return;
      case 0xc6:
        skipBytes(readLengthAt(4));
        return;
      case 0xd9: // str8
        skipStr(readLengthAt(1));
        return;
      case 0xda:
        skipStr(readLengthAt(2));
        return;
      case 0xdb:
        skipStr(readLengthAt(4));
        return;
      case 0xc7: // ext8: length, code, payload
        skipExt(readLengthAt(1));
        return;
      case 0xc8:
        skipExt(readLengthAt(2));
        return;
      case 0xc9:
        skipExt(readLengthAt(4));
        return;
      case 0xd4: // fixext 1, 2, 4, 8, 16: code, payload
        skipExt(1);
        return;
      case 0xd5:
        skipExt(2);
        return;
      case 0xd6:
        skipExt(4);
        return;
      case 0xd7:
        skipExt(8);
        return;
      case 0xd8:
        skipExt(16);
        return;
      case 0xcc: // uint8, int8
      case 0xd0:
        skipBytes(1);
        return;
      case 0xcd:
      case 0xd1:
        skipBytes(2);
        return;
      case 0xca: // float32, uint32, int32
      case 0xce:
      case 0xd2:
        skipBytes(4);
        return;
      case 0xcb:
      case 0xcf:
      case 0xd3:
        skipBytes(8);
        return;
      default:
        throw new IllegalStateException("unclassified type byte 0x" + Integer.toHexString(b));
    }
  }

  private void skipStr(long len) throws ProtocolException {
    checkBytes(len);
    if (!isUtf8(buf, pos, (int) len)) {
      throw malformed("a str that is not valid UTF-8");
    }
    pos += (int) len;
  }

  /**
   * Skips an ext's code and {@code len} payload bytes. Python's msgpack reads only codes 0..127 and
   * the timestamp (-1) in its three sizes, with nanoseconds below 10^9.
   */
  private void skipExt(long len) throws ProtocolException {
    require(1);
    int code = buf[pos];
    checkBytes(len + 1);
    if (code == -1) {
      long nanos;
      if (len == 4) {
        nanos = 0;
      } else if (len == 8) {
        nanos = readBigEndian(pos + 1, 4) >>> 2;
      } else if (len == 12) {
        nanos = readBigEndian(pos + 1, 4);
      } else {
        throw malformed("a timestamp ext of " + len + " bytes (only 4, 8 or 12 are valid)");
      }
      if (nanos > 999_999_999L) {
        throw malformed("a timestamp ext with " + nanos + " nanoseconds");
      }
    } else if (code < 0) {
      throw malformed("ext code " + code + "; Python's msgpack accepts only 0..127 and -1");
    }
    pos += 1 + (int) len;
  }

  /** Reads a header byte then an n-byte unsigned big-endian length after it. */
  private long readLength(int n) throws ProtocolException {
    require(1 + n);
    long v = readBigEndian(pos + 1, n);
    pos += 1 + n;
    return v;
  }

  /** Reads an n-byte unsigned big-endian length at the cursor (type byte already consumed). */
  private long readLengthAt(int n) throws ProtocolException {
    require(n);
    long v = readBigEndian(pos, n);
    pos += n;
    return v;
  }

  private long readBigEndian(int at, int n) {
    long v = 0;
    for (int i = 0; i < n; i++) {
      v = (v << 8) | (buf[at + i] & 0xffL);
    }
    return v;
  }

  private void skipBytes(long n) throws ProtocolException {
    checkBytes(n);
    pos += (int) n;
  }

  private void checkBytes(long n) throws ProtocolException {
    if (n > remaining()) {
      throw malformed("declares " + n + " bytes but only " + remaining() + " remain");
    }
  }

  private void require(int n) throws ProtocolException {
    if (n > limit - pos) {
      throw malformed("unexpected end of input");
    }
  }

  /** A MALFORMED_MSGPACK rejection at the cursor. */
  ProtocolException malformed(String what) {
    return new ProtocolException(
        ProtocolException.Reason.MALFORMED_MSGPACK,
        context,
        (context == null ? "frame" : context.name())
            + ": malformed msgpack at byte "
            + (pos - base)
            + ": "
            + what);
  }

  /**
   * Whether {@code len} bytes from {@code off} are well-formed UTF-8 as Python's strict decoder
   * sees it: shortest form only, no surrogates, nothing above U+10FFFF.
   */
  static boolean isUtf8(byte[] b, int off, int len) {
    int i = off;
    int end = off + len;
    while (i < end) {
      int c = b[i] & 0xff;
      if (c < 0x80) {
        i++;
        continue;
      }
      int need;
      int min;
      if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        min = 0x80;
      } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        min = 0x800;
      } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        min = 0x10000;
      } else {
        return false;
      }
      if (i + need >= end) {
        return false;
      }
      int cp = c & (0x3f >> need);
      for (int k = 1; k <= need; k++) {
        int cc = b[i + k] & 0xff;
        if ((cc & 0xc0) != 0x80) {
          return false;
        }
        cp = (cp << 6) | (cc & 0x3f);
      }
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return false;
      }
      i += need + 1;
    }
    return true;
  }
}
