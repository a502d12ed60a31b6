package io.dpcoord.protocol;

import java.util.Arrays;

/**
 * Megatron core_v0.16's acknowledgement of PAUSE or STOP ({@link Dialect#V0_16} only): {@code [6]}
 * ({@code [11]}) from an engine, and from the coordinator to every engine once all have
 * acknowledged; {@code [6, identity]} to every client then, {@code identity} (bin) being the engine
 * whose acknowledgement completed the set.
 *
 * @param header {@link Header#PAUSE_ACK} or {@link Header#STOP_ACK}
 * @param engine the identity of a client's copy; null in an engine's
 */
public record ControlAck(Header header, byte[] engine) implements Message {
  /** Rejects a header that is not an acknowledgement. */
  public ControlAck {
    if (header != Header.PAUSE_ACK && header != Header.STOP_ACK) {
      throw new IllegalArgumentException(header + " is not an acknowledgement");
    }
    engine = engine == null ? null : engine.clone();
  }

  /** An engine's acknowledgement, or the coordinator's copy for the engines: {@code [header]}. */
  public ControlAck(Header header) {
    this(header, null);
  }

  @Override
  public byte[] engine() {
    return engine == null ? null : engine.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ControlAck a && a.header == header && Arrays.equals(a.engine, engine);
  }

  @Override
  public int hashCode() {
    return 31 * header.hashCode() + Arrays.hashCode(engine);
  }

  @Override
  public String toString() {
    return "ControlAck[" + header + (engine == null ? "" : ", " + engine.length + " bytes") + "]";
  }
}
