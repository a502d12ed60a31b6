package io.dpcoord.sim.simulate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.dpcoord.sim.replay.LineSource;
import io.dpcoord.sim.replay.TraceException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Opens a workload named on a command line: a trace file or a synthetic spec.
 *
 * <ul>
 *   <li>A spec ending in {@code .jsonl}, {@code .json} or {@code .gz}, or naming an existing file,
 *       is a trace file, plain or gzipped (told by its first bytes). Its format is told by the
 *       first request line's keys: {@code op} makes it a {@code route-replay} trace ({@link
 *       RoutingTrace}), {@code hash_ids} a Mooncake trace ({@link MooncakeTrace}).
 *   <li>Anything else is a synthetic spec, {@code KIND[:key=value,...]} ({@link Synthetic}), for
 *       example {@code chat} or {@code rag:requests=100000,rate=50}. A trace file whose name is a
 *       kind's ({@code chat}) is reached as {@code ./chat}.
 * </ul>
 */
public final class Workloads {
  private static final JsonFactory JSON = new JsonFactory();

  private Workloads() {}

  /**
   * How to read what a spec names.
   *
   * @param seed the seed of a synthetic workload
   * @param skipBad skip and count a trace's bad lines instead of stopping at the first
   * @param traceBlockSize tokens per block of a trace: the hasher's block size for a route-replay
   *     trace, the tokens per hash id for a Mooncake trace; 0 for the format's own (16, the
   *     router's default, and 512). A synthetic spec sets its block size with {@code block=}.
   * @param intervalNanos between a route-replay trace's submits that have no {@code time_ms}
   * @param outputTokens of a route-replay trace's submits that have no {@code output_tokens}
   */
  public record Options(
      long seed, boolean skipBad, int traceBlockSize, long intervalNanos, int outputTokens) {
    public Options {
      if (traceBlockSize < 0 || intervalNanos < 0 || outputTokens < 1) {
        throw new IllegalArgumentException(
            "bad workload options: block size "
                + traceBlockSize
                + ", interval "
                + intervalNanos
                + " ns, output tokens "
                + outputTokens);
      }
    }

    /** Seed 1, stop at a bad line, each format's block size, RoutingTrace's defaults. */
    public static Options defaults() {
      return new Options(
          1, false, 0, RoutingTrace.DEFAULT_INTERVAL_NANOS, RoutingTrace.DEFAULT_OUTPUT_TOKENS);
    }

    public Options withSeed(long s) {
      return new Options(s, skipBad, traceBlockSize, intervalNanos, outputTokens);
    }

    public Options withSkipBad(boolean skip) {
      return new Options(seed, skip, traceBlockSize, intervalNanos, outputTokens);
    }

    public Options withTraceBlockSize(int tokens) {
      return new Options(seed, skipBad, tokens, intervalNanos, outputTokens);
    }

    public Options withInterval(long nanos) {
      return new Options(seed, skipBad, traceBlockSize, nanos, outputTokens);
    }

    public Options withOutputTokens(int tokens) {
      return new Options(seed, skipBad, traceBlockSize, intervalNanos, tokens);
    }
  }

  /** The trace formats a file may have. */
  public enum Format {
    MOONCAKE,
    ROUTING
  }

  /**
   * The workload {@code spec} names.
   *
   * @throws IOException if a trace file cannot be read
   * @throws TraceException for a trace's first bad line (unless bad lines are skipped), or when its
   *     format cannot be told
   * @throws IllegalArgumentException for a bad synthetic spec, naming what is wrong
   */
  public static Workload open(String spec, Options options) throws IOException, TraceException {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("empty workload spec");
    }
    if (isFile(spec)) {
      Path file = Path.of(spec);
      return switch (format(file, options.skipBad())) {
        case MOONCAKE ->
            MooncakeTrace.read(
                file,
                options.traceBlockSize() == 0 ? MooncakeTrace.BLOCK_SIZE : options.traceBlockSize(),
                options.skipBad());
        case ROUTING ->
            RoutingTrace.read(
                file,
                options.traceBlockSize() == 0
                    ? RoutingTrace.DEFAULT_BLOCK_SIZE
                    : options.traceBlockSize(),
                options.intervalNanos(),
                options.outputTokens(),
                options.skipBad());
      };
    }
    String kind = spec.strip().split(":", 2)[0].strip();
    if (Arrays.stream(Synthetic.Kind.values()).noneMatch(k -> k.cliName().equals(kind))) {
      throw new IllegalArgumentException(
          "'"
              + spec
              + "' is neither a trace file (.jsonl, .jsonl.gz, .json, or an existing file) nor a"
              + " synthetic workload (kinds: "
              + Arrays.stream(Synthetic.Kind.values())
                  .map(Synthetic.Kind::cliName)
                  .collect(Collectors.joining(", "))
              + ")");
    }
    return Synthetic.parse(spec, options.seed());
  }

  /** Whether {@code spec} names a trace file rather than a synthetic workload. */
  public static boolean isFile(String spec) {
    String s = spec.strip().toLowerCase(Locale.ROOT);
    if (s.endsWith(".jsonl") || s.endsWith(".json") || s.endsWith(".gz")) {
      return true;
    }
    try {
      return Files.isRegularFile(Path.of(spec.strip()));
    } catch (RuntimeException e) { // not a path on this platform
      return false;
    }
  }

  /**
   * The format of trace {@code file}, told by the keys of its first non-blank line: {@code op}
   * (route-replay) or {@code hash_ids} (Mooncake). When bad lines are skipped, lines that are not
   * JSON objects with one of those keys are passed over until one is.
   *
   * @throws TraceException naming the line that tells nothing, or if no line does
   */
  public static Format format(Path file, boolean skipBad) throws IOException, TraceException {
    try (InputStream in = TraceLines.open(file)) {
      LineSource lines = new LineSource(in);
      TraceException first = null;
      while (lines.next()) {
        if (lines.isBlank()) {
          continue;
        }
        try {
          return formatOf(lines);
        } catch (TraceException e) {
          if (!skipBad) {
            throw e;
          }
          first = first == null ? e : first;
        }
      }
      if (first != null) {
        throw first;
      }
      throw new TraceException(1, "the trace " + file.getFileName() + " has no lines");
    }
  }

  private static Format formatOf(LineSource line) throws IOException, TraceException {
    long n = line.number();
    try (JsonParser p = JSON.createParser(line.buffer(), line.start(), line.length())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new TraceException(n, "expected a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        if (name.equals("op")) {
          return Format.ROUTING;
        }
        if (name.equals("hash_ids")) {
          return Format.MOONCAKE;
        }
        p.nextToken();
        p.skipChildren();
      }
    } catch (JsonProcessingException e) {
      throw new TraceException(n, "malformed JSON: " + e.getOriginalMessage());
    }
    throw new TraceException(
        n,
        "cannot tell the trace format: the line has neither 'op' (a route-replay trace) nor"
            + " 'hash_ids' (a Mooncake trace)");
  }
}
