package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.LoadConfig;
import io.dpcoord.sim.LoadGenerator;
import io.dpcoord.sim.LoadReport;
import io.dpcoord.sim.SimulatedEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Nothing lost, nothing doubled, while engines come and go under load: the real load generator and
 * simulated engines against the coordinator.
 */
@Timeout(120)
class ChurnTest {
  private static final int REQUESTS = 5_000;

  /** Engines fast enough that the run is short, slow enough that requests are always in flight. */
  private static EngineConfig engine(int rank) {
    return EngineConfig.builder(rank)
        .base(Duration.ofNanos(500_000))
        .perPromptToken(Duration.ofNanos(500))
        .perGeneratedToken(Duration.ofNanos(50_000))
        .build();
  }

  @Test
  void everyRequestIsAnsweredExactlyOnceWhileEnginesLeaveAndJoin() throws Exception {
    try (TestCoordinator c = TestCoordinator.start()) {
      Map<Integer, SimulatedEngine> live = new HashMap<>();
      List<SimulatedEngine> all = new ArrayList<>();
      for (int rank = 0; rank < 4; rank++) {
        SimulatedEngine e = SimulatedEngine.start(c.endpoint(), engine(rank));
        live.put(rank, e);
        all.add(e);
      }
      c.awaitActiveEngines(4);

      LoadGenerator load =
          new LoadGenerator(
              c.endpoint(),
              LoadConfig.builder()
                  .requests(REQUESTS)
                  .concurrency(64)
                  .generatedTokens(8)
                  .idleTimeout(Duration.ofSeconds(20))
                  .build());
      CompletableFuture<LoadReport> run =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return load.run();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });

      // one step of churn every 500 answered requests: kills, polite leaves, new and restarted
      // identities, sometimes two at once
      List<Runnable> steps =
          List.of(
              () -> live.remove(1).kill(),
              () -> start(c, live, all, 4),
              () -> live.remove(2).close(),
              () -> start(c, live, all, 1), // restarted under its old identity
              () -> {
                live.remove(0).kill();
                live.remove(3).kill();
              },
              () -> start(c, live, all, 2), // back after a DISCONNECT
              () -> start(c, live, all, 0),
              () -> live.remove(4).close(),
              () -> start(c, live, all, 5));
      int answeredAtStep = 0;
      int stepsTaken = 0;
      for (Runnable step : steps) {
        answeredAtStep += REQUESTS / (steps.size() + 1);
        int threshold = answeredAtStep;
        while (!run.isDone() && load.progress().answered() < threshold) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        if (run.isDone()) {
          break;
        }
        step.run();
        stepsTaken++;
      }
      LoadReport report = run.get(90, TimeUnit.SECONDS);
      assertThat(stepsTaken).as("churn steps taken while the load ran").isEqualTo(steps.size());
      all.forEach(SimulatedEngine::close);

      assertThat(report.sent()).isEqualTo(REQUESTS);
      assertThat(report.lost()).as("lost").isZero();
      assertThat(report.duplicated()).as("duplicated").isZero();
      assertThat(report.unknownIds()).as("replies for unknown ids").isZero();
      assertThat(report.invalidFrames()).as("invalid frames").isZero();
      assertThat(report.answered()).isEqualTo(REQUESTS);

      c.awaitInFlight(0);
      c.awaitGauge(Metric.COORDINATOR_REQUESTS_IN_FLIGHT, 0);
      c.awaitCount(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL, report.completed());
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL)).isEqualTo(REQUESTS);
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isEqualTo(report.failed());
      assertThat(
              c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)
                  + c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL))
          .isEqualTo(c.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL));
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
    }
  }

  private static void start(
      TestCoordinator c, Map<Integer, SimulatedEngine> live, List<SimulatedEngine> all, int rank) {
    SimulatedEngine e = SimulatedEngine.start(c.endpoint(), engine(rank));
    live.put(rank, e);
    all.add(e);
  }
}
