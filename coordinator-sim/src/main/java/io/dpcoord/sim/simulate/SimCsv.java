package io.dpcoord.sim.simulate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A sweep's results as CSV: a header row, then one row per configuration in sweep order.
 *
 * <p>The columns, by header name: the configuration ({@code policy}, {@code alpha}, {@code ttl_s},
 * {@code index_capacity}, {@code engines}, {@code cache_blocks}, {@code eviction}), {@code
 * requests}, the hit ratios ({@code hit_ratio_blocks}, {@code hit_ratio_tokens}, {@code
 * predicted_hit_ratio}, {@code precision}, {@code bound_single}, {@code bound_routed}, {@code
 * best_now}), the latencies in virtual milliseconds ({@code ttft_p50_ms} ... {@code e2e_p99_ms}),
 * {@code requests_per_s}, {@code output_tokens_per_s}, {@code load_cv}, {@code
 * load_max_over_median}, {@code makespan_s}, {@code evictions}, the raw counts the ratios come from
 * ({@code prompt_blocks} ... {@code best_now_blocks}), and two per-engine lists in engine order,
 * {@code ;}-joined: {@code requests_per_engine} and {@code busy_s_per_engine}. {@code alpha} is the
 * configured value even under a policy that ignores it; {@code ttl_s} is 0 when entries never
 * expire. {@link SimColumn} defines them all.
 *
 * <p>The output depends only on the results: numbers are written in {@link java.util.Locale#ROOT}
 * with fixed decimals (6 for ratios, factors and seconds, 3 for milliseconds and rates), rows in
 * the order given, nothing from the wall clock; so the same seed and flags give byte-identical
 * files. Lines end with LF; a field holding a comma, a quote or a line break is quoted as RFC 4180
 * says (none of today's fields can, but the writer does not rely on it).
 */
public final class SimCsv {
  private SimCsv() {}

  /** The CSV of {@code results}: the header row and one row each, every line ended by LF. */
  public static String format(List<SimResult> results) {
    StringBuilder b = new StringBuilder();
    try {
      write(results, b);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringBuilder does not throw
    }
    return b.toString();
  }

  /** Writes {@link #format} to {@code file} in UTF-8, replacing it. */
  public static void write(List<SimResult> results, Path file) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      write(results, w);
    }
  }

  /** Appends the CSV of {@code results} to {@code out}. */
  public static void write(List<SimResult> results, Appendable out) throws IOException {
    SimColumn[] columns = SimColumn.values();
    for (int i = 0; i < columns.length; i++) {
      out.append(i == 0 ? "" : ",").append(field(columns[i].csvName));
    }
    out.append('\n');
    for (SimResult r : results) {
      for (int i = 0; i < columns.length; i++) {
        out.append(i == 0 ? "" : ",").append(field(columns[i].csv(r)));
      }
      out.append('\n');
    }
  }

  /** {@code s} as a CSV field: quoted, with quotes doubled, when it holds , " CR or LF. */
  static String field(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == ',' || c == '"' || c == '\r' || c == '\n') {
        return '"' + s.replace("\"", "\"\"") + '"';
      }
    }
    return s;
  }
}
