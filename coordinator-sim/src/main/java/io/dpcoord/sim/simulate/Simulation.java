package io.dpcoord.sim.simulate;

import io.dpcoord.routing.Decision;
import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.collections.LongHashSet;

/**
 * A discrete-event simulation of one configuration: the workload's requests reach the same {@link
 * Router} the server uses at their arrival times, and the engines it chooses serve them in virtual
 * time. Nothing sleeps and nothing reads the wall clock; the same workload and configuration give
 * the same result on any thread.
 *
 * <p>The router learns only what the coordinator learns: its own decisions (commit) and finished
 * requests (complete), with the simulation's clock for its TTL; never the engines' caches. Events
 * at the same instant: engine steps end first (in engine id order), then requests arrive, then idle
 * engines that received work start a step (so requests arriving together start together).
 */
public final class Simulation implements ModelEngine.Listener {
  private static final int PROGRESS_EVERY = 1024;

  private final Workload workload;
  private final SimConfig config;
  private final AtomicLong progress;
  private final Router router;
  private final ModelEngine[] engines;
  private final int[] routerId;
  private final int[] engineOfRouterId;
  private final LongHashSet single = new LongHashSet();
  private final LongHashSet[] routed;
  private long now;
  private long seq;

  private long promptBlocks;
  private long cachedBlocks;
  private long promptTokens;
  private long cachedTokens;
  private long predictedBlocks;
  private long predictedCached;
  private long outputTokens;
  private long boundSingle;
  private long boundRouted;
  private long bestNow;
  private final long[] requestsPerEngine;
  private long[] ttft = new long[1024];
  private long[] e2e = new long[1024];
  private int finished;
  private long firstArrival = -1;
  private long lastFinish;

  private Simulation(Workload workload, SimConfig config, AtomicLong progress) {
    this.workload = workload;
    this.config = config;
    this.progress = progress;
    RouterConfig routing =
        config.routing().toBuilder().blockSize(workload.blockSize()).nanoClock(() -> now).build();
    this.router = new Router(routing);
    int n = config.engines();
    List<byte[]> identities = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      identities.add(new byte[] {(byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i});
    }
    routerId = router.registerInitial(identities);
    engineOfRouterId = new int[n];
    engines = new ModelEngine[n];
    routed = new LongHashSet[n];
    requestsPerEngine = new long[n];
    for (int i = 0; i < n; i++) {
      engineOfRouterId[routerId[i]] = i;
      engines[i] = new ModelEngine(i, config, workload.blockSize(), this);
      routed[i] = new LongHashSet();
    }
  }

  /**
   * Simulates {@code workload} under {@code config}.
   *
   * @param progress incremented as requests arrive (in steps of 1,024), for a progress line; may be
   *     null
   * @throws IllegalArgumentException if the workload's arrival times go backwards
   */
  public static SimResult run(Workload workload, SimConfig config, AtomicLong progress) {
    return new Simulation(workload, config, progress).run();
  }

  private SimResult run() {
    Iterator<SimRequest> requests = workload.requests();
    SimRequest next = requests.hasNext() ? requests.next() : null;
    long arrival = next == null ? 0 : arrivalOf(next);
    long arrived = 0;
    while (true) {
      ModelEngine soonest = null;
      for (ModelEngine e : engines) {
        if (e.busy() && (soonest == null || before(e, soonest))) {
          soonest = e;
        }
      }
      if (next != null
          && (soonest == null
              || arrival < soonest.stepEnd()
              || (arrival == soonest.stepEnd() && soonest.waking()))) {
        now = arrival;
        arrive(next);
        if (++arrived % PROGRESS_EVERY == 0 && progress != null) {
          progress.addAndGet(PROGRESS_EVERY);
        }
        next = requests.hasNext() ? requests.next() : null;
        if (next != null) {
          long a = arrivalOf(next);
          if (a < arrival) {
            throw new IllegalArgumentException(
                "arrival times go backwards at request "
                    + (arrived + 1)
                    + " of "
                    + workload.name());
          }
          arrival = a;
        }
      } else if (soonest != null) {
        now = soonest.stepEnd();
        soonest.endStep();
      } else {
        break;
      }
    }
    if (progress != null) {
      progress.addAndGet(arrived % PROGRESS_EVERY);
    }
    return result();
  }

  /** Event order: time, then step ends before wake-ups, then engine id. */
  private static boolean before(ModelEngine a, ModelEngine b) {
    return a.stepEnd() != b.stepEnd()
        ? a.stepEnd() < b.stepEnd()
        : a.waking() != b.waking() ? !a.waking() : a.id < b.id;
  }

  private long arrivalOf(SimRequest r) {
    return config.speed() == 1.0 ? r.arrivalNanos() : Math.round(r.arrivalNanos() / config.speed());
  }

  private void arrive(SimRequest r) {
    if (firstArrival < 0) {
      firstArrival = now;
    }
    long[] blocks = r.blocks();
    Decision d = router.route(blocks, blocks.length, true);
    router.commit(d, blocks, blocks.length);
    int e = engineOfRouterId[d.engine()];
    requestsPerEngine[e]++;
    promptBlocks += blocks.length;
    promptTokens += r.inputTokens();
    boundSingle += leadingRunThenAdd(single, blocks);
    boundRouted += leadingRunThenAdd(routed[e], blocks);
    int best = 0;
    for (ModelEngine engine : engines) {
      best = Math.max(best, engine.cachedRun(blocks));
    }
    bestNow += best;
    ModelEngine.Job job = new ModelEngine.Job(r, now, seq++, d.matchDepth());
    job.matchStamp = d.matchStamp();
    job.matchAge = d.matchAge();
    job.hiddenAge = d.hiddenAge();
    engines[e].submit(job, now);
  }

  private static int leadingRunThenAdd(LongHashSet set, long[] blocks) {
    int run = 0;
    while (run < blocks.length && set.contains(blocks[run])) {
      run++;
    }
    for (int i = run; i < blocks.length; i++) {
      set.add(blocks[i]);
    }
    return run;
  }

  @Override
  public void admitted(ModelEngine engine, ModelEngine.Job job) {
    SimRequest r = job.request;
    cachedBlocks += job.hits;
    cachedTokens += ModelEngine.cachedTokens(job.hits, workload.blockSize(), r.inputTokens());
    predictedBlocks += job.predicted;
    predictedCached += Math.min(job.predicted, job.hits);
  }

  @Override
  public void finished(ModelEngine engine, ModelEngine.Job job, long at) {
    int id = routerId[engine.id];
    long[] blocks = job.request.blocks();
    router.complete(id, blocks, blocks.length);
    router.feedback(id, job.predicted, job.hits, job.matchStamp, job.matchAge, job.hiddenAge);
    if (finished == ttft.length) {
      ttft = Arrays.copyOf(ttft, finished * 2);
      e2e = Arrays.copyOf(e2e, finished * 2);
    }
    ttft[finished] = job.firstToken - job.arrival;
    e2e[finished] = at - job.arrival;
    finished++;
    outputTokens += job.request.outputTokens();
    lastFinish = Math.max(lastFinish, at);
  }

  private SimResult result() {
    double[] busy = new double[engines.length];
    long evictions = 0;
    for (int i = 0; i < engines.length; i++) {
      busy[i] = engines[i].busyNanos() / 1e9;
      evictions += engines[i].evictions();
    }
    return new SimResult(
        config,
        finished,
        promptBlocks,
        cachedBlocks,
        promptTokens,
        cachedTokens,
        predictedBlocks,
        predictedCached,
        outputTokens,
        percentilesMs(ttft, finished),
        percentilesMs(e2e, finished),
        finished == 0 ? 0 : (lastFinish - firstArrival) / 1e9,
        busy,
        requestsPerEngine,
        evictions,
        boundSingle,
        boundRouted,
        bestNow);
  }

  /** p50, p90 and p99 by nearest rank, in milliseconds. */
  static double[] percentilesMs(long[] values, int n) {
    long[] sorted = Arrays.copyOf(values, n);
    Arrays.sort(sorted);
    double[] p = new double[3];
    double[] q = {0.50, 0.90, 0.99};
    for (int i = 0; i < q.length; i++) {
      p[i] = n == 0 ? 0 : sorted[(int) Math.ceil(q[i] * n) - 1] / 1e6;
    }
    return p;
  }
}
