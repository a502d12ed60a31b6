package io.dpcoord.server;

import io.dpcoord.metrics.CoordinatorView;
import io.dpcoord.metrics.EngineLoad;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What other threads may read about a running coordinator (tests, the demo's progress line, the
 * Coordinator MBean). The event loop writes; everyone else reads. Values are published with
 * volatile writes; the engine table is an immutable list, replaced when engines come or go and at
 * every housekeeping (about once a second), so that requests cost it nothing.
 */
public final class CoordinatorStatus implements CoordinatorView {
  private final CountDownLatch startedLatch = new CountDownLatch(1);
  private final int expectedEngines;
  private volatile boolean started;
  private volatile List<EngineLoad> engines = List.of();
  private volatile int activeEngines;
  private volatile int inFlight;
  private volatile ControlState controlState = ControlState.RUNNING;

  /** A status before start-up, for a coordinator that waits for {@code expectedEngines}. */
  public CoordinatorStatus(int expectedEngines) {
    this.expectedEngines = expectedEngines;
  }

  /** True once the start-up engines have registered and requests are routed. */
  public boolean started() {
    return started;
  }

  /** Engines currently routable. */
  public int activeEngines() {
    return activeEngines;
  }

  /** Accepted requests without a terminal reply. */
  public int inFlight() {
    return inFlight;
  }

  /** The control-signal state. */
  public ControlState controlState() {
    return controlState;
  }

  /** {@code STARTING} until the start-up engines have registered, then the control state. */
  @Override
  public String state() {
    return started ? controlState.name() : "STARTING";
  }

  @Override
  public int expectedEngines() {
    return expectedEngines;
  }

  @Override
  public List<EngineLoad> engines() {
    return engines;
  }

  /** Waits until the start-up engines have registered; false on timeout. */
  public boolean awaitStarted(Duration timeout) throws InterruptedException {
    return startedLatch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  void started(boolean value) {
    started = value;
    if (value) {
      startedLatch.countDown();
    }
  }

  void activeEngines(int value) {
    activeEngines = value;
  }

  void engines(List<EngineLoad> value) {
    engines = value;
  }

  void inFlight(int value) {
    inFlight = value;
  }

  void controlState(ControlState value) {
    controlState = value;
  }
}
