package io.dpcoord.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;
import org.msgpack.value.Value;

/**
 * Builds msgpack bytes the way Python's {@code msgpack.packb(value, use_bin_type=True)} does, from
 * plain Java values, independently of the coordinator's own encoder.
 *
 * <p>Mapping: null is nil, Boolean a bool, Integer/Long the smallest int, Float a float32, Double a
 * float64, String a str, byte[] a bin, long[] and List an array, Map a map (iteration order), and
 * {@link Raw} bytes written as they are (an already encoded value).
 */
final class Pack {
  private Pack() {}

  /** Bytes of one already encoded msgpack value, embedded as they are. */
  record Raw(byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Raw r && Arrays.equals(bytes, r.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      return "Raw" + hex(bytes);
    }
  }

  /** Embeds already encoded bytes. */
  static Raw raw(byte[] bytes) {
    return new Raw(bytes);
  }

  /** The encoding of an array of {@code elements}: a frame, for most uses. */
  static byte[] array(Object... elements) {
    return value(Arrays.asList(elements));
  }

  /** An insertion-ordered map of alternating keys and values. */
  static Map<Object, Object> map(Object... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("map needs key/value pairs, got " + keysAndValues.length);
    }
    Map<Object, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  /** A list that may hold nulls. */
  static List<Object> list(Object... elements) {
    return Arrays.asList(elements);
  }

  /** The encoding of one value. */
  static byte[] value(Object v) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      write(p, v);
      return p.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Decodes one value fully, for structural assertions. */
  static Value unpack(byte[] bytes) {
    try (var u = MessagePack.newDefaultUnpacker(bytes)) {
      Value v = u.unpackValue();
      if (u.hasNext()) {
        throw new AssertionError("trailing bytes after the value in " + hex(bytes));
      }
      return v;
    } catch (IOException e) {
      throw new AssertionError("not one msgpack value: " + hex(bytes), e);
    }
  }

  /** The value as JSON-like text followed by its bytes in hex, for failure messages. */
  static String describe(byte[] bytes) {
    String text;
    try (var u = MessagePack.newDefaultUnpacker(bytes)) {
      text = u.unpackValue().toJson() + (u.hasNext() ? " + trailing bytes" : "");
    } catch (IOException | RuntimeException e) {
      text = "not msgpack";
    }
    return text + " " + hex(bytes);
  }

  /** Lower-case hex, for failure messages. */
  static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder("[");
    for (byte b : bytes) {
      s.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    }
    return s.append(']').toString();
  }

  private static void write(MessagePacker p, Object v) throws IOException {
    if (v == null) {
      p.packNil();
    } else if (v instanceof Raw r) {
      p.writePayload(r.bytes());
    } else if (v instanceof Boolean b) {
      p.packBoolean(b);
    } else if (v instanceof Integer || v instanceof Long || v instanceof Short) {
      p.packLong(((Number) v).longValue());
    } else if (v instanceof Float f) {
      p.packFloat(f);
    } else if (v instanceof Double d) {
      p.packDouble(d);
    } else if (v instanceof String s) {
      p.packString(s);
    } else if (v instanceof byte[] b) {
      p.packBinaryHeader(b.length);
      p.writePayload(b);
    } else if (v instanceof long[] a) {
      p.packArrayHeader(a.length);
      for (long x : a) {
        p.packLong(x);
      }
    } else if (v instanceof List<?> l) {
      p.packArrayHeader(l.size());
      for (Object x : l) {
        write(p, x);
      }
    } else if (v instanceof Map<?, ?> m) {
      p.packMapHeader(m.size());
      for (Map.Entry<?, ?> e : m.entrySet()) {
        write(p, e.getKey());
        write(p, e.getValue());
      }
    } else {
      throw new IllegalArgumentException("cannot pack a " + v.getClass().getName());
    }
  }
}
