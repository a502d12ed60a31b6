package io.dpcoord.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;
import java.util.function.LongConsumer;

/**
 * The engine churn of a demo: at half time SET_GENERATION_EPOCH 1 to every engine (their caches are
 * cleared, the coordinator's entries become stale), at 70% the last rank killed and restarted with
 * the same rank. A step is due once the run has come that far (see {@link DemoConfig#fraction});
 * each is taken once, and noted for the report.
 */
final class Churn {
  private static final double EPOCH_AT = 0.5;
  private static final double RESTART_AT = 0.7;
  private static final Duration REREGISTER_WAIT = Duration.ofSeconds(10);

  private final boolean enabled;
  private final int engines;
  private final int rank;
  private final List<String> notes = new ArrayList<>();
  private boolean epochSent;
  private boolean restarted;

  /**
   * @param enabled false for a run without churn: no step is ever due
   * @param engines the engines of the run; the last rank is the one restarted
   */
  Churn(boolean enabled, int engines) {
    this.enabled = enabled;
    this.engines = engines;
    this.rank = engines - 1;
    this.epochSent = !enabled;
    this.restarted = !enabled;
  }

  /**
   * The plan, for the line that starts the demo: {@code ", no churn"} or {@code ", churn: ..."}.
   */
  String plan() {
    return enabled ? ", churn: new epoch at 50%, rank " + rank + " restarted at 70%" : ", no churn";
  }

  /**
   * Takes the steps due at {@code fraction} of the run that are not taken yet, in order.
   *
   * @param elapsedNanos the run's time so far, for the notes
   * @param setEpoch sends SET_GENERATION_EPOCH with the given epoch to every engine
   * @param restart kills the engine of the given rank and starts a new one with that rank
   */
  void advance(double fraction, long elapsedNanos, LongConsumer setEpoch, IntConsumer restart) {
    if (!epochSent && fraction >= EPOCH_AT) {
      setEpoch.accept(1);
      notes.add("SET_GENERATION_EPOCH 1 at " + seconds(elapsedNanos) + " s");
      epochSent = true;
    }
    if (!restarted && fraction >= RESTART_AT) {
      restart.accept(rank);
      notes.add("rank " + rank + " killed and restarted at " + seconds(elapsedNanos) + " s");
      restarted = true;
    }
  }

  /** The fraction of the run at which the next step is due; 1 (the end) when none is left. */
  double nextAt() {
    if (!epochSent) {
      return EPOCH_AT;
    }
    return restarted ? 1.0 : RESTART_AT;
  }

  /** The steps taken and when, for the report; {@code none} if none was. */
  String summary() {
    return notes.isEmpty() ? "none" : String.join("; ", notes);
  }

  /**
   * Gives a restarted engine at most 10 s to register, so that the report shows the steady state.
   * Usually it takes milliseconds; a stalled jeromq handshake is dropped and retried after 1 s (the
   * simulator's design notes), and in one test run of a 2 s demo out of many the engine was still
   * missing 3 s after the end, so the wait leaves room for several retries.
   */
  void awaitEngines(IntSupplier activeEngines) {
    LocalCluster.awaitUntil(() -> activeEngines.getAsInt() >= engines, REREGISTER_WAIT);
  }

  private static String seconds(long nanos) {
    return String.format(Locale.ROOT, "%.1f", nanos / 1e9);
  }
}
