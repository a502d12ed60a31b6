package io.dpcoord.sim.simulate;

import java.util.SplittableRandom;

/**
 * Poisson arrival times: at a constant rate, or at a rate that rises (or falls) linearly from a
 * start to an end rate over the time the expected number of events takes.
 *
 * <p>A ramp from {@code a} to {@code b} events per second over {@code events} events lasts {@code T
 * = 2 events / (a + b)} seconds; the rate at time t is {@code r(t) = a + (b - a) t / T}, and the
 * rate {@code b} after T. Arrival times come from the time-change of a unit-rate Poisson process:
 * the k-th arrival is at {@code Λ^{-1}(E_1 + ... + E_k)} with {@code E_i} unit exponentials and
 * {@code Λ(t) = a t + (b - a) t^2 / (2T)} the expected number of events by t (the inversion method;
 * Çinlar, Introduction to Stochastic Processes, 1975), solved in the form {@code t = 2L / (a +
 * sqrt(a^2 + 2 (b - a) L / T))}, which has no cancellation and covers {@code a == b}. Not
 * thread-safe.
 */
final class Arrivals {
  private final SplittableRandom random;
  private final double start;
  private final double end;
  private final double slope; // (end - start) / T, events per s^2
  private final double rampEvents; // Λ(T)
  private final double rampSeconds; // T
  private double expected; // Λ at the last arrival

  /**
   * Arrivals at {@code startRate} rising to {@code endRate} events per second over {@code events}
   * expected events (equal rates: a constant rate).
   */
  Arrivals(SplittableRandom random, double startRate, double endRate, long events) {
    if (!(startRate > 0) || !(endRate > 0) || events < 1) {
      throw new IllegalArgumentException(
          "rates must be > 0 and events >= 1, got " + startRate + ", " + endRate + ", " + events);
    }
    this.random = random;
    this.start = startRate;
    this.end = endRate;
    this.rampEvents = events;
    this.rampSeconds = 2.0 * events / (startRate + endRate);
    this.slope = (endRate - startRate) / rampSeconds;
  }

  /** The next arrival, in nanoseconds from the start; never before the previous one. */
  long next() {
    expected += -Math.log(1.0 - random.nextDouble());
    double seconds;
    if (expected <= rampEvents) {
      seconds = 2 * expected / (start + Math.sqrt(start * start + 2 * slope * expected));
    } else {
      seconds = rampSeconds + (expected - rampEvents) / end;
    }
    return (long) (seconds * 1e9);
  }
}
