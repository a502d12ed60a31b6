package io.dpcoord.sim.simulate;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.dpcoord.sim.replay.TraceException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * What the trace readers share: opening a plain or gzipped file, the integer checks of a JSON
 * field, and the bad-line policy (stop at the first, or skip and count).
 */
final class TraceLines {
  /** How many skipped lines' reasons are kept. */
  static final int KEPT_REASONS = 5;

  private final boolean skipBad;
  private long skipped;
  private final List<String> reasons = new ArrayList<>();

  TraceLines(boolean skipBad) {
    this.skipBad = skipBad;
  }

  /**
   * Handles a bad line: rethrows it, or counts it when bad lines are skipped.
   *
   * @throws TraceException {@code e}, unless bad lines are skipped
   */
  void reject(TraceException e) throws TraceException {
    if (!skipBad) {
      throw e;
    }
    skipped++;
    if (reasons.size() < KEPT_REASONS) {
      reasons.add(e.getMessage());
    }
  }

  long skipped() {
    return skipped;
  }

  List<String> reasons() {
    return List.copyOf(reasons);
  }

  /** Opens {@code file}, gunzipping it when it starts with gzip's magic bytes (1f 8b). */
  static InputStream open(Path file) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    try {
      in.mark(2);
      int b0 = in.read();
      int b1 = in.read();
      in.reset();
      return b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(in, 1 << 16) : in;
    } catch (IOException e) {
      in.close();
      throw e;
    }
  }

  /** The field's value as an int64 integer, or a bad line naming {@code field}. */
  static long integer(JsonParser p, JsonToken v, String field, long line)
      throws IOException, TraceException {
    if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw new TraceException(line, "field '" + field + "' must be an integer, found " + text(p));
    }
    return p.getLongValue();
  }

  /** A token count: an integer in [min, 2^31 - 1], or a bad line naming {@code field}. */
  static int count(JsonParser p, JsonToken v, String field, int min, long line)
      throws IOException, TraceException {
    long n = integer(p, v, field, line);
    if (n < min || n > Integer.MAX_VALUE) {
      throw new TraceException(
          line, "field '" + field + "' must be an integer >= " + min + ", got " + n);
    }
    return (int) n;
  }

  /** The current value as it appears in the line, shortened, for a message. */
  static String text(JsonParser p) throws IOException {
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
}
