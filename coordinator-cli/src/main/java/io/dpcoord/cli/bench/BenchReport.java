package io.dpcoord.cli.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.ToDoubleBiFunction;

/**
 * The load benchmark's rows as a Markdown table and as CSV, with the same columns, and, over
 * several rounds, a table of each run's medians and ranges.
 *
 * <p>CPU columns are µs per measured request of the server JVM's threads by group ({@link
 * ServerCpu}); {@code vs forwarder} is the row's total CPU over the forwarder's at the same prompt
 * length in the same round (empty without one), {@code vs megatron} over Megatron's at the same
 * prompt length and routing in the same round (a column only when Megatron ran); latencies are µs
 * added to the engines' service time (nearest-rank percentiles).
 */
public final class BenchReport {
  private BenchReport() {}

  /**
   * The rows a row is compared with: the forwarder's at its prompt length in its round, and
   * Megatron's at its prompt length and routing in its round; either null if there is none.
   */
  private record Refs(BenchRow forwarder, BenchRow megatron) {
    static Refs of(List<BenchRow> rows, BenchRow row) {
      return new Refs(find(rows, row, Target.FORWARDER), find(rows, row, Target.MEGATRON));
    }

    private static BenchRow find(List<BenchRow> rows, BenchRow row, Target target) {
      for (BenchRow r : rows) {
        if (r.run().target() == target
            && r.run().promptTokens() == row.run().promptTokens()
            && (target == Target.FORWARDER
                || Objects.equals(r.run().routing(), row.run().routing()))
            && r.round() == row.round()) {
          return r;
        }
      }
      return null;
    }
  }

  /**
   * A column: its table heading, CSV name, and value (the row, then the rows it is compared with),
   * either text or a number printed with {@code decimals} (NaN prints empty).
   */
  private enum Column {
    TARGET("target", "target", (r, f) -> r.run().target().cliName()),
    PROMPT("prompt tokens", "prompt_tokens", (r, f) -> Integer.toString(r.run().promptTokens())),
    ROUTING("routing", "routing", (r, f) -> r.run().routingName()),
    REQUESTS("requests", "requests", (r, f) -> Integer.toString(r.requests())),
    RATE("requests/s", "requests_per_s", 0, (r, f) -> r.requestsPerSecond()),
    TOTAL("CPU µs/req", "cpu_us_per_request", 1, (r, f) -> r.cpuMicros(r.cpu().process())),
    LOOP("loop", "loop_us", 1, (r, f) -> r.cpuMicros(r.cpu().loop())),
    IO("I/O", "io_us", 1, (r, f) -> r.cpuMicros(r.cpu().io())),
    WORKERS("workers", "workers_us", 1, (r, f) -> r.cpuMicros(r.cpu().workers())),
    GC("GC", "gc_us", 1, (r, f) -> r.cpuMicros(r.cpu().gc())),
    JIT("JIT", "jit_us", 1, (r, f) -> r.cpuMicros(r.cpu().jit())),
    OTHER("other", "other_us", 1, (r, f) -> r.cpuMicros(r.cpu().other())),
    FLOOR("vs forwarder", "cpu_vs_forwarder", 2, (r, f) -> ratio(r, f.forwarder())),
    MEGATRON("vs megatron", "cpu_vs_megatron", 2, (r, f) -> ratio(r, f.megatron())),
    P50("added p50 µs", "added_p50_us", 0, (r, f) -> r.addedMicros(r.latency().p50())),
    P99("added p99 µs", "added_p99_us", 0, (r, f) -> r.addedMicros(r.latency().p99())),
    P999("added p99.9 µs", "added_p999_us", 0, (r, f) -> r.addedMicros(r.latency().p999())),
    ROUND("round", "round", (r, f) -> Integer.toString(r.round()));

    final String heading;
    final String csvName;
    final int decimals;
    final ToDoubleBiFunction<BenchRow, Refs> number;
    final BiFunction<BenchRow, Refs, String> text;

    Column(String heading, String csvName, BiFunction<BenchRow, Refs, String> text) {
      this(heading, csvName, -1, null, text);
    }

    Column(
        String heading, String csvName, int decimals, ToDoubleBiFunction<BenchRow, Refs> number) {
      this(heading, csvName, decimals, number, null);
    }

    Column(
        String heading,
        String csvName,
        int decimals,
        ToDoubleBiFunction<BenchRow, Refs> number,
        BiFunction<BenchRow, Refs, String> text) {
      this.heading = heading;
      this.csvName = csvName;
      this.decimals = decimals;
      this.number = number;
      this.text = text;
    }

    String value(BenchRow row, Refs refs) {
      return number == null
          ? text.apply(row, refs)
          : fixed(decimals, number.applyAsDouble(row, refs));
    }

    /** The row's total CPU over {@code ref}'s; NaN without one. */
    private static double ratio(BenchRow row, BenchRow ref) {
      return ref == null
          ? Double.NaN
          : row.cpuMicros(row.cpu().process()) / ref.cpuMicros(ref.cpu().process());
    }

    /** The first columns, which name a run's settings rather than measure it. */
    boolean names() {
      return ordinal() <= ROUTING.ordinal();
    }
  }

  /** The columns for {@code rows}: all of them, vs megatron only if Megatron ran. */
  private static List<Column> columns(List<BenchRow> rows) {
    boolean megatron = rows.stream().anyMatch(r -> r.run().target() == Target.MEGATRON);
    List<Column> out = new ArrayList<>();
    for (Column c : Column.values()) {
      if (c != Column.MEGATRON || megatron) {
        out.add(c);
      }
    }
    return out;
  }

  /** The rows as a Markdown table: a heading line, a rule, one line per row. */
  public static String table(List<BenchRow> rows) {
    List<Column> columns = columns(rows);
    StringBuilder b = heading(columns, false);
    for (BenchRow r : rows) {
      Refs refs = Refs.of(rows, r);
      b.append('|');
      for (Column c : columns) {
        b.append(' ').append(c.value(r, refs)).append(" |");
      }
      b.append('\n');
    }
    return b.toString();
  }

  /**
   * Each run's medians over the rounds, as a Markdown table: the settings, the number of rounds,
   * then every measured column as "median (lowest to highest)"; the median of an even number of
   * values is the mean of the middle two. {@code vs forwarder} is the median of the per-round
   * ratios (each taken side by side in its round), not a ratio of medians.
   */
  public static String summary(List<BenchRow> rows) {
    Map<LoadBench.Case, List<BenchRow>> byCase = new LinkedHashMap<>();
    for (BenchRow r : rows) {
      byCase.computeIfAbsent(r.run(), k -> new ArrayList<>()).add(r);
    }
    List<Column> columns = new ArrayList<>();
    for (Column c : columns(rows)) {
      if (c.names() || c.number != null) {
        columns.add(c);
      }
    }
    StringBuilder b = heading(columns, true);
    for (List<BenchRow> runs : byCase.values()) {
      b.append('|');
      for (Column c : columns) {
        b.append(' ').append(c.names() ? c.value(runs.get(0), null) : spread(c, runs, rows));
        b.append(" |");
        if (c == Column.ROUTING) {
          b.append(' ').append(runs.size()).append(" |");
        }
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** The rows as CSV: a header line, one line per row, every line ended by LF. */
  public static String csv(List<BenchRow> rows) {
    List<Column> columns = columns(rows);
    StringBuilder b = new StringBuilder();
    for (Column c : columns) {
      b.append(c.ordinal() == 0 ? "" : ",").append(c.csvName);
    }
    b.append('\n');
    for (BenchRow r : rows) {
      Refs refs = Refs.of(rows, r);
      for (Column c : columns) {
        b.append(c.ordinal() == 0 ? "" : ",").append(c.value(r, refs));
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** The heading line and the rule; with {@code rounds}, a "rounds" column after the names. */
  private static StringBuilder heading(List<Column> columns, boolean rounds) {
    StringBuilder b = new StringBuilder("|");
    StringBuilder rule = new StringBuilder("|");
    for (Column c : columns) {
      b.append(' ').append(c.heading).append(" |");
      rule.append(c.names() ? "---|" : "--:|");
      if (rounds && c == Column.ROUTING) {
        b.append(" rounds |");
        rule.append("--:|");
      }
    }
    return b.append('\n').append(rule).append('\n');
  }

  /** "median (lowest to highest)" of column {@code c} over {@code runs}; one value alone. */
  private static String spread(Column c, List<BenchRow> runs, List<BenchRow> all) {
    double[] v = new double[runs.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = c.number.applyAsDouble(runs.get(i), Refs.of(all, runs.get(i)));
    }
    Arrays.sort(v);
    int n = v.length;
    double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    String m = fixed(c.decimals, median);
    if (n == 1 || m.isEmpty()) {
      return m;
    }
    return m + " (" + fixed(c.decimals, v[0]) + " to " + fixed(c.decimals, v[n - 1]) + ")";
  }

  /**
   * {@code value} with {@code decimals} decimals; empty for NaN. A value that rounds to zero prints
   * without a sign: *other* is the process's time less its groups', sampled a moment apart, and can
   * come out a few nanoseconds below zero.
   */
  private static String fixed(int decimals, double value) {
    if (Double.isNaN(value)) {
      return "";
    }
    String s = String.format(Locale.ROOT, "%." + decimals + "f", value);
    return s.matches("-0(\\.0*)?") ? s.substring(1) : s;
  }
}
