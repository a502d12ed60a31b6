package io.dpcoord.cli.monitor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpcoord.metrics.EngineLoad;
import io.dpcoord.metrics.Metric;
import io.dpcoord.metrics.PrometheusMetrics;
import io.dpcoord.server.CoordinatorStatus;
import java.io.UncheckedIOException;
import java.util.List;

/** The body of {@code /status.json}: the summary figures now and the sampled series. */
final class StatusReport {
  private final PrometheusMetrics metrics;
  private final CoordinatorStatus status;
  private final StatusSampler sampler;
  private final String coordinator;
  private final int expectedEngines;
  private final ObjectMapper json;

  /**
   * What {@code /status.json} holds. Counts are totals since start; {@code hitRatio} is over all
   * prefix-routed requests since start, the percentiles over the last minute; nulls mean "no data".
   */
  record View(
      String coordinator,
      String state,
      boolean started,
      int enginesActive,
      int enginesExpected,
      int inFlight,
      long submitted,
      long completed,
      long failed,
      Double hitRatio,
      Double p50Micros,
      Double p99Micros,
      List<EngineLoad> engines,
      int sampleSeconds,
      List<StatusSampler.Sample> samples) {}

  StatusReport(
      PrometheusMetrics metrics,
      CoordinatorStatus status,
      StatusSampler sampler,
      String coordinator,
      int expectedEngines,
      ObjectMapper json) {
    this.metrics = metrics;
    this.status = status;
    this.sampler = sampler;
    this.coordinator = coordinator;
    this.expectedEngines = expectedEngines;
    this.json = json;
  }

  View view() {
    long hits = metrics.count(Metric.ROUTING_CACHE_HIT_TOTAL);
    long decisions = hits + metrics.count(Metric.ROUTING_CACHE_MISS_TOTAL);
    return new View(
        coordinator,
        status.controlState().name(),
        status.started(),
        status.activeEngines(),
        expectedEngines,
        status.inFlight(),
        metrics.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL),
        metrics.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL),
        metrics.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL),
        decisions == 0 ? null : (double) hits / decisions,
        sampler.routingLatencyMicros(0.5),
        sampler.routingLatencyMicros(0.99),
        status.engines(),
        1,
        sampler.samples());
  }

  byte[] json() {
    try {
      return json.writeValueAsBytes(view());
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
