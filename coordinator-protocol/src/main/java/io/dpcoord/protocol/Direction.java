package io.dpcoord.protocol;

/** Who receives a frame: decides which messages a header decodes to. */
public enum Direction {
  /** Frames a coordinator receives, from clients and engines alike. */
  TO_COORDINATOR,
  /** Frames an engine receives from the coordinator. */
  TO_ENGINE,
  /** Frames a client receives from the coordinator. */
  TO_CLIENT
}
