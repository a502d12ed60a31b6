package io.dpcoord.sim.simulate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sweep's results as one self-contained HTML page: the workload and the fixed parameters, two
 * charts against alpha, the results tables, and each configuration's load per engine.
 *
 * <p>The page loads nothing: CSS and SVG are inline, there is no script, fonts are the system's
 * sans-serif. It is also well-formed XML (every element closed, text and attributes escaped, only
 * XML's own entities), so tests and tools can read it with an XML parser. The only URL in it is the
 * SVG namespace. Like {@link SimCsv} it depends only on the results: the same results give the same
 * bytes.
 *
 * <p>Charts, each series a {@code <g data-series="...">} whose points carry {@code data-x} and
 * {@code data-y} (see {@link LineChart}, {@link EngineBars}):
 *
 * <ul>
 *   <li>{@code hit:<series>}: block hit ratio against alpha, one line per policy and variant
 *       ({@link SweepAxes#series}, e.g. {@code hit:longest_prefix} or {@code hit:longest_prefix
 *       cache=4096}); {@code data-y} is the ratio in [0, 1] with 6 decimals, as in the CSV. {@code
 *       bound:single}, the hit ratio of one infinite cache (the same for every configuration of a
 *       workload), is a reference line with its value in the group's {@code data-y}.
 *   <li>{@code ttft99:<series>}: TTFT p99 against alpha, in virtual milliseconds with 3 decimals.
 *   <li>{@code load:<label>} and {@code busy:<label>}: requests and busy seconds per engine of the
 *       configuration labelled {@code <label>} ({@link SweepAxes#label}), {@code data-x} the
 *       engine.
 * </ul>
 *
 * <p>A policy that ignores alpha (load_balanced, round_robin, or any with prefix caching off) is a
 * dashed horizontal line across the alpha axis at the mean of its results, each result marked at
 * the alpha it was configured with, and its group has {@code data-constant="true"}. The load
 * section shows every configuration when there are at most {@value #LOAD_PANELS}; beyond that, for
 * each series the configuration with the highest block hit ratio (the first of equals), at most
 * {@value #LOAD_PANELS}, and says so. All panels share one scale for requests and one for busy
 * time. In the tables the best block hit ratio and the lowest TTFT p99 are in bold.
 */
public final class SimHtml {
  /** The most configurations whose load per engine the page draws. */
  public static final int LOAD_PANELS = 12;

  private static final String CSS =
      """
      body { margin: 0; background: #f3f4f6; color: #1f2328;
        font: 14px/1.45 -apple-system, "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans",
          sans-serif; }
      main { max-width: 1340px; margin: 0 auto; padding: 24px 28px 36px; }
      h1 { font-size: 22px; font-weight: 600; margin: 0 0 2px; }
      h1 .workload { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 19px; }
      h2 { font-size: 16px; font-weight: 600; margin: 0 0 4px; }
      .sub { color: #57606a; margin: 0 0 14px; }
      .card { background: #fff; border: 1px solid #d8dee4; border-radius: 8px;
        padding: 16px 20px; margin: 0 0 18px; }
      dl.params { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr));
        gap: 3px 28px; margin: 0; }
      dl.params div { display: flex; justify-content: space-between; gap: 12px;
        border-bottom: 1px dotted #d8dee4; }
      dl.params div.wide { grid-column: span 2; }
      dt { color: #57606a; }
      dd { margin: 0; font-weight: 600; text-align: right; }
      p.swept { margin: 10px 0 0; }
      .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
      .charts .card { margin: 0; }
      figure { margin: 0; }
      figcaption { color: #57606a; font-size: 12.5px; margin: 0 0 8px; }
      .charts-row { margin: 0 0 18px; }
      svg { display: block; width: 100%; height: auto; }
      svg text { font-size: 12px; fill: #1f2328; }
      svg .tick { font-size: 11px; fill: #57606a; }
      svg .axis-title { font-size: 12px; fill: #424a53; }
      svg .panel-title { font-size: 12px; font-weight: 600; fill: #424a53; }
      svg .grid line { stroke: #eaeef2; stroke-width: 1; }
      svg .axis line { stroke: #8c959f; stroke-width: 1; }
      svg .series circle { stroke: #fff; stroke-width: 1; }
      .panels { display: grid; grid-template-columns: 1fr 1fr; gap: 14px 24px; margin-top: 12px; }
      .panel h3 { font-size: 13px; font-weight: 600; margin: 0 0 2px;
        font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
      .panel p { margin: 0 0 2px; color: #57606a; font-size: 12px; }
      .table-wrap { overflow-x: auto; margin: 8px 0 14px; }
      table { border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; }
      th, td { padding: 4px 10px; border-bottom: 1px solid #eaeef2; text-align: left;
        white-space: nowrap; }
      th { background: #f6f8fa; font-weight: 600; border-bottom: 1px solid #d0d7de; }
      th.num, td.num { text-align: right; }
      td.label { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
      td.best { font-weight: 700; color: #116329; }
      tbody tr:nth-child(even) { background: #fafbfc; }
      .notes { color: #57606a; font-size: 12px; margin: 0; }
      .empty { color: #57606a; }
      """;

  private SimHtml() {}

  /**
   * The page for {@code results} of the workload named {@code workload}.
   *
   * @param workload the workload's name as the header shows it (any text; it is escaped)
   * @param blockSize the workload's tokens per block
   */
  public static String format(String workload, int blockSize, List<SimResult> results) {
    SweepAxes axes = new SweepAxes(results);
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
        .append("<title>Routing simulation: ")
        .append(escape(workload))
        .append("</title>\n<style>\n")
        .append(CSS)
        .append("</style>\n</head>\n<body>\n<main>\n");
    header(b, workload, blockSize, results, axes);
    if (results.isEmpty()) {
      b.append("<p class=\"empty\">No configurations were simulated.</p>\n");
    } else {
      charts(b, results, axes);
      tables(b, results, axes);
      load(b, results, axes);
    }
    b.append("</main>\n</body>\n</html>\n");
    return b.toString();
  }

  /** Writes {@link #format} to {@code file} in UTF-8, replacing it. */
  public static void write(String workload, int blockSize, List<SimResult> results, Path file)
      throws IOException {
    Files.writeString(file, format(workload, blockSize, results), StandardCharsets.UTF_8);
  }

  private static void header(
      StringBuilder b, String workload, int blockSize, List<SimResult> results, SweepAxes axes) {
    b.append("<header class=\"card\">\n<h1>Routing simulation: <span class=\"workload\">")
        .append(escape(workload))
        .append("</span></h1>\n<p class=\"sub\">")
        .append(results.size())
        .append(results.size() == 1 ? " configuration" : " configurations");
    if (!results.isEmpty()) {
      b.append(" \u00b7 ").append(results.get(0).requests()).append(" requests");
    }
    b.append(" \u00b7 blocks of ")
        .append(blockSize)
        .append(" tokens \u00b7 times are virtual</p>\n<dl class=\"params\">\n");
    for (Map.Entry<String, String> e : axes.fixed(results)) {
      boolean wide = e.getKey().length() + e.getValue().length() > 36;
      b.append(wide ? "<div class=\"wide\"><dt>" : "<div><dt>")
          .append(escape(e.getKey()))
          .append("</dt><dd>")
          .append(escape(e.getValue()))
          .append("</dd></div>\n");
    }
    b.append("</dl>\n");
    if (!axes.varying().isEmpty()) {
      b.append("<p class=\"swept\"><strong>Swept:</strong> ");
      String sep = "";
      for (SweepAxes.Setting s : axes.varying()) {
        Set<String> values = new LinkedHashSet<>();
        results.forEach(r -> values.add(s.value(r.config())));
        b.append(sep).append(escape(s.key + ": " + String.join(", ", values)));
        sep = "; ";
      }
      b.append("</p>\n");
    }
    b.append("</header>\n");
  }

  private static void charts(StringBuilder b, List<SimResult> results, SweepAxes axes) {
    Map<String, List<SimResult>> bySeries = new LinkedHashMap<>();
    for (SimResult r : results) {
      bySeries.computeIfAbsent(axes.series(r.config()), k -> new ArrayList<>()).add(r);
    }
    List<LineChart.Series> hits = new ArrayList<>();
    List<LineChart.Series> ttfts = new ArrayList<>();
    double ttftMax = 0;
    for (Map.Entry<String, List<SimResult>> e : bySeries.entrySet()) {
      String name = e.getKey();
      boolean constant = !e.getValue().get(0).config().routing().routesByPrefix();
      List<LineChart.Point> hit = new ArrayList<>();
      List<LineChart.Point> ttft = new ArrayList<>();
      for (SimResult r : e.getValue()) {
        double alpha = r.config().routing().alpha();
        String x = SweepAxes.plain(alpha);
        String at = name + (constant ? "" : ", alpha " + x);
        hit.add(
            new LineChart.Point(
                alpha,
                r.hitRatio(),
                x,
                SimColumn.HIT_BLOCKS.csv(r),
                at + ": " + SimColumn.HIT_BLOCKS.text(r) + " of prompt blocks"));
        ttft.add(
            new LineChart.Point(
                alpha,
                r.ttftMs()[2],
                x,
                SimColumn.TTFT_P99.csv(r),
                at + ": TTFT p99 " + SimColumn.TTFT_P99.text(r) + " ms"));
        ttftMax = Math.max(ttftMax, r.ttftMs()[2]);
      }
      String label = constant ? name + " (ignores alpha)" : name;
      hits.add(new LineChart.Series("hit:" + name, label, constant, hit));
      ttfts.add(new LineChart.Series("ttft99:" + name, label, constant, ttft));
    }
    SimResult first = results.get(0);
    List<LineChart.Reference> bounds =
        List.of(
            new LineChart.Reference(
                "bound:single",
                "bound: one infinite cache for all requests ("
                    + SimColumn.BOUND_SINGLE.text(first)
                    + ")",
                first.boundSingle(),
                SimColumn.BOUND_SINGLE.csv(first)));
    LineChart.Axis alpha =
        new LineChart.Axis(1, 0.1, v -> SweepAxes.plain(Math.round(v * 10) / 10.0));
    String alphaTitle = "alpha (weight of the prefix match against free capacity)";

    b.append("<section class=\"charts charts-row\">\n");
    b.append("<figure class=\"card\">\n<h2>Prefix-cache hit ratio against alpha</h2>\n")
        .append("<figcaption>Prompt blocks served from the chosen engine's cache; dashed:")
        .append(" policies that ignore alpha; dotted: the bound.</figcaption>\n")
        .append(
            new LineChart(alphaTitle, alpha, "hit ratio (blocks, %)", LineChart.Axis.percent())
                .svg("hit ratio against alpha", hits, bounds))
        .append("\n</figure>\n");
    b.append("<figure class=\"card\">\n<h2>TTFT p99 against alpha</h2>\n")
        .append("<figcaption>99th percentile of time to first token, in virtual milliseconds;")
        .append(" dashed: policies that ignore alpha.</figcaption>\n")
        .append(
            new LineChart(alphaTitle, alpha, "TTFT p99 (ms)", LineChart.Axis.upTo(ttftMax))
                .svg("TTFT p99 against alpha", ttfts, List.of()))
        .append("\n</figure>\n");
    b.append("</section>\n");
  }

  private static void load(StringBuilder b, List<SimResult> results, SweepAxes axes) {
    List<Integer> shown = loadPanels(results, axes);
    long requestsMax = 0;
    double busyMax = 0;
    for (int i : shown) {
      for (long n : results.get(i).requestsPerEngine()) {
        requestsMax = Math.max(requestsMax, n);
      }
      for (double s : results.get(i).busySeconds()) {
        busyMax = Math.max(busyMax, s);
      }
    }
    LineChart.Axis requestsAxis = LineChart.Axis.upTo(requestsMax);
    LineChart.Axis busyAxis = LineChart.Axis.upTo(busyMax);
    b.append("<section class=\"card\">\n<h2>Load per engine</h2>\n<p class=\"notes\">")
        .append("Requests routed to each engine and its busy time (time spent in steps), on one")
        .append(" scale for all panels; the dashed line is the mean.");
    if (shown.size() < results.size()) {
      b.append(" Showing ")
          .append(shown.size())
          .append(" of ")
          .append(results.size())
          .append(" configurations: for each policy and variant, the one with the highest block")
          .append(" hit ratio, at most ")
          .append(LOAD_PANELS)
          .append('.');
    }
    b.append("</p>\n<div class=\"panels\">\n");
    for (int i : shown) {
      SimResult r = results.get(i);
      b.append("<div class=\"panel\">\n<h3>#")
          .append(i + 1)
          .append(' ')
          .append(escape(axes.label(i)))
          .append("</h3>\n<p>load CV ")
          .append(escape(SimColumn.LOAD_CV.text(r)))
          .append(" \u00b7 max/median ")
          .append(escape(SimColumn.LOAD_MAX_OVER_MEDIAN.text(r)))
          .append(" \u00b7 hit ratio ")
          .append(escape(SimColumn.HIT_BLOCKS.text(r)))
          .append("</p>\n")
          .append(
              EngineBars.svg(
                  axes.label(i), r.requestsPerEngine(), r.busySeconds(), requestsAxis, busyAxis))
          .append("\n</div>\n");
    }
    b.append("</div>\n</section>\n");
  }

  /** The indexes of the results whose load the page draws (see the class comment). */
  static List<Integer> loadPanels(List<SimResult> results, SweepAxes axes) {
    List<Integer> shown = new ArrayList<>();
    if (results.size() <= LOAD_PANELS) {
      for (int i = 0; i < results.size(); i++) {
        shown.add(i);
      }
      return shown;
    }
    Map<String, Integer> best = new LinkedHashMap<>();
    for (int i = 0; i < results.size(); i++) {
      String series = axes.series(results.get(i).config());
      Integer j = best.get(series);
      if (j == null || results.get(i).hitRatio() > results.get(j).hitRatio()) {
        best.put(series, i);
      }
    }
    best.values().stream().sorted().limit(LOAD_PANELS).forEach(shown::add);
    return shown;
  }

  private static void tables(StringBuilder b, List<SimResult> results, SweepAxes axes) {
    int bestHit = 0;
    int bestTtft = 0;
    for (int i = 1; i < results.size(); i++) {
      if (results.get(i).hitRatio() > results.get(bestHit).hitRatio()) {
        bestHit = i;
      }
      if (results.get(i).ttftMs()[2] < results.get(bestTtft).ttftMs()[2]) {
        bestTtft = i;
      }
    }
    b.append("<section class=\"card\">\n<h2>Results</h2>\n");
    b.append("<div class=\"table-wrap\">\n");
    table(b, results, axes, SimColumn.Part.CACHE, SimColumn.HIT_BLOCKS, bestHit);
    b.append("</div>\n<div class=\"table-wrap\">\n");
    table(b, results, axes, SimColumn.Part.SERVICE, SimColumn.TTFT_P99, bestTtft);
    b.append("</div>\n<p class=\"notes\">")
        .append(escape(String.join(" ", SimTable.NOTES)))
        .append("</p>\n</section>\n");
  }

  private static void table(
      StringBuilder b,
      List<SimResult> results,
      SweepAxes axes,
      SimColumn.Part part,
      SimColumn marked,
      int best) {
    List<SimColumn> columns = SimTable.columns(part);
    boolean labelled = part == SimColumn.Part.SERVICE;
    b.append("<table>\n<thead><tr><th class=\"num\">#</th>");
    if (labelled) {
      b.append("<th>configuration</th>");
    }
    for (SimColumn c : columns) {
      b.append(c.numeric ? "<th class=\"num\">" : "<th>").append(escape(c.heading)).append("</th>");
    }
    b.append("</tr></thead>\n<tbody>\n");
    for (int i = 0; i < results.size(); i++) {
      SimResult r = results.get(i);
      b.append("<tr><td class=\"num\">").append(i + 1).append("</td>");
      if (labelled) {
        b.append("<td class=\"label\">").append(escape(axes.label(i))).append("</td>");
      }
      for (SimColumn c : columns) {
        String cls = (c.numeric ? "num" : "") + (c == marked && i == best ? " best" : "");
        b.append(cls.isEmpty() ? "<td>" : "<td class=\"" + cls.strip() + "\">")
            .append(escape(c.text(r)))
            .append("</td>");
      }
      b.append("</tr>\n");
    }
    b.append("</tbody>\n</table>\n");
  }

  /**
   * {@code s} safe as XML text and as a quoted attribute value: {@code & < > " '} as references,
   * characters XML 1.0 forbids (control characters, lone surrogates) as U+FFFD.
   */
  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      switch (cp) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> {
          boolean allowed =
              cp == '\t'
                  || cp == '\n'
                  || cp == '\r'
                  || (cp >= 0x20 && cp <= 0xD7FF)
                  || (cp >= 0xE000 && cp <= 0xFFFD)
                  || cp >= 0x10000;
          b.appendCodePoint(allowed ? cp : 0xFFFD);
        }
      }
    }
    return b.toString();
  }
}
