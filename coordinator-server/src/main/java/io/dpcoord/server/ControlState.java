package io.dpcoord.server;

import io.dpcoord.protocol.Header;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The coordinator-side control-signal state machine of PROTOCOL.md.
 *
 * <p>A signal is either applied (the state moves and the signal is broadcast to every engine), a
 * silent no-op (a redundant PAUSE), or rejected (logged, counted, not broadcast). Profiler signals
 * are not part of the machine: they are broadcast in any state.
 */
public enum ControlState {
  RUNNING,
  PAUSED,
  SUSPENDED,
  STOPPING;

  /** What the machine does with one signal in one state. */
  public enum Outcome {
    APPLY,
    IGNORE,
    REJECT
  }

  private record Transition(
      Set<ControlState> allowedFrom, ControlState to, Set<ControlState> noop) {}

  private static final Map<Header, Transition> TRANSITIONS = new EnumMap<>(Header.class);

  static {
    Set<ControlState> none = EnumSet.noneOf(ControlState.class);
    TRANSITIONS.put(
        Header.PAUSE, new Transition(EnumSet.of(RUNNING), PAUSED, EnumSet.of(PAUSED, SUSPENDED)));
    TRANSITIONS.put(Header.UNPAUSE, new Transition(EnumSet.of(PAUSED), RUNNING, none));
    TRANSITIONS.put(Header.SUSPEND, new Transition(EnumSet.of(PAUSED), SUSPENDED, none));
    TRANSITIONS.put(Header.RESUME, new Transition(EnumSet.of(SUSPENDED), PAUSED, none));
    // STOP passes through STOPPING while it is broadcast, then the coordinator is ready for new
    // engines again: the state after the broadcast is RUNNING.
    TRANSITIONS.put(Header.STOP, new Transition(EnumSet.of(PAUSED, SUSPENDED), RUNNING, none));
    TRANSITIONS.put(
        Header.SET_GENERATION_EPOCH, new Transition(EnumSet.allOf(ControlState.class), null, none));
  }

  /** True for the signals this machine governs (not the profiler signals). */
  public static boolean governs(Header signal) {
    return TRANSITIONS.containsKey(signal);
  }

  /** What happens to {@code signal} in this state. */
  public Outcome outcome(Header signal) {
    Transition t = transition(signal);
    if (t.allowedFrom.contains(this)) {
      return Outcome.APPLY;
    }
    return t.noop.contains(this) ? Outcome.IGNORE : Outcome.REJECT;
  }

  /** The state after {@code signal} was applied in this state. */
  public ControlState after(Header signal) {
    Transition t = transition(signal);
    return t.to == null ? this : t.to;
  }

  private static Transition transition(Header signal) {
    Transition t = TRANSITIONS.get(signal);
    if (t == null) {
      throw new IllegalArgumentException(signal + " is not a state-machine control signal");
    }
    return t;
  }
}
