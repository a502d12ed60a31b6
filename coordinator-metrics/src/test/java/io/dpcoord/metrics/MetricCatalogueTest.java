package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricCatalogueTest {

  @Test
  void everyNameIsLowerSnakeCaseAndFindsItsMetric() {
    for (Metric metric : Metric.values()) {
      assertThat(metric.metricName()).matches("[a-z]+(_[a-z]+)+");
      assertThat(Metric.byName(metric.metricName())).contains(metric);
      assertThat(metric.description()).isNotBlank();
    }
  }

  @Test
  void unknownAndNullNamesFindNothing() {
    assertThat(Metric.byName("routing_cache_hit")).isEmpty();
    assertThat(Metric.byName("ROUTING_CACHE_HIT_TOTAL")).isEmpty();
    assertThat(Metric.byName("")).isEmpty();
    assertThat(Metric.byName(null)).isEmpty();
  }

  @Test
  void countersEndInTotalAndOnlyTheLatenciesAreSeconds() {
    for (Metric metric : Metric.values()) {
      assertThat(metric.metricName().endsWith("_total"))
          .as(metric.metricName())
          .isEqualTo(metric.type() == MetricType.COUNTER);
    }
    List<Metric> seconds = Arrays.stream(Metric.values()).filter(Metric::seconds).toList();
    assertThat(seconds)
        .containsExactly(
            Metric.COORDINATOR_ROUTING_LATENCY_SECONDS,
            Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS,
            Metric.COORDINATOR_TOKENIZE_LATENCY_SECONDS,
            Metric.COORDINATOR_DETOKENIZE_LATENCY_SECONDS);
  }

  @Test
  void theExtensionsFollowTheReferenceMetrics() {
    List<Boolean> flags = Arrays.stream(Metric.values()).map(Metric::extension).toList();
    int firstExtension = flags.indexOf(true);
    assertThat(firstExtension).isEqualTo(Metric.COORDINATOR_REQUESTS_IN_FLIGHT.ordinal());
    assertThat(flags.subList(0, firstExtension)).containsOnly(false);
    assertThat(flags.subList(firstExtension, flags.size())).containsOnly(true);
  }
}
