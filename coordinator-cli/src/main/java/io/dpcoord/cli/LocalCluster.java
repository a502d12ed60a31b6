package io.dpcoord.cli;

import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.server.CoordinatorStatus;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.EngineStats;
import io.dpcoord.sim.SimulatedEngine;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A coordinator on 127.0.0.1 and its simulated engines, one a rank. An engine killed for a restart
 * is kept, for its share of the statistics.
 */
final class LocalCluster implements AutoCloseable {
  private static final Duration GONE_WAIT = Duration.ofSeconds(5);
  private final Coordinator coordinator;
  private final int blockSize;
  private final DemoCurve curve;
  private final List<SimulatedEngine> live = new ArrayList<>();
  private final List<SimulatedEngine> retired = new ArrayList<>();

  private LocalCluster(Coordinator coordinator, int blockSize, DemoCurve curve) {
    this.coordinator = coordinator;
    this.blockSize = blockSize;
    this.curve = curve;
  }

  /**
   * Starts the coordinator, on a free port, waiting for {@code engines} engines; none runs yet.
   *
   * @param curve the keys of every connection, or null for plain ones
   */
  static LocalCluster start(
      int engines, RouterConfig routing, DropwizardMetrics metrics, DemoCurve curve)
      throws IOException {
    CoordinatorConfig.Builder config =
        CoordinatorConfig.builder()
            .bindAddress("127.0.0.1")
            .port(0)
            .expectedEngines(engines)
            .routing(routing)
            .metrics(metrics);
    if (curve != null) {
      config.access(curve.rules());
    }
    return new LocalCluster(Coordinator.start(config.build()), routing.blockSize(), curve);
  }

  String endpoint() {
    return coordinator.endpoint();
  }

  CoordinatorStatus status() {
    return coordinator.status();
  }

  /** Starts engines of ranks 0 to {@code engines - 1}; each registers with the coordinator. */
  void startEngines(int engines) {
    for (int rank = 0; rank < engines; rank++) {
      live.add(SimulatedEngine.start(endpoint(), engineConfig(rank)));
    }
  }

  /**
   * Kills the engine of {@code rank} and starts a new one with the same rank once the coordinator
   * has seen the old one go (at most {@link #GONE_WAIT} later), as a supervisor should: a newcomer
   * that registered before the old connection's end was read would be removed by that end
   * (docs/OBSERVABILITY.md, "An engine restarted under the same identity at once").
   */
  void restart(int rank) {
    SimulatedEngine old = live.get(rank);
    old.kill();
    retired.add(old);
    awaitUntil(() -> status().activeEngines() < live.size(), GONE_WAIT);
    live.set(rank, SimulatedEngine.start(endpoint(), engineConfig(rank)));
  }

  /** Returns once {@code done} holds, or after {@code limit}, looking every millisecond. */
  static void awaitUntil(BooleanSupplier done, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!done.getAsBoolean() && System.nanoTime() - deadline < 0) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }

  /** The statistics of every engine started, the killed ones first. */
  List<EngineStats> engineStats() {
    List<EngineStats> stats = new ArrayList<>();
    retired.forEach(e -> stats.add(e.stats()));
    live.forEach(e -> stats.add(e.stats()));
    return stats;
  }

  private EngineConfig engineConfig(int rank) {
    return EngineConfig.builder(rank)
        .blockSize(blockSize)
        .curve(curve == null ? null : curve.engineKeys())
        .build();
  }

  /** Closes the running engines (the killed ones are gone already), then the coordinator. */
  @Override
  public void close() {
    try {
      for (SimulatedEngine e : live) {
        e.close();
      }
    } finally {
      coordinator.close();
    }
  }
}
