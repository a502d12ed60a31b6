package io.dpcoord.sim.replay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream into lines without decoding them, so the JSON parser reads UTF-8 directly
 * from the buffer. A line ends at {@code \n}; a trailing {@code \r} is dropped; the last line needs
 * no terminator. Only the current line is held, never the whole stream. Not thread-safe.
 */
public final class LineSource {
  private final InputStream in;
  private byte[] buf = new byte[1 << 16];
  private int start;
  private int end;
  private int scan;
  private boolean eof;
  private int lineStart;
  private int lineLength;
  private long lineNumber;

  /** Lines of {@code in}, which the caller closes. */
  public LineSource(InputStream in) {
    this.in = in;
  }

  /** Advances to the next line; false at the end of the stream. */
  public boolean next() throws IOException {
    while (true) {
      for (int i = scan; i < end; i++) {
        if (buf[i] == '\n') {
          setLine(start, i);
          start = i + 1;
          scan = start;
          return true;
        }
      }
      scan = end;
      if (eof) {
        if (start < end) {
          setLine(start, end);
          start = end;
          return true;
        }
        return false;
      }
      fill();
    }
  }

  /** The buffer holding the current line. */
  public byte[] buffer() {
    return buf;
  }

  /** Where the current line starts in {@link #buffer()}. */
  public int start() {
    return lineStart;
  }

  /** The current line's length in bytes, without its terminator. */
  public int length() {
    return lineLength;
  }

  /** The current line's 1-based number. */
  public long number() {
    return lineNumber;
  }

  /** Whether the current line holds only spaces and tabs (or nothing). */
  public boolean isBlank() {
    for (int i = lineStart, e = lineStart + lineLength; i < e; i++) {
      if (buf[i] != ' ' && buf[i] != '\t') {
        return false;
      }
    }
    return true;
  }

  private void setLine(int from, int to) {
    if (to > from && buf[to - 1] == '\r') {
      to--;
    }
    lineStart = from;
    lineLength = to - from;
    lineNumber++;
  }

  private void fill() throws IOException {
    if (start > 0) {
      System.arraycopy(buf, start, buf, 0, end - start);
      end -= start;
      scan -= start;
      start = 0;
    }
    if (end == buf.length) {
      buf = Arrays.copyOf(buf, buf.length * 2);
    }
    int n = in.read(buf, end, buf.length - end);
    if (n < 0) {
      eof = true;
    } else {
      end += n;
    }
  }

  /** Takes one field of a line's JSON object. */
  @FunctionalInterface
  public interface FieldReader {
    /**
     * Reads the field {@code name} of line {@code line}, the parser standing on its value's first
     * token {@code v}: it must consume the whole value ({@code p.skipChildren()} for one it
     * ignores).
     */
    void field(String name, JsonParser p, JsonToken v, long line)
        throws IOException, TraceException;
  }

  /**
   * Reads the current line as one JSON object, handing each field to {@code reader}.
   *
   * @throws TraceException naming the line if it is not one JSON object (malformed, another value,
   *     or more after it), or as {@code reader} throws it
   */
  public void readObject(JsonFactory json, FieldReader reader) throws IOException, TraceException {
    long n = number();
    try (JsonParser p = json.createParser(buffer(), start(), length())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new TraceException(n, "expected a JSON object");
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        reader.field(name, p, p.nextToken(), n);
      }
      if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new TraceException(n, "unexpected content after the JSON object");
      }
    } catch (JsonProcessingException e) {
      throw new TraceException(n, "malformed JSON: " + e.getOriginalMessage());
    }
  }
}
