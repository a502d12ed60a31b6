package io.dpcoord.cli.bench;

import io.dpcoord.sim.LoadReport;

/**
 * One run's measured requests.
 *
 * @param round which round of the invocation the run belongs to, from 1 (see {@code --rounds})
 * @param requests the measured requests (every one answered once and completed)
 * @param report what the load generator saw over them
 * @param cpu the server JVM's CPU over them
 * @param engineLatencyNanos the engines' fixed service time, subtracted from the latencies
 */
public record BenchRow(
    LoadBench.Case run,
    int round,
    int requests,
    LoadReport report,
    ServerCpu cpu,
    long engineLatencyNanos) {

  /** Answered requests per second of the measured phase. */
  public double requestsPerSecond() {
    return report.requestsPerSecond();
  }

  /** {@code nanos} of CPU per measured request, in µs. */
  public double cpuMicros(long nanos) {
    return nanos / 1e3 / requests;
  }

  /** The latency percentiles of the measured requests (milliseconds, send to reply). */
  public LoadReport.Latency latency() {
    return report.latency();
  }

  /** A latency in milliseconds minus the engines' service time, in µs. */
  public double addedMicros(double latencyMillis) {
    return latencyMillis * 1e3 - engineLatencyNanos / 1e3;
  }
}
