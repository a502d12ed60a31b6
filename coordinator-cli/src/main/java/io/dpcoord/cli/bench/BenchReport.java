package io.dpcoord.cli.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;

/**
 * The load benchmark's rows as a Markdown table and as CSV, with the same columns.
 *
 * <p>CPU columns are µs per measured request of the server JVM's threads by group ({@link
 * ServerCpu}); {@code vs forwarder} is the row's total CPU over the forwarder's at the same prompt
 * length in the same invocation (empty without one); latencies are µs added to the engines' service
 * time (nearest-rank percentiles).
 */
public final class BenchReport {
  private BenchReport() {}

  /**
   * A column: its table heading, CSV name and value (the row, then the forwarder's row or null).
   */
  private enum Column {
    TARGET("target", "target", (r, f) -> r.run().target().cliName()),
    PROMPT("prompt tokens", "prompt_tokens", (r, f) -> Integer.toString(r.run().promptTokens())),
    ROUTING("routing", "routing", (r, f) -> r.run().routingName()),
    REQUESTS("requests", "requests", (r, f) -> Integer.toString(r.requests())),
    RATE("requests/s", "requests_per_s", (r, f) -> fixed(0, r.requestsPerSecond())),
    TOTAL("CPU µs/req", "cpu_us_per_request", (r, f) -> fixed(1, r.cpuMicros(r.cpu().process()))),
    LOOP("loop", "loop_us", (r, f) -> fixed(1, r.cpuMicros(r.cpu().loop()))),
    IO("I/O", "io_us", (r, f) -> fixed(1, r.cpuMicros(r.cpu().io()))),
    WORKERS("workers", "workers_us", (r, f) -> fixed(1, r.cpuMicros(r.cpu().workers()))),
    GC("GC", "gc_us", (r, f) -> fixed(1, r.cpuMicros(r.cpu().gc()))),
    JIT("JIT", "jit_us", (r, f) -> fixed(1, r.cpuMicros(r.cpu().jit()))),
    OTHER("other", "other_us", (r, f) -> fixed(1, r.cpuMicros(r.cpu().other()))),
    FLOOR(
        "vs forwarder",
        "cpu_vs_forwarder",
        (r, f) ->
            f == null
                ? ""
                : fixed(2, r.cpuMicros(r.cpu().process()) / f.cpuMicros(f.cpu().process()))),
    P50("added p50 µs", "added_p50_us", (r, f) -> fixed(0, r.addedMicros(r.latency().p50()))),
    P99("added p99 µs", "added_p99_us", (r, f) -> fixed(0, r.addedMicros(r.latency().p99()))),
    P999("added p99.9 µs", "added_p999_us", (r, f) -> fixed(0, r.addedMicros(r.latency().p999())));

    final String heading;
    final String csvName;
    final BiFunction<BenchRow, BenchRow, String> value;

    Column(String heading, String csvName, BiFunction<BenchRow, BenchRow, String> value) {
      this.heading = heading;
      this.csvName = csvName;
      this.value = value;
    }
  }

  /** The rows as a Markdown table: a heading line, a rule, one line per row. */
  public static String table(List<BenchRow> rows) {
    StringBuilder b = new StringBuilder("|");
    for (Column c : Column.values()) {
      b.append(' ').append(c.heading).append(" |");
    }
    b.append("\n|");
    for (Column c : Column.values()) {
      b.append(c.ordinal() <= Column.ROUTING.ordinal() ? "---|" : "--:|");
    }
    b.append('\n');
    for (BenchRow r : rows) {
      b.append('|');
      for (Column c : Column.values()) {
        b.append(' ').append(c.value.apply(r, floor(rows, r))).append(" |");
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** The rows as CSV: a header line, one line per row, every line ended by LF. */
  public static String csv(List<BenchRow> rows) {
    StringBuilder b = new StringBuilder();
    for (Column c : Column.values()) {
      b.append(c.ordinal() == 0 ? "" : ",").append(c.csvName);
    }
    b.append('\n');
    for (BenchRow r : rows) {
      for (Column c : Column.values()) {
        b.append(c.ordinal() == 0 ? "" : ",").append(c.value.apply(r, floor(rows, r)));
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** The forwarder's row at {@code row}'s prompt length, or null. */
  private static BenchRow floor(List<BenchRow> rows, BenchRow row) {
    for (BenchRow r : rows) {
      if (r.run().target() == Target.FORWARDER
          && r.run().promptTokens() == row.run().promptTokens()) {
        return r;
      }
    }
    return null;
  }

  private static String fixed(int decimals, double value) {
    return String.format(Locale.ROOT, "%." + decimals + "f", value);
  }
}
