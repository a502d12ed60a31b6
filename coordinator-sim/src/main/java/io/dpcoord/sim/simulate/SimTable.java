package io.dpcoord.sim.simulate;

import java.util.ArrayList;
import java.util.List;

/**
 * A sweep's results as plain-text tables for a terminal, one row per configuration.
 *
 * <p>All the columns in one row would be about 250 characters wide, so the text is two tables
 * stacked, joined by the row number {@code #}: the first holds the configuration (policy, alpha,
 * ttl, index capacity, engines, cache blocks, eviction) and its prefix-cache hits (block and token
 * hit ratios, the router's predicted hit ratio and its precision, and the two bounds); the second,
 * headed by the configuration's label, holds the latencies, throughput and load (TTFT and E2E
 * p50/p90/p99 in virtual milliseconds, requests per second, the coefficient of variation and the
 * max/median of busy time per engine, and requests per engine, the first {@value
 * SimColumn#COMPACT_ENGINES} engines then {@code ...+n}). Ratios are percentages with one decimal;
 * numbers are right-aligned, text left-aligned; a note under the tables says what the columns mean.
 * {@link SimCsv} has every value at full precision.
 */
public final class SimTable {
  private static final String GAP = "  ";

  /** What the abbreviated headings mean, printed under the tables. */
  static final List<String> NOTES =
      List.of(
          "hit blk, hit tok: share of prompt blocks, tokens served from the chosen engine's cache.",
          "predicted: blocks the router believed cached there; precision: the share of those that"
              + " were.",
          "bound 1: hit ratio of one infinite cache for all requests; bound N: of an infinite cache"
              + " per engine.",
          "alpha -: the policy ignores alpha. Latencies in virtual ms; load CV and max/med: of busy"
              + " time per engine.");

  private SimTable() {}

  /** The two tables and the notes, every line ended by LF; one line when there are no results. */
  public static String format(List<SimResult> results) {
    if (results.isEmpty()) {
      return "no results\n";
    }
    SweepAxes axes = new SweepAxes(results);
    StringBuilder b = new StringBuilder();
    b.append("Configurations and prefix-cache hits\n");
    table(b, results, SimColumn.Part.CACHE, null);
    b.append("\nLatency, throughput and load\n");
    table(b, results, SimColumn.Part.SERVICE, axes);
    b.append('\n');
    NOTES.forEach(n -> b.append(n).append('\n'));
    return b.toString();
  }

  /** The columns a table of {@code part} shows, in order. */
  static List<SimColumn> columns(SimColumn.Part part) {
    List<SimColumn> columns = new ArrayList<>();
    for (SimColumn c : SimColumn.values()) {
      if (c.part == part) {
        columns.add(c);
      }
    }
    return columns;
  }

  /** One table: {@code #}, then the label when {@code axes} is given, then the part's columns. */
  private static void table(
      StringBuilder b, List<SimResult> results, SimColumn.Part part, SweepAxes axes) {
    List<SimColumn> columns = columns(part);
    List<String> headings = new ArrayList<>();
    List<Boolean> numeric = new ArrayList<>();
    headings.add("#");
    numeric.add(true);
    if (axes != null) {
      headings.add("configuration");
      numeric.add(false);
    }
    for (SimColumn c : columns) {
      headings.add(c.heading);
      numeric.add(c.numeric);
    }
    List<List<String>> rows = new ArrayList<>();
    for (int i = 0; i < results.size(); i++) {
      List<String> row = new ArrayList<>();
      row.add(Integer.toString(i + 1));
      if (axes != null) {
        row.add(axes.label(i));
      }
      for (SimColumn c : columns) {
        row.add(c.text(results.get(i)));
      }
      rows.add(row);
    }
    int[] widths = new int[headings.size()];
    for (int c = 0; c < widths.length; c++) {
      widths[c] = headings.get(c).length();
      for (List<String> row : rows) {
        widths[c] = Math.max(widths[c], row.get(c).length());
      }
    }
    line(b, headings, numeric, widths);
    List<String> rules = new ArrayList<>();
    for (int w : widths) {
      rules.add("-".repeat(w));
    }
    line(b, rules, numeric, widths);
    rows.forEach(row -> line(b, row, numeric, widths));
  }

  private static void line(
      StringBuilder b, List<String> cells, List<Boolean> numeric, int[] widths) {
    int start = b.length();
    for (int c = 0; c < cells.size(); c++) {
      String cell = cells.get(c);
      String pad = " ".repeat(widths[c] - cell.length());
      b.append(c == 0 ? "" : GAP).append(numeric.get(c) ? pad + cell : cell + pad);
    }
    int end = b.length();
    while (end > start && b.charAt(end - 1) == ' ') {
      end--;
    }
    b.setLength(end);
    b.append('\n');
  }
}
