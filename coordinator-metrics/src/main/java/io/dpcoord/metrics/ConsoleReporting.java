package io.dpcoord.metrics;

import com.codahale.metrics.ConsoleReporter;
import com.codahale.metrics.MetricFilter;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Prints the catalogue of a {@link DropwizardMetrics} periodically, for people without a JMX
 * console.
 *
 * <p>A thin wrapper over Dropwizard's {@link ConsoleReporter}, which reports on its own daemon
 * thread. Durations are printed in milliseconds (the reporter prints two decimals, which would
 * round most latencies in seconds to 0.00), rates per second.
 */
public final class ConsoleReporting implements AutoCloseable {
  private static final MetricFilter CATALOGUE_ONLY =
      (name, metric) -> Metric.byName(name).isPresent();

  private final ConsoleReporter reporter;

  private ConsoleReporting(ConsoleReporter reporter) {
    this.reporter = reporter;
  }

  /**
   * Starts printing every {@code period} to {@code out}; the first report comes after one period.
   *
   * @throws IllegalArgumentException if {@code period} is not positive
   */
  public static ConsoleReporting start(
      DropwizardMetrics metrics, Duration period, PrintStream out) {
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(out, "out");
    if (period == null || period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("report period must be positive, got " + period);
    }
    ConsoleReporter reporter =
        ConsoleReporter.forRegistry(metrics.registry())
            .outputTo(out)
            .filter(CATALOGUE_ONLY)
            .convertDurationsTo(TimeUnit.MILLISECONDS)
            .convertRatesTo(TimeUnit.SECONDS)
            .build();
    reporter.start(period.toMillis(), TimeUnit.MILLISECONDS);
    return new ConsoleReporting(reporter);
  }

  /** Prints one report now, on the caller's thread. */
  public void report() {
    reporter.report();
  }

  /** Stops the periodic reports (after a final one, as Dropwizard does). Never throws. */
  @Override
  public void close() {
    reporter.close();
  }
}
