package io.dpcoord.protocol;

import java.util.EnumSet;
import java.util.Set;

/**
 * A bare control signal {@code [value]}: PAUSE, UNPAUSE, SUSPEND, RESUME, STOP, START_CUDA_PROFILER
 * or STOP_CUDA_PROFILER.
 */
public record ControlSignal(Header header) implements Message {
  private static final Set<Header> SIGNALS =
      EnumSet.of(
          Header.PAUSE,
          Header.UNPAUSE,
          Header.SUSPEND,
          Header.RESUME,
          Header.STOP,
          Header.START_CUDA_PROFILER,
          Header.STOP_CUDA_PROFILER);

  /** Rejects a header that is not a bare control signal. */
  public ControlSignal {
    if (!isSignal(header)) {
      throw new IllegalArgumentException(header + " is not a bare control signal");
    }
  }

  /** Whether {@code header} is one of the bare control signals. */
  public static boolean isSignal(Header header) {
    return header != null && SIGNALS.contains(header);
  }
}
