package io.dpcoord.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.msgpack.core.MessagePacker;

/**
 * The exact bytes of one msgpack value, forwarded without re-encoding.
 *
 * <p>Immutable; equality is by content. A value decoded from a frame is a slice of that frame's
 * array (offset and length, no copy), so it keeps the frame reachable while it lives; the frame
 * must not be modified after decoding. Every RawValue holds exactly one well-formed value.
 */
public final class RawValue {
  private static final RawValue NIL = new RawValue(new byte[] {(byte) 0xc0}, 0, 1);

  private final byte[] bytes;
  private final int offset;
  private final int length;

  private RawValue(byte[] bytes, int offset, int length) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  /** A view of {@code length} bytes of {@code bytes}, already known to hold one value. */
  static RawValue slice(byte[] bytes, int offset, int length) {
    return new RawValue(bytes, offset, length);
  }

  /**
   * A copy of {@code encodedValue}, which must be exactly one well-formed msgpack value.
   *
   * @throws ProtocolException MALFORMED_MSGPACK for bad or empty input, TRAILING_BYTES when bytes
   *     follow the value
   */
  public static RawValue of(byte[] encodedValue) throws ProtocolException {
    if (encodedValue == null) {
      throw new IllegalArgumentException("encodedValue is null");
    }
    MsgpackReader reader = new MsgpackReader();
    reader.reset(encodedValue, 0, encodedValue.length, null);
    reader.skipValue();
    if (!reader.atEnd()) {
      throw new ProtocolException(
          ProtocolException.Reason.TRAILING_BYTES,
          null,
          "value: " + reader.remaining() + " trailing bytes after the value");
    }
    return new RawValue(encodedValue.clone(), 0, encodedValue.length);
  }

  /** The msgpack nil value. */
  public static RawValue nil() {
    return NIL;
  }

  /** A str value, with the smallest header Python's msgpack would write. */
  public static RawValue ofString(String s) {
    return new FrameWriter(8 + s.length()).str(s).toRawValue();
  }

  /** An int value, in the smallest encoding Python's msgpack would write. */
  public static RawValue ofLong(long v) {
    return new FrameWriter(9).int64(v).toRawValue();
  }

  /** The number of encoded bytes. */
  public int length() {
    return length;
  }

  /** A copy of the encoded bytes. */
  public byte[] toByteArray() {
    return Arrays.copyOfRange(bytes, offset, offset + length);
  }

  /** Whether this is the nil value. */
  public boolean isNil() {
    return length == 1 && bytes[offset] == (byte) 0xc0;
  }

  /**
   * Python's truth of this value as msgpack decodes it: false for nil, false, 0, 0.0 and empty str,
   * bin, array and map; true otherwise (NaN and ext values included).
   */
  public boolean isTruthy() {
    int b = bytes[offset] & 0xff;
    MsgpackReader reader = reader();
    try {
      switch (reader.peekType()) {
        case NIL:
          return false;
        case BOOL:
          return b == 0xc3;
        case INT:
          return reader.nextIsUint64AboveInt64() || reader.readInt64() != 0;
        case FLOAT:
          double v =
              b == 0xca
                  ? Float.intBitsToFloat(ByteBuffer.wrap(bytes, offset + 1, 4).getInt())
                  : Double.longBitsToDouble(ByteBuffer.wrap(bytes, offset + 1, 8).getLong());
          return v != 0.0 || Double.isNaN(v);
        case STR:
          return reader.readStrHeader() != 0;
        case ARRAY:
          return reader.readArrayHeader() != 0;
        case MAP:
          return reader.readMapHeader() != 0;
        case BIN:
          return length > (b == 0xc4 ? 2 : b == 0xc5 ? 3 : 5);
        default:
          return true;
      }
    } catch (ProtocolException e) {
      throw new IllegalStateException("RawValue holds malformed msgpack: " + e.getMessage(), e);
    }
  }

  /** Whether this is an array (of any header width). */
  public boolean isArray() {
    int b = bytes[offset] & 0xff;
    return (b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd;
  }

  /** Whether this is a map (of any header width). */
  public boolean isMap() {
    int b = bytes[offset] & 0xff;
    return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
  }

  /** Whether {@code buf} holds exactly this value's bytes from {@code at}, within {@code limit}. */
  boolean isAt(byte[] buf, int at, int limit) {
    return length <= limit - at
        && buf[at] == bytes[offset]
        && Arrays.mismatch(buf, at, at + length, bytes, offset, offset + length) < 0;
  }

  FrameWriter copyTo(FrameWriter out) {
    return out.bytes(bytes, offset, length);
  }

  /** Writes the bytes as they are, with no re-encoding. */
  public void writeTo(MessagePacker packer) throws IOException {
    packer.writePayload(bytes, offset, length);
  }

  /**
   * For a map value: the raw value stored under a str key, or null.
   *
   * <p>Only str keys match (a bin key with the same bytes does not). If the key occurs more than
   * once, the last occurrence wins, as in a Python dict built from the map.
   *
   * @throws IllegalStateException if this value is not a map
   */
  public RawValue get(String key) {
    int[] found = locate(key, "get");
    return found[1] < 0 ? null : new RawValue(bytes, found[1], found[2] - found[1]);
  }

  /**
   * For a map value: a new map with {@code key} set to {@code value}; every other entry
   * byte-identical.
   *
   * <p>If the key is present, its (last) value is replaced in place; otherwise the entry is
   * appended and the header's count goes up by one, keeping the header's width unless the new count
   * needs a wider one.
   *
   * @throws IllegalStateException if this value is not a map
   */
  public RawValue with(String key, RawValue value) {
    if (value == null) {
      throw new IllegalArgumentException("value for key '" + key + "' is null");
    }
    int[] found = locate(key, "with");
    if (found[1] >= 0) {
      int valueStart = found[1];
      int valueEnd = found[2];
      int end = offset + length;
      byte[] out = new byte[(valueStart - offset) + value.length + (end - valueEnd)];
      System.arraycopy(bytes, offset, out, 0, valueStart - offset);
      System.arraycopy(value.bytes, value.offset, out, valueStart - offset, value.length);
      System.arraycopy(bytes, valueEnd, out, valueStart - offset + value.length, end - valueEnd);
      return new RawValue(out, 0, out.length);
    }
    long count = found[3] & 0xffffffffL;
    int headerSize = found[0] - offset;
    byte[] header = mapHeader(bytes[offset] & 0xff, count + 1);
    byte[] keyBytes = ofString(key).toByteArray();
    int entries = length - headerSize;
    byte[] out = new byte[header.length + entries + keyBytes.length + value.length];
    int at = 0;
    System.arraycopy(header, 0, out, at, header.length);
    at += header.length;
    System.arraycopy(bytes, offset + headerSize, out, at, entries);
    at += entries;
    System.arraycopy(keyBytes, 0, out, at, keyBytes.length);
    at += keyBytes.length;
    System.arraycopy(value.bytes, value.offset, out, at, value.length);
    return new RawValue(out, 0, out.length);
  }

  /**
   * For a map value: a new map without the entries whose str key is one of {@code keys}, every
   * other entry byte-identical and in its order, under the smallest map header for its count (as
   * Python's msgpack writes a dict); this value itself when none of the keys is present.
   *
   * @throws IllegalStateException if this value is not a map
   */
  public RawValue without(Set<String> keys) {
    return filtered(keys, false, "without");
  }

  /**
   * For a map value: a new map with only the entries whose key is a str in {@code keys} (as {@link
   * #without}, the kept entries byte-identical, in order, under the smallest header).
   *
   * @throws IllegalStateException if this value is not a map
   */
  public RawValue only(Set<String> keys) {
    return filtered(keys, true, "only");
  }

  private RawValue filtered(Set<String> keys, boolean keepListed, String operation) {
    if (!isMap()) {
      throw new IllegalStateException(
          "RawValue." + operation + "(" + keys + ") needs a map, got " + typeName());
    }
    MsgpackReader reader = reader();
    try {
      long count = reader.readMapHeader();
      int[] keptFrom = new int[(int) count];
      int[] keptTo = new int[(int) count];
      int kept = 0;
      for (long i = 0; i < count; i++) {
        int start = reader.position();
        boolean listed = false;
        for (String key : keys) {
          listed |= reader.nextIsStr(utf8(key));
        }
        boolean drop = listed != keepListed;
        reader.skipValue();
        reader.skipValue();
        if (!drop) {
          keptFrom[kept] = start;
          keptTo[kept++] = reader.position();
        }
      }
      if (kept == count) {
        return this;
      }
      byte[] header = mapHeader(0x80, kept);
      int size = header.length;
      for (int i = 0; i < kept; i++) {
        size += keptTo[i] - keptFrom[i];
      }
      byte[] out = Arrays.copyOf(header, size);
      int at = header.length;
      for (int i = 0; i < kept; i++) {
        System.arraycopy(bytes, keptFrom[i], out, at, keptTo[i] - keptFrom[i]);
        at += keptTo[i] - keptFrom[i];
      }
      return new RawValue(out, 0, out.length);
    } catch (ProtocolException e) {
      throw new IllegalStateException("RawValue holds malformed msgpack: " + e.getMessage(), e);
    }
  }

  /**
   * Walks this map looking for str key {@code key}: returns {first entry offset, value start, value
   * end, entry count}, with value start -1 when absent.
   */
  private int[] locate(String key, String operation) {
    if (!isMap()) {
      throw new IllegalStateException(
          "RawValue." + operation + "(\"" + key + "\") needs a map, got " + typeName());
    }
    byte[] keyBytes = utf8(key);
    MsgpackReader reader = reader();
    try {
      long count = reader.readMapHeader();
      int first = reader.position();
      int valueStart = -1;
      int valueEnd = -1;
      for (long i = 0; i < count; i++) {
        boolean match = reader.nextIsStr(keyBytes);
        reader.skipValue();
        int start = reader.position();
        reader.skipValue();
        if (match) {
          valueStart = start;
          valueEnd = reader.position();
        }
      }
      return new int[] {first, valueStart, valueEnd, (int) count};
    } catch (ProtocolException e) {
      throw new IllegalStateException("RawValue holds malformed msgpack: " + e.getMessage(), e);
    }
  }

  /**
   * This value as a str.
   *
   * @throws ProtocolException WRONG_FIELD_TYPE if it is not a str of valid UTF-8
   */
  public String asString() throws ProtocolException {
    MsgpackReader reader = reader();
    MsgpackReader.Type type = reader.peekType();
    if (type != MsgpackReader.Type.STR) {
      throw wrongType("a str", type.toString());
    }
    int len = reader.readStrHeader();
    int at = reader.position();
    if (!MsgpackReader.isUtf8(bytes, at, len)) {
      throw wrongType("a str", "a str that is not valid UTF-8");
    }
    return new String(bytes, at, len, StandardCharsets.UTF_8);
  }

  /**
   * This value as an int64.
   *
   * @throws ProtocolException WRONG_FIELD_TYPE if it is not an int within int64
   */
  public long asLong() throws ProtocolException {
    MsgpackReader reader = reader();
    return readInt64(reader, "an int64", "");
  }

  /**
   * For an array value: its elements, each a slice of this value's bytes.
   *
   * @throws IllegalStateException if this value is not an array
   */
  public List<RawValue> elements() {
    if (!isArray()) {
      throw new IllegalStateException("RawValue.elements() needs an array, got " + typeName());
    }
    MsgpackReader reader = reader();
    try {
      long count = reader.readArrayHeader();
      List<RawValue> out = new ArrayList<>((int) count);
      for (long i = 0; i < count; i++) {
        int start = reader.position();
        reader.skipValue();
        out.add(new RawValue(bytes, start, reader.position() - start));
      }
      return out;
    } catch (ProtocolException e) {
      throw new IllegalStateException("RawValue holds malformed msgpack: " + e.getMessage(), e);
    }
  }

  /**
   * For an array of numbers: writes each element to {@code out} as Python's msgpack writes it again
   * after unpacking it (an int in its smallest encoding, a float as float64), and returns how many.
   *
   * @throws IllegalStateException if this value is not an array of ints and floats
   */
  int writeNumbers(FrameWriter out) {
    MsgpackReader reader = reader();
    try {
      long count = reader.readArrayHeader();
      for (long i = 0; i < count; i++) {
        MsgpackReader.Type type = reader.peekType();
        if (type == MsgpackReader.Type.FLOAT) {
          out.float64(reader.readFloat64());
        } else if (type == MsgpackReader.Type.INT && !reader.nextIsUint64AboveInt64()) {
          out.int64(reader.readInt64());
        } else if (type == MsgpackReader.Type.INT) {
          int start = reader.position();
          reader.skipValue(); // a uint64 above int64 is written so already
          out.bytes(bytes, start, reader.position() - start);
        } else {
          throw new IllegalStateException("not a number: " + type);
        }
      }
      return (int) count;
    } catch (ProtocolException e) {
      throw new IllegalStateException("RawValue holds malformed msgpack: " + e.getMessage(), e);
    }
  }

  /**
   * For an array value: how many elements it holds, read from its header.
   *
   * @throws IllegalStateException if this value is not an array
   */
  public int arrayLength() {
    if (!isArray()) {
      throw new IllegalStateException("RawValue.arrayLength() needs an array, got " + typeName());
    }
    try {
      return (int) reader().readArrayHeader();
    } catch (ProtocolException e) {
      throw new IllegalStateException("RawValue holds malformed msgpack: " + e.getMessage(), e);
    }
  }

  /** An array of {@code values}, under the smallest header (as Python's msgpack writes a list). */
  public static RawValue arrayOf(List<RawValue> values) {
    int size = 5;
    for (RawValue v : values) {
      size += v.length;
    }
    FrameWriter out = new FrameWriter(size).arrayHeader(values.size());
    for (RawValue v : values) {
      out.raw(v);
    }
    return out.toRawValue();
  }

  /**
   * This value as an array of int64.
   *
   * @throws ProtocolException WRONG_FIELD_TYPE if it is not an array whose elements are int64
   */
  public long[] asLongArray() throws ProtocolException {
    MsgpackReader reader = reader();
    MsgpackReader.Type type = reader.peekType();
    if (type != MsgpackReader.Type.ARRAY) {
      throw wrongType("an array of int64", type.toString());
    }
    long count = reader.readArrayHeader();
    reader.checkElements(count);
    long[] out = new long[(int) count];
    for (int i = 0; i < out.length; i++) {
      out[i] = readInt64(reader, "an int64", " element " + i);
    }
    return out;
  }

  private long readInt64(MsgpackReader reader, String expected, String where)
      throws ProtocolException {
    MsgpackReader.Type type = reader.peekType();
    if (type != MsgpackReader.Type.INT) {
      throw wrongType(where, expected, type.toString());
    }
    if (reader.nextIsUint64AboveInt64()) {
      throw wrongType(where, expected, "uint64 " + Long.toUnsignedString(reader.peekRawUint64()));
    }
    return reader.readInt64();
  }

  private ProtocolException wrongType(String expected, String got) {
    return wrongType("", expected, got);
  }

  private static ProtocolException wrongType(String where, String expected, String got) {
    return new ProtocolException(
        ProtocolException.Reason.WRONG_FIELD_TYPE,
        null,
        "value" + where + " must be " + expected + ", got " + got);
  }

  /** A reader over this value's bytes. */
  MsgpackReader reader() {
    MsgpackReader reader = new MsgpackReader();
    reader.reset(bytes, offset, length, null);
    return reader;
  }

  /** The msgpack family of this value: "map", "int", "str", ... */
  String typeName() {
    try {
      return reader().peekType().toString();
    } catch (ProtocolException e) {
      throw new IllegalStateException("RawValue is empty", e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RawValue other
        && Arrays.equals(
            bytes, offset, offset + length, other.bytes, other.offset, other.offset + other.length);
  }

  @Override
  public int hashCode() {
    int h = 1;
    for (int i = offset; i < offset + length; i++) {
      h = 31 * h + bytes[i];
    }
    return h;
  }

  /** The hex bytes (the first 64 of them for long values). */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("RawValue[");
    int shown = Math.min(length, 64);
    HexFormat.of().formatHex(sb, bytes, offset, offset + shown);
    if (shown < length) {
      sb.append("... (").append(length).append(" bytes)");
    }
    return sb.append(']').toString();
  }

  /** Rejects a null argument, naming it. */
  static <T> T checkPresent(T value, String name) {
    if (value == null) {
      throw new IllegalArgumentException(name + " is null");
    }
    return value;
  }

  /** Rejects anything but a map, naming the argument. */
  static RawValue checkMap(RawValue value, String name) {
    checkPresent(value, name);
    if (!value.isMap()) {
      throw new IllegalArgumentException(name + " must be a map, got " + value.typeName());
    }
    return value;
  }

  /** Rejects anything but nil or a map, naming the argument. */
  static RawValue checkNilOrMap(RawValue value, String name) {
    checkPresent(value, name);
    if (!value.isNil() && !value.isMap()) {
      throw new IllegalArgumentException(name + " must be nil or a map, got " + value.typeName());
    }
    return value;
  }

  /** UTF-8 bytes of {@code s}; a lone surrogate (not encodable) is a misuse. */
  static byte[] utf8(String s) {
    if (s == null) {
      throw new IllegalArgumentException("string is null");
    }
    try {
      ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(s));
      byte[] out = new byte[encoded.remaining()];
      encoded.get(out);
      return out;
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("string is not encodable as UTF-8 (lone surrogate)", e);
    }
  }

  /** A map header for {@code count} entries, as wide as the old header unless it must grow. */
  private static byte[] mapHeader(int oldTypeByte, long count) {
    if (oldTypeByte <= 0x8f && count <= 15) {
      return new byte[] {(byte) (0x80 | count)};
    }
    if (oldTypeByte != 0xdf && count <= 0xffff) {
      return withType(0xde, count, 2);
    }
    return withType(0xdf, count, 4);
  }

  private static byte[] withType(int type, long v, int n) {
    byte[] out = new byte[1 + n];
    out[0] = (byte) type;
    for (int i = n; i >= 1; i--) {
      out[i] = (byte) v;
      v >>>= 8;
    }
    return out;
  }
}
