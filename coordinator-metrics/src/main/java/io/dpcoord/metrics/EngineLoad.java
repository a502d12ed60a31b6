package io.dpcoord.metrics;

import java.beans.ConstructorProperties;

/**
 * One row of the Coordinator MBean's engine table: an active engine, its requests pending and the
 * requests it has answered. JMX shows it as a {@code CompositeData} with the items {@code rank},
 * {@code engine}, {@code pending} and {@code served}.
 */
public final class EngineLoad {
  private final int rank;
  private final String engine;
  private final int pending;
  private final long served;

  /**
   * @param rank the engine's rank (0 is first in Megatron's order)
   * @param engine the engine's ZMQ identity, printable
   * @param pending requests routed to it and not yet answered
   * @param served terminal replies it delivered since it registered
   */
  @ConstructorProperties({"rank", "engine", "pending", "served"})
  public EngineLoad(int rank, String engine, int pending, long served) {
    this.rank = rank;
    this.engine = engine;
    this.pending = pending;
    this.served = served;
  }

  /** The engine's rank (0 is first in Megatron's order). */
  public int getRank() {
    return rank;
  }

  /** The engine's ZMQ identity, printable. */
  public String getEngine() {
    return engine;
  }

  /** Requests routed to it and not yet answered. */
  public int getPending() {
    return pending;
  }

  /** Terminal replies it delivered since it registered. */
  public long getServed() {
    return served;
  }

  @Override
  public String toString() {
    return "EngineLoad{rank="
        + rank
        + ", "
        + engine
        + ", pending="
        + pending
        + ", served="
        + served
        + "}";
  }
}
