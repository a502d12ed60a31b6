package io.dpcoord.metrics;

import java.util.List;

/**
 * What the Coordinator MBean reads from a running coordinator beside its metrics. Read from JMX
 * threads: implementations return values the coordinator has published, and never block it.
 */
public interface CoordinatorView {
  /** {@code STARTING} until the start-up engines are all there, then the control state. */
  String state();

  /** The engines the coordinator waits for before serving (0: none). */
  int expectedEngines();

  /** The active engines in rank order, as of the coordinator's last housekeeping (about 1 s). */
  List<EngineLoad> engines();
}
