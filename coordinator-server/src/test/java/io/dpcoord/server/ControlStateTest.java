package io.dpcoord.server;

import static io.dpcoord.server.ControlState.Outcome.APPLY;
import static io.dpcoord.server.ControlState.Outcome.IGNORE;
import static io.dpcoord.server.ControlState.Outcome.REJECT;
import static io.dpcoord.server.ControlState.PAUSED;
import static io.dpcoord.server.ControlState.RUNNING;
import static io.dpcoord.server.ControlState.STOPPING;
import static io.dpcoord.server.ControlState.SUSPENDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.protocol.Header;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ControlStateTest {

  /** The table of PROTOCOL.md, cell by cell: outcome, and the state after an applied signal. */
  @Test
  void everyCellOfTheSpecTable() {
    expect(Header.PAUSE, Map.of(RUNNING, APPLY, PAUSED, IGNORE, SUSPENDED, IGNORE), PAUSED);
    expect(Header.UNPAUSE, Map.of(RUNNING, REJECT, PAUSED, APPLY, SUSPENDED, REJECT), RUNNING);
    expect(Header.SUSPEND, Map.of(RUNNING, REJECT, PAUSED, APPLY, SUSPENDED, REJECT), SUSPENDED);
    expect(Header.RESUME, Map.of(RUNNING, REJECT, PAUSED, REJECT, SUSPENDED, APPLY), PAUSED);
    expect(Header.STOP, Map.of(RUNNING, REJECT, PAUSED, APPLY, SUSPENDED, APPLY), RUNNING);
  }

  @Test
  void generationEpochIsAppliedInEveryStateAndKeepsIt() {
    for (ControlState s : ControlState.values()) {
      assertThat(s.outcome(Header.SET_GENERATION_EPOCH)).isEqualTo(APPLY);
      assertThat(s.after(Header.SET_GENERATION_EPOCH)).isEqualTo(s);
    }
  }

  @Test
  void profilerSignalsAreNotGovernedByTheMachine() {
    assertThat(ControlState.governs(Header.START_CUDA_PROFILER)).isFalse();
    assertThat(ControlState.governs(Header.STOP_CUDA_PROFILER)).isFalse();
    assertThat(ControlState.governs(Header.PAUSE)).isTrue();
    assertThatThrownBy(() -> RUNNING.outcome(Header.START_CUDA_PROFILER))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("START_CUDA_PROFILER");
  }

  @Test
  void stopFromEitherStateEndsReadyForNewEngines() {
    assertThat(PAUSED.after(Header.STOP)).isEqualTo(RUNNING);
    assertThat(SUSPENDED.after(Header.STOP)).isEqualTo(RUNNING);
    assertThat(STOPPING.outcome(Header.PAUSE)).isEqualTo(REJECT);
  }

  private static void expect(
      Header signal, Map<ControlState, ControlState.Outcome> outcomes, ControlState after) {
    Map<ControlState, ControlState.Outcome> actual = new EnumMap<>(ControlState.class);
    for (ControlState s : outcomes.keySet()) {
      actual.put(s, s.outcome(signal));
      if (s.outcome(signal) == APPLY) {
        assertThat(s.after(signal)).as(signal + " from " + s).isEqualTo(after);
      }
    }
    assertThat(actual).as(signal.name()).isEqualTo(outcomes);
  }
}
