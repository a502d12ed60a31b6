package io.dpcoord.sim;

/**
 * A live snapshot of a {@link LoadGenerator} run, for progress displays. Fields are read one by one
 * while the run goes on, so they may be a few replies apart.
 *
 * @param sent requests sent so far
 * @param completed requests answered with a status other than FAILED
 * @param failed requests answered FAILED
 * @param duplicated replies for ids already answered
 * @param elapsedNanos since the first request (0 before it)
 * @param finished whether the run has ended
 */
public record LoadProgress(
    long sent, long completed, long failed, long duplicated, long elapsedNanos, boolean finished) {

  /** Requests answered so far. */
  public long answered() {
    return completed + failed;
  }

  /** Requests sent and not answered. */
  public long inFlight() {
    return Math.max(0, sent - answered());
  }
}
