package io.dpcoord.sim.simulate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.dpcoord.sim.replay.JsonFields;
import io.dpcoord.sim.replay.LineSource;
import io.dpcoord.sim.replay.TraceException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A request trace in Mooncake's JSON Lines format (the FAST'25 release's traces), read once into
 * compact storage and replayed as often as asked.
 *
 * <p>One request per line: {@code {"timestamp": 27482, "input_length": 6955, "output_length": 52,
 * "hash_ids": [46, 47, ...]}}. {@code timestamp} is in milliseconds; a request arrives {@code
 * timestamp - the first line's timestamp} after the start (fractions of a millisecond are kept).
 * {@code hash_ids} has one id per block of 512 tokens, {@code ceil(input_length / 512)} of them;
 * equal ids at the same position mean equal prompts up to the end of that block (the ids are
 * prefix-aware), so they serve as the block hashes as they are. When {@code input_length} is not a
 * multiple of 512 the last id stands for the partial tail block, which engines do not cache: a
 * request gets only the {@code floor(input_length / 512)} complete blocks' ids.
 *
 * <p>NVIDIA Dynamo's Mooncake-style traces name some fields differently; these aliases are
 * accepted: {@code created_time} for {@code timestamp}, {@code input_tokens} for {@code
 * input_length}, {@code output_tokens} for {@code output_length}. Dynamo's {@code session_id} is
 * accepted and ignored: every line arrives at its own timestamp, and a session's next turn does not
 * wait for the previous answer. Other fields are ignored too, blank lines skipped.
 *
 * <p>A line is bad, and reported with its 1-based number, when it is not one JSON object, lacks a
 * field, has a length that is not an integer (input at least 1, output at least 1: Mooncake's
 * release has no empty outputs), a hash id that is not an integer (int64 or uint64), a number of
 * hash ids other than {@code ceil(input_length / block size)}, or a timestamp before the previous
 * request's. The first bad line stops the reading with a {@link TraceException}, or, when bad lines
 * are skipped, is counted ({@link #skipped()}) and later lines are checked against the last good
 * one.
 */
public final class MooncakeTrace extends TraceWorkload {
  /** Tokens per hash id in Mooncake's traces. */
  public static final int BLOCK_SIZE = 512;

  private static final JsonFactory JSON = new JsonFactory();
  private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);

  private MooncakeTrace(String name, int blockSize, RequestTable table, TraceLines lines) {
    super(name, blockSize, table, lines);
  }

  /** Reads {@code file} (plain or gzipped) with Mooncake's 512-token blocks. */
  public static MooncakeTrace read(Path file, boolean skipBad) throws IOException, TraceException {
    return read(file, BLOCK_SIZE, skipBad);
  }

  /**
   * Reads {@code file}, plain or gzipped (told by its first bytes), whose hash ids stand for blocks
   * of {@code blockSize} tokens.
   *
   * @param skipBad skip and count bad lines instead of stopping at the first
   * @throws TraceException for the first bad line, unless {@code skipBad}
   * @throws IllegalArgumentException if {@code blockSize} is not positive
   */
  public static MooncakeTrace read(Path file, int blockSize, boolean skipBad)
      throws IOException, TraceException {
    try (InputStream in = TraceLines.open(file)) {
      return read(in, String.valueOf(file.getFileName()), blockSize, skipBad);
    }
  }

  /** Reads an uncompressed trace from {@code in}, which the caller closes; see {@link #read}. */
  public static MooncakeTrace read(InputStream in, String name, int blockSize, boolean skipBad)
      throws IOException, TraceException {
    if (blockSize <= 0) {
      throw new IllegalArgumentException("block size must be positive, got " + blockSize);
    }
    TraceLines lines = new TraceLines(skipBad);
    RequestTable.Builder table = new RequestTable.Builder();
    Line line = new Line(blockSize);
    LineSource source = new LineSource(in);
    while (source.next()) {
      if (source.isBlank()) {
        continue;
      }
      try {
        line.parse(source);
        line.check(source.number());
        line.accept();
        table.add(line.arrivalNanos, line.input, line.output, line.hashes, line.input / blockSize);
      } catch (TraceException e) {
        lines.reject(e);
      }
    }
    return new MooncakeTrace(name, blockSize, table.build(), lines);
  }

  /** One line being parsed, and the timestamps of the lines accepted before it. */
  private static final class Line {
    private final int blockSize;
    // the line's fields
    private String timestampField;
    private boolean integralTime;
    private long timeMs;
    private double timeMsDouble;
    private String inputField;
    private int input;
    private String outputField;
    private int output;
    private boolean hasHashes;
    private long[] hashes = new long[256];
    private int hashCount;
    private long arrivalNanos;
    // the first and the previous accepted line
    private boolean started;
    private boolean firstIntegral;
    private long firstMs;
    private double firstMsDouble;
    private long previousArrival;
    private boolean previousIntegral;
    private long previousMs;
    private double previousMsDouble;

    Line(int blockSize) {
      this.blockSize = blockSize;
    }

    void parse(LineSource source) throws IOException, TraceException {
      timestampField = inputField = outputField = null;
      hasHashes = false;
      source.readObject(JSON, this::field);
    }

    private void field(String name, JsonParser p, JsonToken v, long n)
        throws IOException, TraceException {
      switch (name) {
        case "timestamp", "created_time" -> {
          timestampField = once(timestampField, name, n);
          readTime(p, v, name, n);
        }
        case "input_length", "input_tokens" -> {
          inputField = once(inputField, name, n);
          input = JsonFields.count(p, v, name, 1, n);
        }
        case "output_length", "output_tokens" -> {
          outputField = once(outputField, name, n);
          output = JsonFields.count(p, v, name, 1, n);
        }
        case "hash_ids" -> {
          if (hasHashes) {
            throw new TraceException(n, "field 'hash_ids' appears twice");
          }
          readHashes(p, v, n);
          hasHashes = true;
        }
        default -> p.skipChildren(); // session_id and annotations
      }
    }

    /** Checks the line as a whole and computes its arrival; changes nothing else. */
    void check(long n) throws TraceException {
      if (timestampField == null) {
        throw new TraceException(n, "missing field 'timestamp' (or 'created_time')");
      }
      if (inputField == null) {
        throw new TraceException(n, "missing field 'input_length' (or 'input_tokens')");
      }
      if (outputField == null) {
        throw new TraceException(n, "missing field 'output_length' (or 'output_tokens')");
      }
      if (!hasHashes) {
        throw new TraceException(n, "missing field 'hash_ids'");
      }
      long expected = ((long) input + blockSize - 1) / blockSize;
      if (hashCount != expected) {
        throw new TraceException(
            n,
            "'hash_ids' has "
                + hashCount
                + " ids but "
                + inputField
                + " "
                + input
                + " needs ceil("
                + input
                + " / "
                + blockSize
                + ") = "
                + expected);
      }
      arrivalNanos = started ? sinceFirst(n) : 0;
      if (started && arrivalNanos < previousArrival) {
        throw new TraceException(
            n,
            timestampField
                + " "
                + timeText()
                + " is before the previous request's "
                + (previousIntegral ? Long.toString(previousMs) : Double.toString(previousMsDouble))
                + ": timestamps must not go backwards");
      }
    }

    /** Makes the checked line the previous one. */
    void accept() {
      if (!started) {
        started = true;
        firstIntegral = integralTime;
        firstMs = timeMs;
        firstMsDouble = timeMsDouble;
      }
      previousArrival = arrivalNanos;
      previousIntegral = integralTime;
      previousMs = timeMs;
      previousMsDouble = timeMsDouble;
    }

    private long sinceFirst(long n) throws TraceException {
      if (integralTime && firstIntegral) {
        try {
          return Math.multiplyExact(Math.subtractExact(timeMs, firstMs), 1_000_000L);
        } catch (ArithmeticException e) {
          throw new TraceException(n, "timestamp " + timeMs + " ms is too far from the first");
        }
      }
      double first = firstIntegral ? firstMs : firstMsDouble;
      double now = integralTime ? timeMs : timeMsDouble;
      double nanos = (now - first) * 1e6;
      if (!(Math.abs(nanos) < 0x1p62)) {
        throw new TraceException(n, "timestamp " + timeText() + " ms is too far from the first");
      }
      return Math.round(nanos);
    }

    private String timeText() {
      return integralTime ? Long.toString(timeMs) : Double.toString(timeMsDouble);
    }

    private void readTime(JsonParser p, JsonToken v, String field, long n)
        throws IOException, TraceException {
      if (v == JsonToken.VALUE_NUMBER_INT
          && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
        integralTime = true;
        timeMs = p.getLongValue();
      } else if (v == JsonToken.VALUE_NUMBER_FLOAT || v == JsonToken.VALUE_NUMBER_INT) {
        integralTime = false;
        timeMsDouble = p.getDoubleValue();
        if (!Double.isFinite(timeMsDouble)) {
          throw new TraceException(n, "field '" + field + "' is out of range");
        }
      } else {
        throw new TraceException(
            n, "field '" + field + "' must be a number of ms, found " + JsonFields.text(p));
      }
    }

    private void readHashes(JsonParser p, JsonToken v, long n) throws IOException, TraceException {
      if (v != JsonToken.START_ARRAY) {
        throw new TraceException(
            n, "field 'hash_ids' must be an array of integers, found " + JsonFields.text(p));
      }
      hashCount = 0;
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t != JsonToken.VALUE_NUMBER_INT) {
          throw new TraceException(
              n,
              "'hash_ids' must hold integers, found "
                  + JsonFields.text(p)
                  + " at index "
                  + hashCount);
        }
        long id;
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
          // uint64 ids above 2^63 - 1 keep their 64 bits
          BigInteger big = p.getBigIntegerValue();
          if (big.signum() < 0 || big.compareTo(TWO_TO_64) >= 0) {
            throw new TraceException(
                n, "hash id " + big + " at index " + hashCount + " does not fit 64 bits");
          }
          id = big.longValue();
        } else {
          id = p.getLongValue();
        }
        if (hashCount == hashes.length) {
          hashes = Arrays.copyOf(hashes, hashes.length * 2);
        }
        hashes[hashCount++] = id;
      }
    }

    private static String once(String seen, String name, long n) throws TraceException {
      if (seen == null) {
        return name;
      }
      throw new TraceException(
          n,
          seen.equals(name)
              ? "field '" + name + "' appears twice"
              : "fields '" + seen + "' and '" + name + "' are aliases: give one");
    }
  }
}
