package io.dpcoord.sim.simulate;

import static io.dpcoord.sim.simulate.LineChart.line;
import static io.dpcoord.sim.simulate.LineChart.num;
import static io.dpcoord.sim.simulate.LineChart.text;
import static io.dpcoord.sim.simulate.SimHtml.escape;

import java.util.Locale;

/**
 * One configuration's load as inline SVG: two bar charts side by side, requests routed to each
 * engine and each engine's busy time (time in steps), with the mean as a dashed line.
 *
 * <p>The bars are {@code <rect>}s with the engine in {@code data-x} and the value in {@code
 * data-y}, grouped as {@code <g data-series="load:label">} (requests) and {@code <g
 * data-series="busy:label">} (seconds). The axes are given, so that every configuration's panel can
 * share one scale and bars compare across panels.
 */
final class EngineBars {
  private static final int WIDTH = 620;
  private static final int HALF = WIDTH / 2;
  private static final int LEFT = 46;
  private static final int RIGHT = 12;
  private static final int TOP = 26;
  private static final int BOTTOM = TOP + 112;
  private static final int HEIGHT = BOTTOM + 36;
  private static final String REQUESTS_COLOUR = "#4e79a7";
  private static final String BUSY_COLOUR = "#f28e2b";

  private EngineBars() {}

  /** The panel of the configuration labelled {@code label}. */
  static String svg(
      String label,
      long[] requests,
      double[] busySeconds,
      LineChart.Axis requestsAxis,
      LineChart.Axis busyAxis) {
    double[] counts = new double[requests.length];
    String[] countText = new String[requests.length];
    for (int i = 0; i < requests.length; i++) {
      counts[i] = requests[i];
      countText[i] = Long.toString(requests[i]);
    }
    String[] busyText = new String[busySeconds.length];
    for (int i = 0; i < busySeconds.length; i++) {
      busyText[i] = SimColumn.Kind.SECONDS.csv(busySeconds[i]);
    }
    StringBuilder b = new StringBuilder();
    b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ")
        .append(WIDTH)
        .append(' ')
        .append(HEIGHT)
        .append("\" width=\"")
        .append(WIDTH)
        .append("\" height=\"")
        .append(HEIGHT)
        .append("\" role=\"img\" aria-label=\"")
        .append(escape("load per engine, " + label))
        .append("\">\n");
    bars(b, 0, "requests", "load:" + label, counts, countText, " requests", requestsAxis, true);
    bars(b, HALF, "busy time (s)", "busy:" + label, busySeconds, busyText, " s", busyAxis, false);
    b.append("</svg>");
    return b.toString();
  }

  private static void bars(
      StringBuilder b,
      int offset,
      String title,
      String series,
      double[] values,
      String[] dataY,
      String unit,
      LineChart.Axis axis,
      boolean counts) {
    int left = offset + LEFT;
    int right = offset + HALF - RIGHT;
    b.append(text(left, 15, "panel-title", title)).append('\n');
    b.append("<g class=\"grid\">");
    for (double t : axis.ticks()) {
      b.append(line(left, y(t, axis), right, y(t, axis), null, null, 1));
    }
    b.append("</g>\n<g class=\"axis\">").append(line(left, BOTTOM, right, BOTTOM, null, null, 1));
    for (double t : axis.ticks()) {
      b.append(
          "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"end\">%s</text>"
              .formatted(num(left - 6), num(y(t, axis) + 4), escape(axis.label().apply(t))));
    }
    int n = values.length;
    double band = (right - left) / (double) Math.max(1, n);
    int every = n <= 16 ? 1 : (int) Math.ceil(n / 8.0);
    for (int i = 0; i < n; i += every) {
      b.append(
          "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">%d</text>"
              .formatted(num(left + band * (i + 0.5)), num(BOTTOM + 14), i));
    }
    b.append("</g>\n");
    b.append(
        "<text class=\"axis-title\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">engine</text>\n"
            .formatted(num((left + right) / 2.0), num(BOTTOM + 30)));
    b.append("<g class=\"bars\" data-series=\"").append(escape(series)).append("\">");
    double width = Math.max(0.5, band * (n > 64 ? 0.9 : 0.72));
    for (int i = 0; i < n; i++) {
      double top = y(values[i], axis);
      b.append(
          "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" data-x=\"%d\""
                  .formatted(
                      num(left + band * i + (band - width) / 2),
                      num(top),
                      num(width),
                      num(BOTTOM - top),
                      counts ? REQUESTS_COLOUR : BUSY_COLOUR,
                      i)
              + " data-y=\"%s\"><title>engine %d: %s%s</title></rect>"
                  .formatted(escape(dataY[i]), i, escape(dataY[i]), unit));
    }
    b.append("</g>\n");
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    double mean = n == 0 ? 0 : sum / n;
    b.append("<g class=\"mean\">")
        .append(line(left, y(mean, axis), right, y(mean, axis), "#1f2328", "5 3", 1.2))
        .append("<title>")
        .append(
            escape(
                "mean "
                    + String.format(Locale.ROOT, counts ? "%.1f" : "%.3f", mean)
                    + unit.stripTrailing()))
        .append("</title></g>\n");
  }

  private static double y(double v, LineChart.Axis axis) {
    double f = v / axis.max();
    return BOTTOM - (BOTTOM - TOP) * (Double.isFinite(f) ? Math.max(0, Math.min(1, f)) : 0);
  }
}
