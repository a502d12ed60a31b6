package io.dpcoord.server;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What other threads may read about a running coordinator (tests, the demo's progress line). The
 * event loop writes; everyone else reads. Values are published with volatile writes.
 */
public final class CoordinatorStatus {
  private final CountDownLatch startedLatch = new CountDownLatch(1);
  private volatile boolean started;
  private volatile int activeEngines;
  private volatile int inFlight;
  private volatile ControlState controlState = ControlState.RUNNING;

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

  void inFlight(int value) {
    inFlight = value;
  }

  void controlState(ControlState value) {
    controlState = value;
  }
}
