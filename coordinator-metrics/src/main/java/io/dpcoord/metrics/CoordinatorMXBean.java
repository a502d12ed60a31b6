package io.dpcoord.metrics;

import java.util.List;

/**
 * One coordinator at a glance, {@code dpcoord:type=Coordinator,coordinator=<tag>}: what an operator
 * would otherwise gather from some twenty metric MBeans, in units that chart well in JConsole
 * (latencies in microseconds, ratios in per cent, rates per second).
 */
public interface CoordinatorMXBean {
  @JmxDoc(
      value =
          "STARTING until the start-up engines are all registered, then RUNNING, PAUSED,"
              + " SUSPENDED or STOPPING (control signals)",
      units = "state")
  String getState();

  @JmxDoc(value = "Engines the coordinator can route to now", units = "engines")
  int getActiveEngines();

  @JmxDoc(
      value = "Engines the coordinator waits for before serving (serve --engines; 0: none)",
      units = "engines")
  int getExpectedEngines();

  @JmxDoc(value = "Requests accepted and not yet answered", units = "requests")
  long getRequestsInFlight();

  @JmxDoc(value = "Requests accepted from clients since start", units = "requests")
  long getRequestsSubmitted();

  @JmxDoc(value = "Final replies delivered from engines since start", units = "requests")
  long getRequestsCompleted();

  @JmxDoc(value = "FAILED replies the coordinator sent since start", units = "requests")
  long getRequestsFailed();

  @JmxDoc(
      value = "Requests accepted per second over the last minute (exponentially weighted)",
      units = "requests/s")
  double getSubmittedPerSecond();

  @JmxDoc(
      value = "Final replies per second over the last minute (exponentially weighted)",
      units = "requests/s")
  double getCompletedPerSecond();

  @JmxDoc(
      value = "FAILED replies per second over the last minute (exponentially weighted)",
      units = "requests/s")
  double getFailedPerSecond();

  @JmxDoc(
      value =
          "Share of prefix-routed requests sent to an engine with a fresh match, over the last"
              + " minute (exponentially weighted); 0 when none was prefix-routed",
      units = "percent")
  double getCacheHitPercentLastMinute();

  @JmxDoc(
      value =
          "Share of prefix-routed requests sent to an engine with a fresh match, since start;"
              + " 0 when none was prefix-routed",
      units = "percent")
  double getCacheHitPercentTotal();

  @JmxDoc(
      value =
          "Routing decisions that met outdated cache information since start (engine churn,"
              + " a new epoch, TTL)",
      units = "decisions")
  long getStaleDetections();

  @JmxDoc(
      value = "Median time from receiving a request to handing it to an engine (recent requests)",
      units = "µs")
  double getRoutingLatencyP50Micros();

  @JmxDoc(
      value =
          "99th percentile of the time from receiving a request to handing it to an engine"
              + " (recent requests)",
      units = "µs")
  double getRoutingLatencyP99Micros();

  @JmxDoc(
      value = "Prompt blocks the routing index tracks now (bounded by its capacity)",
      units = "entries")
  long getIndexEntries();

  @JmxDoc(value = "Index entries dropped since start because the index was full", units = "entries")
  long getIndexEvictions();

  @JmxDoc(
      value =
          "Per active engine in rank order: rank, engine identity, pending requests, requests"
              + " served since it registered (updated about every second)",
      units = "table")
  List<EngineLoad> getEngines();
}
