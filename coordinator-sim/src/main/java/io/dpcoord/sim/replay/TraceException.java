package io.dpcoord.sim.replay;

/** A trace line that cannot be replayed: malformed, inconsistent or out of range. */
public final class TraceException extends Exception {
  private final long line;
  private final String reason;

  /** Creates the exception for 1-based {@code line}. */
  public TraceException(long line, String reason) {
    super("line " + line + ": " + reason);
    this.line = line;
    this.reason = reason;
  }

  /** The 1-based number of the offending line. */
  public long line() {
    return line;
  }

  /** What is wrong with it. */
  public String reason() {
    return reason;
  }
}
