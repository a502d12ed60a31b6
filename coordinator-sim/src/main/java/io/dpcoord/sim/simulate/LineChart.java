package io.dpcoord.sim.simulate;

import static io.dpcoord.sim.simulate.SimHtml.escape;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * An inline SVG line chart: gridlines, axes with titles, one polyline with markers per series, a
 * legend under the plot.
 *
 * <p>Each series is a {@code <g data-series="id">} holding its line and one {@code <circle>} per
 * point with the point's values in {@code data-x} and {@code data-y}, so the data can be read back
 * from the page. A constant series (a policy that ignores the x variable) is a dashed horizontal
 * line across the plot at the mean of its points, with its points marked where they were measured.
 * A reference ({@code bound:single}) is a grey dashed line with its value in {@code data-y} on the
 * group and no points. Series take colours in order from {@link #COLOURS}, so charts built from the
 * same list of series colour them alike.
 */
final class LineChart {
  /** Tableau 10: distinguishable, and readable in grey. */
  static final String[] COLOURS = {
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"
  };

  /** Average width of a character of 12 px sans-serif, for laying out the legend. */
  static final double CHAR_WIDTH = 6.6;

  private static final int WIDTH = 640;
  private static final int LEFT = 66;
  private static final int RIGHT = WIDTH - 18;
  private static final int TOP = 14;
  private static final int BOTTOM = TOP + 270;
  private static final int LEGEND_ROW = 20;

  /**
   * A measured point.
   *
   * @param dataX {@code x} as {@code data-x} writes it
   * @param dataY {@code y} as {@code data-y} writes it
   * @param tip the marker's tooltip
   */
  record Point(double x, double y, String dataX, String dataY, String tip) {}

  /**
   * A line.
   *
   * @param id its {@code data-series}
   * @param label its legend entry
   * @param constant drawn as a horizontal line: the series does not depend on x
   */
  record Series(String id, String label, boolean constant, List<Point> points) {}

  /** A horizontal reference line (a bound) at {@code y}, labelled in the legend. */
  record Reference(String id, String label, double y, String dataY) {}

  /**
   * An axis from 0 to {@code max} with a tick every {@code step}.
   *
   * @param label a tick's text
   */
  record Axis(double max, double step, DoubleFunction<String> label) {
    /** An axis from 0 to a round number at or above {@code dataMax}, 4 to 7 ticks. */
    static Axis upTo(double dataMax) {
      double top = dataMax > 0 && Double.isFinite(dataMax) ? dataMax : 1;
      double raw = top / 6;
      double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
      double f = raw / magnitude;
      double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * magnitude;
      double max = Math.ceil(top / step - 1e-9) * step;
      int decimals = 0;
      while (decimals < 9
          && Math.abs(step * Math.pow(10, decimals) - Math.rint(step * Math.pow(10, decimals)))
              > 1e-6) {
        decimals++;
      }
      String format = "%." + decimals + "f";
      return new Axis(max, step, v -> String.format(Locale.ROOT, format, v));
    }

    /** 0 to 1 shown as 0% to 100%, a tick every 10%. */
    static Axis percent() {
      return new Axis(1, 0.1, v -> String.format(Locale.ROOT, "%.0f%%", v * 100));
    }

    /** The tick values, 0 first. */
    List<Double> ticks() {
      List<Double> ticks = new ArrayList<>();
      int n = (int) Math.round(max / step);
      for (int i = 0; i <= n; i++) {
        ticks.add(i * step);
      }
      return ticks;
    }
  }

  private final String xTitle;
  private final String yTitle;
  private final Axis x;
  private final Axis y;

  LineChart(String xTitle, Axis x, String yTitle, Axis y) {
    this.xTitle = xTitle;
    this.x = x;
    this.yTitle = yTitle;
    this.y = y;
  }

  /** The chart as an {@code <svg>} element; {@code name} is its accessible name. */
  String svg(String name, List<Series> series, List<Reference> references) {
    int entries = series.size() + references.size();
    int longest = 0;
    for (Series s : series) {
      longest = Math.max(longest, s.label().length());
    }
    for (Reference r : references) {
      longest = Math.max(longest, r.label().length());
    }
    int columnWidth = (int) Math.ceil(34 + longest * CHAR_WIDTH + 16);
    int columns = Math.max(1, Math.min(entries, (RIGHT - LEFT + 16) / columnWidth));
    int rows = (entries + columns - 1) / columns;
    int legendTop = BOTTOM + 60;
    int height = legendTop + rows * LEGEND_ROW + 4;

    StringBuilder b = new StringBuilder();
    b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ")
        .append(WIDTH)
        .append(' ')
        .append(height)
        .append("\" width=\"")
        .append(WIDTH)
        .append("\" height=\"")
        .append(height)
        .append("\" role=\"img\" aria-label=\"")
        .append(escape(name))
        .append("\">\n");
    axes(b);
    for (Reference r : references) {
      double py = py(r.y());
      b.append("<g class=\"reference\" data-series=\"")
          .append(escape(r.id()))
          .append("\" data-y=\"")
          .append(escape(r.dataY()))
          .append("\">")
          .append(line(LEFT, py, RIGHT, py, "#8c959f", "2 4", 1.5))
          .append("<title>")
          .append(escape(r.label()))
          .append("</title></g>\n");
    }
    for (int i = 0; i < series.size(); i++) {
      series(b, series.get(i), i);
    }
    b.append("<g class=\"legend\">\n");
    for (int i = 0; i < entries; i++) {
      double lx = LEFT - 8 + (i % columns) * (double) columnWidth;
      double ly = legendTop + (i / columns) * LEGEND_ROW;
      if (i < series.size()) {
        Series s = series.get(i);
        String colour = colour(i);
        b.append(line(lx, ly, lx + 26, ly, colour, dash(s, i), 2))
            .append(circle(lx + 13, ly, colour))
            .append(text(lx + 34, ly + 4, "legend-label", s.label()))
            .append('\n');
      } else {
        Reference r = references.get(i - series.size());
        b.append(line(lx, ly, lx + 26, ly, "#8c959f", "2 4", 1.5))
            .append(text(lx + 34, ly + 4, "legend-label", r.label()))
            .append('\n');
      }
    }
    b.append("</g>\n</svg>");
    return b.toString();
  }

  private void axes(StringBuilder b) {
    b.append("<g class=\"grid\">");
    for (double t : y.ticks()) {
      b.append(line(LEFT, py(t), RIGHT, py(t), null, null, 1));
    }
    for (double t : x.ticks()) {
      b.append(line(px(t), TOP, px(t), BOTTOM, null, null, 1));
    }
    b.append("</g>\n<g class=\"axis\">")
        .append(line(LEFT, BOTTOM, RIGHT, BOTTOM, null, null, 1))
        .append(line(LEFT, TOP, LEFT, BOTTOM, null, null, 1));
    for (double t : y.ticks()) {
      b.append(
          "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"end\">%s</text>"
              .formatted(num(LEFT - 8), num(py(t) + 4), escape(y.label().apply(t))));
    }
    for (double t : x.ticks()) {
      b.append(
          "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>"
              .formatted(num(px(t)), num(BOTTOM + 18), escape(x.label().apply(t))));
    }
    b.append("</g>\n");
    b.append(
        "<text class=\"axis-title\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>\n"
            .formatted(num((LEFT + RIGHT) / 2.0), num(BOTTOM + 40), escape(xTitle)));
    String rotated =
        "<text class=\"axis-title\" transform=\"translate(16 %s) rotate(-90)\""
            + " text-anchor=\"middle\">%s</text>\n";
    b.append(rotated.formatted(num((TOP + BOTTOM) / 2.0), escape(yTitle)));
  }

  private void series(StringBuilder b, Series s, int index) {
    String colour = colour(index);
    List<Point> points = new ArrayList<>(s.points());
    points.sort(Comparator.comparingDouble(Point::x));
    b.append("<g class=\"series\" data-series=\"")
        .append(escape(s.id()))
        .append(s.constant() ? "\" data-constant=\"true" : "")
        .append("\">");
    if (s.constant()) {
      double mean = points.stream().mapToDouble(Point::y).average().orElse(0);
      b.append(line(LEFT, py(mean), RIGHT, py(mean), colour, dash(s, index), 2));
    } else {
      StringBuilder coords = new StringBuilder();
      for (Point p : points) {
        coords.append(coords.length() == 0 ? "" : " ").append(num(px(p.x()))).append(',');
        coords.append(num(py(p.y())));
      }
      b.append("<polyline points=\"")
          .append(coords)
          .append("\" fill=\"none\" stroke=\"")
          .append(colour)
          .append("\" stroke-width=\"2\"")
          .append(dashAttribute(dash(s, index)))
          .append("/>");
    }
    for (Point p : points) {
      b.append("<circle cx=\"")
          .append(num(px(p.x())))
          .append("\" cy=\"")
          .append(num(py(p.y())))
          .append("\" r=\"3.5\" fill=\"")
          .append(colour)
          .append("\" data-x=\"")
          .append(escape(p.dataX()))
          .append("\" data-y=\"")
          .append(escape(p.dataY()))
          .append("\"><title>")
          .append(escape(p.tip()))
          .append("</title></circle>");
    }
    b.append("</g>\n");
  }

  private double px(double v) {
    return LEFT + (RIGHT - LEFT) * clamp(v / x.max());
  }

  private double py(double v) {
    return BOTTOM - (BOTTOM - TOP) * clamp(v / y.max());
  }

  private static double clamp(double f) {
    return Double.isFinite(f) ? Math.max(0, Math.min(1, f)) : 0;
  }

  static String colour(int index) {
    return COLOURS[index % COLOURS.length];
  }

  /** Dashed for a constant series; after the palette's first round, dotted to stay distinct. */
  private static String dash(Series s, int index) {
    return s.constant() ? "7 4" : index >= COLOURS.length ? "2 3" : null;
  }

  private static String dashAttribute(String dash) {
    return dash == null ? "" : " stroke-dasharray=\"" + dash + "\"";
  }

  static String line(
      double x1, double y1, double x2, double y2, String colour, String dash, double width) {
    return "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"%s%s/>"
        .formatted(
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            colour == null
                ? ""
                : " stroke=\"" + colour + "\" stroke-width=\"" + SweepAxes.plain(width) + "\"",
            dashAttribute(dash));
  }

  private static String circle(double cx, double cy, String colour) {
    return "<circle cx=\"%s\" cy=\"%s\" r=\"3.5\" fill=\"%s\"/>"
        .formatted(num(cx), num(cy), colour);
  }

  static String text(double x, double y, String cssClass, String text) {
    return "<text class=\"%s\" x=\"%s\" y=\"%s\">%s</text>"
        .formatted(cssClass, num(x), num(y), escape(text));
  }

  /** A coordinate with one decimal, {@link Locale#ROOT}. */
  static String num(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }
}
