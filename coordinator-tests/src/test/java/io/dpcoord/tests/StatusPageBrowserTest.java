package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page of {@code serve --prometheus-port} in a real browser: Debian's headless Chromium
 * loads it after a load run, lets its script fetch {@code /status.json} and draw, and dumps the
 * DOM, whose figures and chart attributes must be those of the data endpoint.
 */
@Timeout(90)
class StatusPageBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final long BROWSER_SECONDS = 45;

  @TempDir Path temp;

  @Test
  void theRenderedPageShowsTheFiguresAndSeriesOfStatusJson() throws Exception {
    if (!Files.isExecutable(CHROMIUM)) {
      fail(CHROMIUM + " is missing: apt-get install chromium (./test installs it as root)");
    }
    try (MonitoredServe s = MonitoredServe.start(temp, 2)) {
      for (int i = 0; i < 40; i++) {
        s.roundTrip(i, SubmitForwardingTest.tokens(32, 1000L * (i % 8 + 1)));
      }
      s.client.expectNothingMore();
      s.awaitSampleAfterTraffic();
      JsonNode before = s.status();
      String dom = dumpDom(s.base.toString());
      JsonNode after = s.status();

      assertThat(attribute(dom, "body", "data-loaded")).isEqualTo("true");
      assertThat(text(dom, "coordinator")).isEqualTo("monitored");
      for (String figure : List.of("submitted", "completed", "failed", "inFlight")) {
        assertThat(attribute(dom, "dd id=\"" + figure + "\"", "data-value"))
            .as(figure)
            .isEqualTo(before.get(figure).asText());
      }
      assertThat(attribute(dom, "dd id=\"submitted\"", "data-value")).isEqualTo("40");
      assertThat(attribute(dom, "dd id=\"engines\"", "data-value")).isEqualTo("2");
      assertThat(text(dom, "engines")).isEqualTo("2 / 2");
      assertThat(Double.parseDouble(attribute(dom, "dd id=\"hitRatio\"", "data-value")))
          .isEqualTo(before.get("hitRatio").asDouble());

      int samples = Integer.parseInt(attribute(dom, "figure id=\"rps\"", "data-samples"));
      assertThat(samples).isBetween(before.get("samples").size(), after.get("samples").size());
      assertThat(Double.parseDouble(attribute(dom, "figure id=\"rps\"", "data-max")))
          .isEqualTo(max(series(before, "requestsPerSecond")))
          .isPositive();
      assertThat(Double.parseDouble(attribute(dom, "figure id=\"p99\"", "data-max")))
          .isEqualTo(max(series(before, "p99Micros")));
      assertThat(attribute(dom, "figure id=\"hit\"", "data-samples")).isEqualTo("" + samples);
      assertThat(attribute(dom, "figure id=\"pending\"", "data-series")).isEqualTo("2");
      assertThat(all(dom, "data-engine=\"([^\"]+)\"")).containsExactly("mp-coord-0", "mp-coord-1");
    }
  }

  /** Chromium's DOM of {@code url} after its scripts ran for five seconds of virtual time. */
  private String dumpDom(String url) throws Exception {
    Path profile = Files.createTempDirectory(temp, "chromium");
    Path out = temp.resolve("dom.html");
    Path err = temp.resolve("chromium.stderr");
    Process chromium =
        new ProcessBuilder(
                CHROMIUM.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + profile,
                "--window-size=1280,900",
                "--virtual-time-budget=5000",
                "--dump-dom",
                url)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    try {
      if (!chromium.waitFor(BROWSER_SECONDS, TimeUnit.SECONDS)) {
        fail(
            "chromium did not finish in "
                + BROWSER_SECONDS
                + " s; stderr: "
                + Files.readString(err));
      }
    } finally {
      chromium.destroyForcibly();
    }
    String dom = Files.readString(out);
    assertThat(dom).as("chromium's DOM; stderr: %s", Files.readString(err)).contains("</html>");
    return dom;
  }

  private static List<Double> series(JsonNode status, String field) {
    return StreamSupport.stream(status.get("samples").spliterator(), false)
        .map(sample -> sample.get(field))
        .filter(value -> !value.isNull())
        .map(JsonNode::asDouble)
        .toList();
  }

  private static double max(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
  }

  /** The value of {@code name} in the first start tag that begins with {@code tag}. */
  private static String attribute(String dom, String tag, String name) {
    Matcher element = Pattern.compile("<" + Pattern.quote(tag) + "[^>]*>").matcher(dom);
    assertThat(element.find()).as("<%s ...> in the DOM", tag).isTrue();
    Matcher value = Pattern.compile(" " + name + "=\"([^\"]*)\"").matcher(element.group());
    assertThat(value.find()).as("%s of %s", name, element.group()).isTrue();
    return value.group(1);
  }

  /** The text of the element with that id (no nested tags). */
  private static String text(String dom, String id) {
    Matcher m = Pattern.compile(" id=\"" + id + "\"[^>]*>([^<]*)<").matcher(dom);
    assertThat(m.find()).as("element #%s", id).isTrue();
    return m.group(1);
  }

  private static List<String> all(String dom, String regex) {
    List<String> found = new ArrayList<>();
    Matcher m = Pattern.compile(regex).matcher(dom);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }
}
