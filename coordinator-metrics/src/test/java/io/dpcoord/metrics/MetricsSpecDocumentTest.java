package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The code catalogue and docs/spec/METRICS.md must agree, in both directions. */
class MetricsSpecDocumentTest {
  private static final Path SPEC = Path.of("docs", "spec", "METRICS.md");

  private static Map<String, Row> documented;

  /** One row of a METRICS.md table. */
  private record Row(MetricType type, String meaning, boolean extension) {}

  @BeforeAll
  static void parseTheSpecification() throws IOException {
    documented = parse(Files.readAllLines(findSpec()));
    assertThat(documented).as("metric rows in " + SPEC).isNotEmpty();
  }

  @Test
  void everyDocumentedMetricIsInTheCatalogue() {
    List<String> missing = new ArrayList<>(documented.keySet());
    missing.removeAll(catalogueNames());
    assertThat(missing).as("in METRICS.md but not in enum Metric").isEmpty();
  }

  @Test
  void everyCatalogueMetricIsDocumented() {
    List<String> undocumented = new ArrayList<>(catalogueNames());
    undocumented.removeAll(documented.keySet());
    assertThat(undocumented).as("in enum Metric but not in METRICS.md").isEmpty();
  }

  @Test
  void catalogueKeepsTheDocumentsOrder() {
    assertThat(catalogueNames()).containsExactlyElementsOf(documented.keySet());
  }

  @Test
  void typesMeaningsAndTablesAgree() {
    SoftAssertions.assertSoftly(
        softly -> {
          for (Metric metric : Metric.values()) {
            Row row = documented.get(metric.metricName());
            if (row == null) {
              continue; // reported by everyCatalogueMetricIsDocumented
            }
            softly
                .assertThat(metric.type())
                .as("type of " + metric.metricName())
                .isEqualTo(row.type());
            softly
                .assertThat(metric.extension())
                .as("table of " + metric.metricName() + " (extension?)")
                .isEqualTo(row.extension());
            softly
                .assertThat(metric.description())
                .as("meaning of " + metric.metricName())
                .isEqualTo(row.meaning());
          }
        });
  }

  private static List<String> catalogueNames() {
    return Arrays.stream(Metric.values()).map(Metric::metricName).toList();
  }

  private static Path findSpec() {
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(SPEC))) {
        return dir.resolve(SPEC);
      }
    }
    return fail(SPEC + " not found in " + start + " or any parent directory");
  }

  /** The rows of every table in the document; rows after the "Extensions" line are extensions. */
  private static Map<String, Row> parse(List<String> lines) {
    Map<String, Row> rows = new LinkedHashMap<>();
    boolean extensions = false;
    for (String line : lines) {
      String text = line.strip();
      if (text.startsWith("Extensions")) {
        extensions = true;
      }
      if (!text.startsWith("|")) {
        continue;
      }
      String[] cells = text.substring(1).split("\\|", -1);
      String name = cells[0].strip();
      if (name.equals("name") || name.startsWith("---")) {
        continue; // header and separator rows
      }
      assertThat(cells.length).as("cells of row: " + line).isGreaterThanOrEqualTo(3);
      Row previous =
          rows.put(name, new Row(type(cells[1].strip(), line), cells[2].strip(), extensions));
      assertThat(previous).as("METRICS.md lists " + name + " twice").isNull();
    }
    return rows;
  }

  private static MetricType type(String text, String line) {
    return switch (text) {
      case "counter" -> MetricType.COUNTER;
      case "gauge" -> MetricType.GAUGE;
      case "histogram", "timer", "histogram/timer" -> MetricType.HISTOGRAM;
      default -> fail("unknown metric type '" + text + "' in METRICS.md row: " + line);
    };
  }
}
