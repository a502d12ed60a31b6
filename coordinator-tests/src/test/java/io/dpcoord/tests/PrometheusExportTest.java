package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpcoord.cli.monitor.MonitoringServer;
import io.dpcoord.metrics.Metric;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --prometheus-port}: the exposition parsed by Prometheus's Python client, its names
 * against docs/spec/METRICS.md, its labels, its counters against the traffic sent; {@code
 * /status.json}; and the committed Grafana dashboard against what the exporter serves.
 */
@Timeout(60)
class PrometheusExportTest {
  private static final Path DASHBOARD = Path.of("docs", "grafana", "coordinator.json");

  @TempDir Path temp;

  /** Ten requests over five prompts of two blocks: each prompt misses once, then hits. */
  private static void traffic(MonitoredServe s) {
    for (int i = 0; i < 10; i++) {
      s.roundTrip(i, SubmitForwardingTest.tokens(32, 1000L * (i % 5 + 1)));
    }
    s.client.expectNothingMore();
  }

  @Test
  void theExpositionParsesNamesEveryCatalogueMetricAndItsCountersFollowTheTraffic()
      throws Exception {
    try (MonitoredServe s = MonitoredServe.start(temp, 2)) {
      Exposition before = Exposition.parse(s.get("metrics"), temp);
      traffic(s);
      Exposition after = Exposition.parse(s.get("metrics"), temp);

      Set<String> names = after.sampleNames();
      for (Metric metric : Metric.values()) {
        String name = metric.metricName();
        switch (metric.type()) {
          case COUNTER, GAUGE -> assertThat(names).as(name).contains(name);
          case HISTOGRAM ->
              assertThat(names).contains(name + "_bucket", name + "_count", name + "_sum");
        }
      }
      assertThat(after.samples())
          .allSatisfy(
              sample -> assertThat(sample.labels()).containsEntry("coordinator", "monitored"));

      assertThat(after.named(MonitoringServer.ENGINE_PENDING))
          .extracting(sample -> sample.labels().get("engine"))
          .containsExactlyInAnyOrder("mp-coord-0", "mp-coord-1");
      assertThat(after.named(MonitoringServer.ENGINE_PENDING)).allMatch(e -> e.value() == 0);

      String submitted = "coordinator_requests_submitted_total";
      assertThat(after.value(submitted) - before.value(submitted)).isEqualTo(10);
      assertThat(after.value("coordinator_requests_completed_total")).isEqualTo(10);
      assertThat(after.value("routing_cache_hit_total")).isEqualTo(5);
      assertThat(after.value("routing_cache_miss_total")).isEqualTo(5);
      assertThat(after.value("coordinator_active_engines")).isEqualTo(2);
      assertThat(after.value("coordinator_routing_latency_seconds_count")).isEqualTo(10);
      assertThat(after.value("routing_prefix_match_ratio_sum")).isEqualTo(5); // five full matches

      List<Exposition.Sample> buckets = after.named("coordinator_routing_latency_seconds_bucket");
      assertThat(buckets.get(0).labels()).containsEntry("le", "1.0E-6");
      assertThat(buckets.get(buckets.size() - 1).labels()).containsEntry("le", "+Inf");
      assertThat(buckets.get(buckets.size() - 1).value()).isEqualTo(10);
      assertThat(buckets).extracting(Exposition.Sample::value).isSorted();
    }
  }

  @Test
  void statusJsonHoldsTheSummaryAndOneSampleASecond() throws Exception {
    try (MonitoredServe s = MonitoredServe.start(temp, 2)) {
      s.awaitSamples(1); // the traffic lands in the intervals of later samples
      traffic(s);
      s.awaitSampleAfterTraffic();
      JsonNode status = s.status();
      assertThat(status.get("coordinator").asText()).isEqualTo("monitored");
      assertThat(status.get("state").asText()).isEqualTo("RUNNING");
      assertThat(status.get("enginesActive").asInt()).isEqualTo(2);
      assertThat(status.get("enginesExpected").asInt()).isEqualTo(2);
      assertThat(status.get("submitted").asLong()).isEqualTo(10);
      assertThat(status.get("completed").asLong()).isEqualTo(10);
      assertThat(status.get("failed").asLong()).isZero();
      assertThat(status.get("inFlight").asInt()).isZero();
      assertThat(status.get("hitRatio").asDouble()).isEqualTo(0.5);
      assertThat(status.get("p50Micros").asDouble()).isPositive();
      assertThat(status.get("p99Micros").asDouble())
          .isGreaterThanOrEqualTo(status.get("p50Micros").asDouble());
      assertThat(status.get("engines").findValuesAsText("engine"))
          .containsExactly("mp-coord-0", "mp-coord-1");
      JsonNode last = status.get("samples").get(status.get("samples").size() - 1);
      assertThat(last.get("pending").size()).isEqualTo(2);
      // each sample's rate times its interval counts its requests: the ten sent, give or take the
      // difference between the wall clock of the timestamps and the monotonic one of the rates
      double counted = 0;
      JsonNode samples = status.get("samples");
      for (int i = 1; i < samples.size(); i++) {
        double seconds =
            (samples.get(i).get("time").asLong() - samples.get(i - 1).get("time").asLong()) / 1e3;
        counted += samples.get(i).get("requestsPerSecond").asDouble() * seconds;
      }
      assertThat(counted).as("requests counted by the samples").isCloseTo(10, within(0.5));
    }
  }

  @Test
  void thePageIsSelfContainedAndOtherPathsAndMethodsAreRefused() throws Exception {
    try (MonitoredServe s = MonitoredServe.start(temp, 1)) {
      String page = s.get("");
      assertThat(page).contains("<canvas", "fetch(\"status.json\"");
      assertThat(page).doesNotContain("<script src", "<link", "http://", "https://", "@import");
      assertThat(s.request("GET", "nope").statusCode()).isEqualTo(404);
      assertThat(s.request("POST", "status.json").statusCode()).isEqualTo(405);
      assertThat(s.request("GET", "metrics").headers().firstValue("Content-Type"))
          .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
    }
  }

  @Test
  void everyPanelOfTheGrafanaDashboardQueriesMetricsTheExporterServes() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(findUp(DASHBOARD).toFile());
    List<JsonNode> panels = new ArrayList<>();
    collectPanels(dashboard, panels);
    assertThat(panels).as("panels with queries").hasSizeGreaterThanOrEqualTo(6);
    List<String> queries = new ArrayList<>(dashboard.findValuesAsText("definition"));
    assertThat(queries).as("the coordinator variable's query").hasSize(1);
    try (MonitoredServe s = MonitoredServe.start(temp, 1)) {
      Set<String> queried = new TreeSet<>();
      for (JsonNode panel : panels) {
        for (JsonNode target : panel.get("targets")) {
          String expr = target.get("expr").asText();
          List<String> names = metricNames(expr);
          assertThat(names).as("metrics in '%s' of %s", expr, panel.get("title")).isNotEmpty();
          queried.addAll(names);
        }
      }
      queries.forEach(query -> queried.addAll(metricNames(query)));
      // the per-engine samples come with the loop's first housekeeping after the registration
      Await.until(
          "the per-engine samples",
          () -> s.get("metrics").contains("\ncoordinator_engine_pending_requests{"),
          () -> s.get("metrics"));
      Set<String> served = Exposition.parse(s.get("metrics"), temp).sampleNames();
      assertThat(served).as("served samples").containsAll(queried);
    }
  }

  private static final Pattern METRIC_NAME =
      Pattern.compile("\\b(?:coordinator|routing)_[a-z0-9_]+\\b");

  /** The coordinator's metric names a PromQL expression mentions. */
  private static List<String> metricNames(String promql) {
    List<String> names = new ArrayList<>();
    Matcher m = METRIC_NAME.matcher(promql);
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }

  /** Panels that have targets, rows' panels included. */
  private static void collectPanels(JsonNode node, List<JsonNode> into) {
    for (JsonNode panel : node.path("panels")) {
      if (panel.has("targets")) {
        into.add(panel);
      }
      collectPanels(panel, into);
    }
  }

  private static Path findUp(Path relative) {
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(relative))) {
        return dir.resolve(relative);
      }
    }
    return fail(relative + " not found in " + start + " or any parent directory");
  }
}
