package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.server.ControlState;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Control signals: the state machine of PROTOCOL.md and the broadcast of the whole payload. A
 * signal that is not broadcast is shown with a sentinel (a profiler signal, broadcast in any state)
 * that every engine must receive next.
 */
@Timeout(30)
class ControlSignalTest {
  private static final byte[] PAUSE = Pack.array(40);
  private static final byte[] UNPAUSE = Pack.array(41);
  private static final byte[] SUSPEND = Pack.array(42);
  private static final byte[] RESUME = Pack.array(43);
  private static final byte[] STOP = Pack.array(45);
  private static final byte[] START_PROFILER = Pack.array(46);
  private static final byte[] STOP_PROFILER = Pack.array(47);

  /** A coordinator with three engines and a client. */
  private static final class Setup implements AutoCloseable {
    final TestCoordinator c = TestCoordinator.start();
    final List<TestEngine> engines = List.of(c.engine(0), c.engine(1), c.engine(2));
    final TestClient client = c.client();

    /**
     * Sends {@code signal}, expects every engine to receive it, and the state to become {@code
     * then}.
     */
    void broadcast(byte[] signal, ControlState then) {
      client.send(signal);
      for (TestEngine e : engines) {
        e.expectFrame(signal);
      }
      awaitState(then);
    }

    /** Sends {@code signal} and proves no engine received it. */
    void notBroadcast(byte[] signal) {
      client.send(signal);
      client.send(START_PROFILER);
      for (TestEngine e : engines) {
        e.expectFrame(START_PROFILER);
      }
    }

    void awaitState(ControlState state) {
      c.awaitControlState(state);
    }

    @Override
    public void close() {
      c.close();
    }
  }

  @Test
  void allowedTransitionsAreBroadcastWholeToEveryEngine() {
    try (Setup s = new Setup()) {
      s.broadcast(PAUSE, ControlState.PAUSED);
      s.broadcast(SUSPEND, ControlState.SUSPENDED);
      s.broadcast(RESUME, ControlState.PAUSED);
      s.broadcast(UNPAUSE, ControlState.RUNNING);
      s.broadcast(PAUSE, ControlState.PAUSED);
      s.broadcast(SUSPEND, ControlState.SUSPENDED);
      s.broadcast(STOP, ControlState.RUNNING);
      assertThat(s.c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void setGenerationEpochIsBroadcastWithItsEpochInEveryState() {
    try (Setup s = new Setup()) {
      s.broadcast(Pack.array(44, 1), ControlState.RUNNING);
      s.broadcast(PAUSE, ControlState.PAUSED);
      s.broadcast(Pack.array(44, 1L << 40), ControlState.PAUSED);
      s.broadcast(SUSPEND, ControlState.SUSPENDED);
      s.broadcast(Pack.array(44, 3), ControlState.SUSPENDED);
      assertThat(s.c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void transitionsNotAllowedAreRejectedCountedAndNotBroadcast() {
    try (Setup s = new Setup()) {
      // RUNNING: only PAUSE is allowed
      s.notBroadcast(UNPAUSE);
      s.notBroadcast(SUSPEND);
      s.notBroadcast(RESUME);
      s.notBroadcast(STOP);
      s.awaitState(ControlState.RUNNING);
      s.c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 4);
      // PAUSED: RESUME is not allowed
      s.broadcast(PAUSE, ControlState.PAUSED);
      s.notBroadcast(RESUME);
      // SUSPENDED: UNPAUSE and SUSPEND are not allowed
      s.broadcast(SUSPEND, ControlState.SUSPENDED);
      s.notBroadcast(UNPAUSE);
      s.notBroadcast(SUSPEND);
      s.awaitState(ControlState.SUSPENDED);
      s.c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 7);
      s.client.expectNothingMore(); // a rejection sends the client nothing
    }
  }

  @Test
  void pauseWhilePausedOrSuspendedIsASilentNoOp() {
    try (Setup s = new Setup()) {
      s.broadcast(PAUSE, ControlState.PAUSED);
      s.notBroadcast(PAUSE);
      s.awaitState(ControlState.PAUSED);
      s.broadcast(SUSPEND, ControlState.SUSPENDED);
      s.notBroadcast(PAUSE);
      s.awaitState(ControlState.SUSPENDED);
      s.client.expectNothingMore();
      assertThat(s.c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void profilerSignalsAreBroadcastInEveryState() {
    try (Setup s = new Setup()) {
      s.broadcast(START_PROFILER, ControlState.RUNNING);
      s.broadcast(STOP_PROFILER, ControlState.RUNNING);
      s.broadcast(PAUSE, ControlState.PAUSED);
      s.broadcast(START_PROFILER, ControlState.PAUSED);
      s.broadcast(STOP_PROFILER, ControlState.PAUSED);
      s.broadcast(SUSPEND, ControlState.SUSPENDED);
      s.broadcast(START_PROFILER, ControlState.SUSPENDED);
      s.broadcast(STOP_PROFILER, ControlState.SUSPENDED);
      assertThat(s.c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void stopReturnsToRunningAndTheCoordinatorServesNewEngines() {
    try (Setup s = new Setup()) {
      s.broadcast(PAUSE, ControlState.PAUSED);
      s.broadcast(STOP, ControlState.RUNNING);
      // the engines leave after STOP, as Megatron's do
      for (TestEngine e : s.engines) {
        e.disconnect();
      }
      s.c.awaitActiveEngines(0);
      TestEngine fresh = s.c.engine(7);
      s.client.submit(1, "after stop");
      long rid = fresh.receiveSubmit().requestId();
      fresh.complete(rid);
      assertThat(s.client.receiveReply().clientRequestId()).isEqualTo(1);
      // and the machine runs again from RUNNING
      s.client.send(PAUSE);
      fresh.expectFrame(PAUSE);
      s.awaitState(ControlState.PAUSED);
    }
  }
}
