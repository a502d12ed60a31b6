package io.dpcoord.metrics;

import com.codahale.metrics.Clock;
import com.codahale.metrics.Counter;
import com.codahale.metrics.EWMA;
import com.codahale.metrics.MetricRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Rates of the catalogue's counters (events per second), as a Dropwizard {@code Meter} keeps them:
 * a mean since start and exponentially weighted one-, five- and fifteen-minute rates.
 *
 * <p>Design notes: a meter would cost the event loop a clock read and an extra add on every event.
 * Here the counters stay plain {@code Counter}s and the rates are computed beside them: every five
 * seconds a tick reads each counter and feeds the increase since the last tick to Dropwizard's own
 * {@link EWMA}s, which is exactly what a meter does with the events it was given in those five
 * seconds. The event loop pays nothing. A daemon thread ticks on time; every read ticks too when a
 * tick is due, so that a late timer never shows a stale rate. When ticks were missed (a paused
 * JVM), the increase goes to the first of them and the rest decay the rates, as a meter marked
 * after a pause does.
 */
final class CounterRates implements AutoCloseable {
  static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final Clock clock;
  private final long startTick;
  private final Map<Metric, Rates> rates = new EnumMap<>(Metric.class);
  private final ScheduledExecutorService timer;
  private long lastTick;

  private static final class Rates {
    final Counter counter;
    final EWMA one = EWMA.oneMinuteEWMA();
    final EWMA five = EWMA.fiveMinuteEWMA();
    final EWMA fifteen = EWMA.fifteenMinuteEWMA();
    final long startCount;
    long lastCount;

    Rates(Counter counter) {
      this.counter = counter;
      this.startCount = counter.getCount();
      this.lastCount = startCount;
    }

    void tick(boolean first) {
      if (first) {
        long count = counter.getCount();
        long increase = count - lastCount;
        lastCount = count;
        one.update(increase);
        five.update(increase);
        fifteen.update(increase);
      }
      one.tick();
      five.tick();
      fifteen.tick();
    }
  }

  /**
   * Rates of every catalogue counter in {@code registry}, timed by {@code clock}.
   *
   * @param ticking whether a daemon thread ticks every five seconds (else only reads tick)
   */
  CounterRates(MetricRegistry registry, Clock clock, boolean ticking) {
    this.clock = clock;
    this.startTick = clock.getTick();
    this.lastTick = startTick;
    for (Metric metric : Metric.values()) {
      if (metric.type() == MetricType.COUNTER) {
        rates.put(metric, new Rates(registry.counter(metric.metricName())));
      }
    }
    if (ticking) {
      timer =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "dpcoord-counter-rates");
                t.setDaemon(true);
                return t;
              });
      timer.scheduleAtFixedRate(this::tickIfDue, TICK_NANOS, TICK_NANOS, TimeUnit.NANOSECONDS);
    } else {
      timer = null;
    }
  }

  /** Ticks once per five seconds elapsed since the last tick. */
  synchronized void tickIfDue() {
    long due = (clock.getTick() - lastTick) / TICK_NANOS;
    if (due <= 0) {
      return;
    }
    lastTick += due * TICK_NANOS;
    for (Rates r : rates.values()) {
      for (long i = 0; i < due; i++) {
        r.tick(i == 0);
      }
    }
  }

  /** Events per second over the last minute, exponentially weighted. */
  double oneMinute(Metric counter) {
    return ratesOf(counter).one.getRate(TimeUnit.SECONDS);
  }

  /** Events per second over the last five minutes, exponentially weighted. */
  double fiveMinutes(Metric counter) {
    return ratesOf(counter).five.getRate(TimeUnit.SECONDS);
  }

  /** Events per second over the last fifteen minutes, exponentially weighted. */
  double fifteenMinutes(Metric counter) {
    return ratesOf(counter).fifteen.getRate(TimeUnit.SECONDS);
  }

  /** Events per second since these rates were started. */
  double mean(Metric counter) {
    long elapsed = clock.getTick() - startTick;
    Rates r = rates.get(counter);
    return elapsed <= 0 ? 0 : (r.counter.getCount() - r.startCount) * 1e9 / elapsed;
  }

  private Rates ratesOf(Metric counter) {
    tickIfDue();
    return rates.get(counter);
  }

  /** Stops the ticking thread. Idempotent. */
  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
