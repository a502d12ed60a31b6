package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.codahale.metrics.MetricRegistry;
import io.dpcoord.metrics.DropwizardMetricsTest.ManualClock;
import org.junit.jupiter.api.Test;

/** The counters' rates follow their counts at each five-second tick, as a meter's would. */
class CounterRatesTest {
  private static final Metric SUBMITTED = Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL;

  private final ManualClock clock = new ManualClock();
  private final MetricRegistry registry = new MetricRegistry();
  private final DropwizardMetrics metrics = new DropwizardMetrics(registry, clock);

  @Test
  void theFirstTickSetsTheRateToTheIncreasePerSecond() {
    try (CounterRates rates = new CounterRates(registry, clock, false)) {
      metrics.counter(SUBMITTED).inc(50);
      assertThat(rates.oneMinute(SUBMITTED)).isZero(); // no tick yet

      clock.advance(CounterRates.TICK_NANOS);

      assertThat(rates.oneMinute(SUBMITTED)).isCloseTo(10.0, within(1e-9));
      assertThat(rates.fiveMinutes(SUBMITTED)).isCloseTo(10.0, within(1e-9));
      assertThat(rates.fifteenMinutes(SUBMITTED)).isCloseTo(10.0, within(1e-9));
      assertThat(rates.mean(SUBMITTED)).isCloseTo(10.0, within(1e-9));
    }
  }

  @Test
  void ratesDecayWhenTheCountStopsAndOnlyCountsAfterTheStartCount() {
    metrics.counter(SUBMITTED).inc(1_000); // before the rates started: not an event of theirs
    try (CounterRates rates = new CounterRates(registry, clock, false)) {
      metrics.counter(SUBMITTED).inc(50);
      clock.advance(CounterRates.TICK_NANOS);
      double first = rates.oneMinute(SUBMITTED);

      clock.advance(60 * CounterRates.TICK_NANOS); // five quiet minutes, ticked on this read

      assertThat(first).isCloseTo(10.0, within(1e-9));
      double later = rates.oneMinute(SUBMITTED);
      assertThat(later).isLessThan(first / 100);
      assertThat(rates.fifteenMinutes(SUBMITTED)).isGreaterThan(later);
      assertThat(rates.mean(SUBMITTED)).isCloseTo(50.0 / (61 * 5), within(1e-9));
    }
  }

  @Test
  void aSteadyRateIsReadAsThatRate() {
    try (CounterRates rates = new CounterRates(registry, clock, false)) {
      for (int tick = 0; tick < 120; tick++) {
        metrics.counter(SUBMITTED).inc(35); // 7 per second
        clock.advance(CounterRates.TICK_NANOS);
        rates.tickIfDue();
      }
      assertThat(rates.oneMinute(SUBMITTED)).isCloseTo(7.0, within(1e-6));
      assertThat(rates.fiveMinutes(SUBMITTED)).isCloseTo(7.0, within(0.01));
      assertThat(rates.oneMinute(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isZero();
    }
  }
}
