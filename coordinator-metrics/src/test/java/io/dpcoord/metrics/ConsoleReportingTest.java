package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConsoleReportingTest {
  private final MetricRegistry registry = new MetricRegistry();
  private final DropwizardMetrics metrics = new DropwizardMetrics(registry);
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  @Test
  void aReportShowsTheCatalogueOnly() {
    registry.counter("something_else_total").inc();
    metrics.inc("routing_cache_hit_total", 3);
    metrics.gauge("coordinator_active_engines", 4);
    metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).recordNanos(2_500_000);
    try (ConsoleReporting reporting = ConsoleReporting.start(metrics, Duration.ofHours(1), out)) {
      reporting.report();
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains("routing_cache_hit_total", "count = 3")
        .contains("coordinator_active_engines", "value = 4.0")
        .contains("coordinator_routing_latency_seconds", "max = 2.50 milliseconds")
        .doesNotContain("something_else_total");
  }

  @Test
  void aPeriodThatIsNotPositiveIsRejected() {
    assertThatThrownBy(() -> ConsoleReporting.start(metrics, Duration.ZERO, out))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("report period must be positive, got PT0S");
    assertThatThrownBy(() -> ConsoleReporting.start(metrics, Duration.ofSeconds(-1), out))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ConsoleReporting.start(metrics, null, out))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
