package io.dpcoord.sim.simulate;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs one simulation per configuration on a pool of threads, one configuration per thread at a
 * time. Simulations share nothing but the (replayable) workload, so the results are those of a
 * sequential run, in the order of the configurations.
 */
public final class Sweep {
  private final AtomicLong requestsSimulated = new AtomicLong();
  private final AtomicInteger configurationsDone = new AtomicInteger();

  /** Requests simulated so far over every configuration (for a progress line). */
  public long requestsSimulated() {
    return requestsSimulated.get();
  }

  /** Configurations finished so far. */
  public int configurationsDone() {
    return configurationsDone.get();
  }

  /**
   * Simulates {@code workload} under each configuration on {@code threads} threads.
   *
   * @return the results, in the order of {@code configs}
   * @throws IllegalArgumentException if the workload is invalid (e.g. arrivals go backwards)
   */
  public List<SimResult> run(Workload workload, List<SimConfig> configs, int threads)
      throws InterruptedException {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    if (configs.isEmpty()) {
      return List.of();
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.min(threads, configs.size()),
            r -> {
              Thread t = new Thread(r, "simulate");
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<SimResult>> futures = new ArrayList<>();
      for (SimConfig config : configs) {
        futures.add(
            pool.submit(
                () -> {
                  SimResult r = Simulation.run(workload, config, requestsSimulated);
                  configurationsDone.incrementAndGet();
                  return r;
                }));
      }
      List<SimResult> results = new ArrayList<>();
      for (Future<SimResult> f : futures) {
        try {
          results.add(f.get());
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException re) {
            throw re;
          }
          throw new IllegalStateException(e.getCause());
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }
}
