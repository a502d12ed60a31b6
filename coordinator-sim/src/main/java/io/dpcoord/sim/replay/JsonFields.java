package io.dpcoord.sim.replay;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Arrays;

/**
 * The type checks of a JSON trace line's fields that every trace reader shares, each failing with a
 * {@link TraceException} that names the line and the field. {@code v} is the field's value token,
 * the parser standing on it.
 */
public final class JsonFields {
  private JsonFields() {}

  /** The field's value as an int64 integer. */
  public static long integer(JsonParser p, JsonToken v, String field, long line)
      throws IOException, TraceException {
    if (!isInt64(p, v)) {
      throw new TraceException(
          line, "field '" + field + "' must be an int64 integer, found " + text(p));
    }
    return p.getLongValue();
  }

  /** A count: an integer in [min, 2^31 - 1]. */
  public static int count(JsonParser p, JsonToken v, String field, int min, long line)
      throws IOException, TraceException {
    if (!isInt64(p, v)) {
      throw new TraceException(
          line, "field '" + field + "' must be an integer >= " + min + ", found " + text(p));
    }
    long n = p.getLongValue();
    if (n < min || n > Integer.MAX_VALUE) {
      throw new TraceException(
          line, "field '" + field + "' must be an integer >= " + min + ", got " + n);
    }
    return (int) n;
  }

  /** The field's value as a string. */
  public static String string(JsonParser p, JsonToken v, String field, long line)
      throws IOException, TraceException {
    if (v != JsonToken.VALUE_STRING) {
      throw new TraceException(line, "field '" + field + "' must be a string, found " + text(p));
    }
    return p.getText();
  }

  /** The current value as it appears in the line, shortened, for a message. */
  public static String text(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.START_ARRAY) {
      return "an array";
    }
    if (t == JsonToken.START_OBJECT) {
      return "an object";
    }
    String s = t == JsonToken.VALUE_STRING ? '"' + p.getText() + '"' : p.getText();
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  private static boolean isInt64(JsonParser p, JsonToken v) throws IOException {
    return v == JsonToken.VALUE_NUMBER_INT
        && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER;
  }

  /** A field's array of int64 integers (a prompt's token ids), read into a reused buffer. */
  public static final class Int64s {
    private long[] values = new long[1024];
    private int size;

    /** Reads the array, replacing what was read before. */
    public void read(JsonParser p, JsonToken v, String field, long line)
        throws IOException, TraceException {
      if (v != JsonToken.START_ARRAY) {
        throw new TraceException(
            line, "field '" + field + "' must be an array of integers, found " + text(p));
      }
      size = 0;
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (!isInt64(p, t)) {
          throw new TraceException(
              line,
              "'" + field + "' must hold int64 integers, found " + text(p) + " at index " + size);
        }
        if (size == values.length) {
          values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = p.getLongValue();
      }
    }

    /** The values read, in {@code [0, size())}; the array is reused by the next read. */
    public long[] values() {
      return values;
    }

    public int size() {
      return size;
    }
  }
}
