package io.dpcoord.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import java.util.List;
import java.util.Objects;

/**
 * The Coordinator MBean's values: counts and gauges from the Dropwizard registry, rates from {@link
 * CounterRates}, the state and the engine table from a {@link CoordinatorView}. Every read is a
 * read of values already kept; nothing here runs on the event loop. Rates, per cents and
 * microseconds are rounded to two decimals, which is all a person reads of them (a console prints
 * every digit of a double).
 */
final class CoordinatorSummary implements CoordinatorMXBean {
  private static final double NANOS_PER_MICRO = 1e3;
  private static final double PER_CENT = 100;

  private final CoordinatorView view;
  private final CounterRates rates;
  private final Counter submitted;
  private final Counter completed;
  private final Counter failed;
  private final Counter hits;
  private final Counter misses;
  private final Counter stale;
  private final Counter evicted;
  private final Gauge<?> activeEngines;
  private final Gauge<?> inFlight;
  private final Gauge<?> indexEntries;
  private final Timer routingLatency;

  CoordinatorSummary(MetricRegistry registry, CounterRates rates, CoordinatorView view) {
    this.view = Objects.requireNonNull(view, "view");
    this.rates = rates;
    this.submitted = counter(registry, Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL);
    this.completed = counter(registry, Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL);
    this.failed = counter(registry, Metric.COORDINATOR_REQUESTS_FAILED_TOTAL);
    this.hits = counter(registry, Metric.ROUTING_CACHE_HIT_TOTAL);
    this.misses = counter(registry, Metric.ROUTING_CACHE_MISS_TOTAL);
    this.stale = counter(registry, Metric.ROUTING_STALE_DETECTED_TOTAL);
    this.evicted = counter(registry, Metric.ROUTING_INDEX_EVICTED_TOTAL);
    this.activeEngines = gauge(registry, Metric.COORDINATOR_ACTIVE_ENGINES);
    this.inFlight = gauge(registry, Metric.COORDINATOR_REQUESTS_IN_FLIGHT);
    this.indexEntries = gauge(registry, Metric.ROUTING_INDEX_ENTRIES);
    this.routingLatency = registry.timer(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS.metricName());
  }

  private static Counter counter(MetricRegistry registry, Metric metric) {
    return registry.counter(metric.metricName());
  }

  private static Gauge<?> gauge(MetricRegistry registry, Metric metric) {
    return registry.getGauges().get(metric.metricName());
  }

  private static long whole(Gauge<?> gauge) {
    return Math.round(((Number) gauge.getValue()).doubleValue());
  }

  private static double percent(double part, double whole) {
    return whole > 0 ? hundredths(part * PER_CENT / whole) : 0;
  }

  private static double hundredths(double value) {
    return Math.round(value * 100) / 100.0;
  }

  @Override
  public String getState() {
    return view.state();
  }

  @Override
  public int getActiveEngines() {
    return (int) whole(activeEngines);
  }

  @Override
  public int getExpectedEngines() {
    return view.expectedEngines();
  }

  @Override
  public long getRequestsInFlight() {
    return whole(inFlight);
  }

  @Override
  public long getRequestsSubmitted() {
    return submitted.getCount();
  }

  @Override
  public long getRequestsCompleted() {
    return completed.getCount();
  }

  @Override
  public long getRequestsFailed() {
    return failed.getCount();
  }

  @Override
  public double getSubmittedPerSecond() {
    return hundredths(rates.oneMinute(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL));
  }

  @Override
  public double getCompletedPerSecond() {
    return hundredths(rates.oneMinute(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL));
  }

  @Override
  public double getFailedPerSecond() {
    return hundredths(rates.oneMinute(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL));
  }

  @Override
  public double getCacheHitPercentLastMinute() {
    // both rates decay alike, so their ratio weights the last minute's requests as they do
    double hit = rates.oneMinute(Metric.ROUTING_CACHE_HIT_TOTAL);
    return percent(hit, hit + rates.oneMinute(Metric.ROUTING_CACHE_MISS_TOTAL));
  }

  @Override
  public double getCacheHitPercentTotal() {
    long hit = hits.getCount();
    return percent(hit, hit + misses.getCount());
  }

  @Override
  public long getStaleDetections() {
    return stale.getCount();
  }

  @Override
  public double getRoutingLatencyP50Micros() {
    return hundredths(routingLatency.getSnapshot().getMedian() / NANOS_PER_MICRO);
  }

  @Override
  public double getRoutingLatencyP99Micros() {
    return hundredths(routingLatency.getSnapshot().get99thPercentile() / NANOS_PER_MICRO);
  }

  @Override
  public long getIndexEntries() {
    return whole(indexEntries);
  }

  @Override
  public long getIndexEvictions() {
    return evicted.getCount();
  }

  @Override
  public List<EngineLoad> getEngines() {
    return view.engines();
  }
}
