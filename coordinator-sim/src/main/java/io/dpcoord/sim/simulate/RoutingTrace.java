package io.dpcoord.sim.simulate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.dpcoord.routing.BlockHasher;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.sim.replay.JsonFields;
import io.dpcoord.sim.replay.LineSource;
import io.dpcoord.sim.replay.TraceException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * The submits of a {@code route-replay} trace (docs/spec/ROUTING.md, "Trace replay") as a workload,
 * read once into compact storage and replayed as often as asked.
 *
 * <p>Each {@code {"op":"submit","id":7,"tokens":[...]}} line is a request; its blocks are hashed
 * with the server's {@link BlockHasher} at the given block size, so they are exactly the hashes the
 * coordinator's router sees for that prompt. Two optional fields extend the format:
 *
 * <ul>
 *   <li>{@code "time_ms"}: when the request arrives, in milliseconds since the start (a number,
 *       fractions kept). A submit without it arrives {@code interval} after the previous submit
 *       (the first at 0), so a trace without any times arrives at a steady rate;
 *   <li>{@code "output_tokens"}: tokens to generate (an integer, at least 1); the given default
 *       otherwise.
 * </ul>
 *
 * <p>The other ops ({@code complete}, {@code remove}, {@code add}, {@code epoch}, {@code advance})
 * are counted ({@link #ignoredOps()}) and otherwise ignored: the simulation decides itself when
 * requests complete, and its fleet is fixed. Ids are required but not checked for reuse (the
 * simulation does not use them); unknown fields are ignored, blank lines skipped. A text prompt
 * ({@code "text"}) is a bad line: the simulator reads token prompts only.
 *
 * <p>A line is bad, and reported with its 1-based number, when it is not one JSON object, has no or
 * an unknown {@code op}, a submit lacks {@code id} or {@code tokens} or has no token, a field has
 * the wrong type, or {@code time_ms} is negative or before the previous submit's arrival. The first
 * bad line stops the reading with a {@link TraceException}, or, when bad lines are skipped, is
 * counted ({@link #skipped()}).
 */
public final class RoutingTrace extends TraceWorkload {
  /** The router's default block size, as {@code route-replay} uses. */
  public static final int DEFAULT_BLOCK_SIZE = RouterConfig.builder().build().blockSize();

  /**
   * Between submits without {@code time_ms}: 100 ms, a steady 10 requests per second (0 would make
   * every request arrive at once, and the router would choose with no request yet finished).
   */
  public static final long DEFAULT_INTERVAL_NANOS = 100_000_000L;

  /** Output tokens of a submit without {@code output_tokens}: a short answer. */
  public static final int DEFAULT_OUTPUT_TOKENS = 128;

  private static final JsonFactory JSON = new JsonFactory();

  private final long ignoredOps;

  private RoutingTrace(
      String name, int blockSize, RequestTable table, long ignoredOps, TraceLines lines) {
    super(name, blockSize, table, lines);
    this.ignoredOps = ignoredOps;
  }

  /** Reads {@code file} (plain or gzipped) with the defaults. */
  public static RoutingTrace read(Path file, boolean skipBad) throws IOException, TraceException {
    return read(file, DEFAULT_BLOCK_SIZE, DEFAULT_INTERVAL_NANOS, DEFAULT_OUTPUT_TOKENS, skipBad);
  }

  /**
   * Reads {@code file}, plain or gzipped (told by its first bytes).
   *
   * @param blockSize tokens per hashed block, the router's block size
   * @param intervalNanos between submits that have no {@code time_ms}; 0 means together
   * @param outputTokens of submits that have no {@code output_tokens}
   * @param skipBad skip and count bad lines instead of stopping at the first
   * @throws TraceException for the first bad line, unless {@code skipBad}
   * @throws IllegalArgumentException if a parameter is out of range
   */
  public static RoutingTrace read(
      Path file, int blockSize, long intervalNanos, int outputTokens, boolean skipBad)
      throws IOException, TraceException {
    try (InputStream in = TraceLines.open(file)) {
      return read(
          in, String.valueOf(file.getFileName()), blockSize, intervalNanos, outputTokens, skipBad);
    }
  }

  /** Reads an uncompressed trace from {@code in}, which the caller closes; see {@link #read}. */
  public static RoutingTrace read(
      InputStream in,
      String name,
      int blockSize,
      long intervalNanos,
      int outputTokens,
      boolean skipBad)
      throws IOException, TraceException {
    if (intervalNanos < 0) {
      throw new IllegalArgumentException("interval must be >= 0, got " + intervalNanos + " ns");
    }
    if (outputTokens < 1) {
      throw new IllegalArgumentException("output tokens must be >= 1, got " + outputTokens);
    }
    Line line = new Line(new BlockHasher(blockSize));
    TraceLines lines = new TraceLines(skipBad);
    RequestTable.Builder table = new RequestTable.Builder();
    LineSource source = new LineSource(in);
    long ignored = 0;
    boolean started = false;
    long previous = 0;
    while (source.next()) {
      if (source.isBlank()) {
        continue;
      }
      long n = source.number();
      try {
        line.parse(source);
        if (line.op == null) {
          throw new TraceException(n, "missing field 'op'");
        }
        switch (line.op) {
          case "submit" -> {
            int blocks = line.hash(n);
            long arrival = line.arrival(n, started, previous, intervalNanos);
            table.add(
                arrival,
                line.tokens.size(),
                line.hasOutput ? line.output : outputTokens,
                line.hasher.hashes(),
                blocks);
            started = true;
            previous = arrival;
          }
          case "complete", "remove", "add", "epoch", "advance" -> ignored++;
          default ->
              throw new TraceException(
                  n,
                  "unknown op '"
                      + line.op
                      + "' (expected submit, complete, remove, add, epoch, advance)");
        }
      } catch (TraceException e) {
        lines.reject(e);
      }
    }
    return new RoutingTrace(name, blockSize, table.build(), ignored, lines);
  }

  /** The number of lines with other ops than submit, which the workload ignores. */
  public long ignoredOps() {
    return ignoredOps;
  }

  /** One line being parsed. */
  private static final class Line {
    private final BlockHasher hasher;
    private String op;
    private boolean hasId;
    private boolean hasTokens;
    private boolean hasText;
    private final JsonFields.Int64s tokens = new JsonFields.Int64s();
    private boolean hasTime;
    private boolean integralTime;
    private long timeMs;
    private double timeMsDouble;
    private boolean hasOutput;
    private int output;

    Line(BlockHasher hasher) {
      this.hasher = hasher;
    }

    void parse(LineSource source) throws IOException, TraceException {
      op = null;
      hasId = hasTokens = hasText = hasTime = hasOutput = false;
      source.readObject(JSON, this::field);
    }

    private void field(String name, JsonParser p, JsonToken v, long n)
        throws IOException, TraceException {
      switch (name) {
        case "op" -> op = JsonFields.string(p, v, "op", n);
        case "id" -> {
          JsonFields.integer(p, v, "id", n);
          hasId = true;
        }
        case "tokens" -> {
          tokens.read(p, v, "tokens", n);
          hasTokens = true;
        }
        case "text" -> {
          hasText = true;
          p.skipChildren();
        }
        case "time_ms" -> {
          readTime(p, v, n);
          hasTime = true;
        }
        case "output_tokens" -> {
          output = JsonFields.count(p, v, "output_tokens", 1, n);
          hasOutput = true;
        }
        default -> p.skipChildren();
      }
    }

    /** The submit's arrival: its time_ms, or the previous arrival plus the interval. */
    long arrival(long n, boolean started, long previous, long intervalNanos) throws TraceException {
      if (!hasTime) {
        return started ? saturatedAdd(previous, intervalNanos) : 0;
      }
      long nanos;
      if (integralTime) {
        if (timeMs > Long.MAX_VALUE / 1_000_000L) {
          throw new TraceException(n, "time_ms " + timeMs + " is too large");
        }
        nanos = timeMs * 1_000_000L;
      } else {
        if (!(timeMsDouble * 1e6 < 0x1p62)) {
          throw new TraceException(n, "time_ms " + timeMsDouble + " is too large");
        }
        nanos = Math.round(timeMsDouble * 1e6);
      }
      if (started && nanos < previous) {
        throw new TraceException(
            n,
            "time_ms "
                + (integralTime ? Long.toString(timeMs) : Double.toString(timeMsDouble))
                + " is before the previous submit's arrival at "
                + previous / 1e6
                + " ms: arrivals must not go backwards");
      }
      return nanos;
    }

    /** Checks the submit's prompt and hashes its complete blocks; returns how many. */
    int hash(long n) throws TraceException {
      if (!hasId) {
        throw new TraceException(n, "submit needs field 'id'");
      }
      if (hasText && !hasTokens) {
        throw new TraceException(
            n, "submit has a text prompt: the simulator reads token prompts ('tokens') only");
      }
      if (!hasTokens) {
        throw new TraceException(n, "submit needs field 'tokens'");
      }
      if (tokens.size() == 0) {
        throw new TraceException(n, "submit has no tokens");
      }
      return hasher.hash(tokens.values(), tokens.size() / hasher.blockSize());
    }

    private void readTime(JsonParser p, JsonToken v, long n) throws IOException, TraceException {
      if (v == JsonToken.VALUE_NUMBER_INT
          && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
        integralTime = true;
        timeMs = p.getLongValue();
        if (timeMs < 0) {
          throw new TraceException(n, "time_ms must be >= 0, got " + timeMs);
        }
      } else if (v == JsonToken.VALUE_NUMBER_FLOAT || v == JsonToken.VALUE_NUMBER_INT) {
        integralTime = false;
        timeMsDouble = p.getDoubleValue();
        if (!(timeMsDouble >= 0) || Double.isInfinite(timeMsDouble)) {
          throw new TraceException(n, "time_ms must be a number >= 0, got " + p.getText());
        }
      } else {
        throw new TraceException(
            n, "field 'time_ms' must be a number of ms, found " + JsonFields.text(p));
      }
    }

    private static long saturatedAdd(long a, long b) {
      long s = a + b;
      return s < a ? Long.MAX_VALUE : s;
    }
  }
}
