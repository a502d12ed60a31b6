package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What every binding promises: typed handles resolved once, and no exception on any update. */
class BindingContractTest {

  static Stream<Arguments> bindings() {
    return Stream.of(
        Arguments.of("noop", (Supplier<CoordinatorMetrics>) CoordinatorMetrics::noop),
        Arguments.of("in-memory", (Supplier<CoordinatorMetrics>) InMemoryMetrics::new),
        Arguments.of(
            "dropwizard",
            (Supplier<CoordinatorMetrics>) () -> new DropwizardMetrics(new MetricRegistry())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bindings")
  void everyMetricResolvesToOneHandleOfItsType(String binding, Supplier<CoordinatorMetrics> make) {
    CoordinatorMetrics metrics = make.get();
    for (Metric metric : Metric.values()) {
      switch (metric.type()) {
        case COUNTER -> assertThat(metrics.counter(metric)).isSameAs(metrics.counter(metric));
        case HISTOGRAM -> assertThat(metrics.histogram(metric)).isSameAs(metrics.histogram(metric));
        case GAUGE -> assertThat(metrics.gauge(metric)).isSameAs(metrics.gauge(metric));
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bindings")
  void handlesOfTheWrongTypeAreRejectedWithAClearMessage(
      String binding, Supplier<CoordinatorMetrics> make) {
    CoordinatorMetrics metrics = make.get();
    for (Metric metric : Metric.values()) {
      String actual = metric.metricName() + " is a " + metric.type();
      if (metric.type() != MetricType.COUNTER) {
        assertThatThrownBy(() -> metrics.counter(metric))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("counter(Metric) needs a COUNTER metric, but " + actual);
      }
      if (metric.type() != MetricType.HISTOGRAM) {
        assertThatThrownBy(() -> metrics.histogram(metric))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("histogram(Metric) needs a HISTOGRAM metric, but " + actual);
      }
      if (metric.type() != MetricType.GAUGE) {
        assertThatThrownBy(() -> metrics.gauge(metric))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("gauge(Metric) needs a GAUGE metric, but " + actual);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bindings")
  void aNullMetricIsRejected(String binding, Supplier<CoordinatorMetrics> make) {
    CoordinatorMetrics metrics = make.get();
    assertThatThrownBy(() -> metrics.counter(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("metric");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bindings")
  void noUpdateThrows(String binding, Supplier<CoordinatorMetrics> make) {
    CoordinatorMetrics metrics = make.get();
    assertThatCode(
            () -> {
              metrics.inc("no_such_metric");
              metrics.inc(null, 3);
              metrics.inc("coordinator_active_engines", 1);
              metrics.inc("routing_cache_hit_total", -5);
              metrics.observe("no_such_metric", 1.0);
              metrics.observe("routing_cache_hit_total", 1.0);
              metrics.observe("coordinator_routing_latency_seconds", Double.NaN);
              metrics.observe("routing_prefix_match_ratio", Double.NEGATIVE_INFINITY);
              metrics.gauge("no_such_metric", 1.0);
              metrics.gauge("coordinator_active_engines", Double.POSITIVE_INFINITY);
              metrics.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO).recordNanos(10);
              metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).recordNanos(-1);
              metrics.counter(Metric.ROUTING_INDEX_EVICTED_TOTAL).inc(Long.MIN_VALUE);
              metrics.close();
            })
        .doesNotThrowAnyException();
  }
}
