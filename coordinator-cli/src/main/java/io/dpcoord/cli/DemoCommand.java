package io.dpcoord.cli;

import ch.qos.logback.classic.Level;
import com.codahale.metrics.MetricRegistry;
import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.metrics.JmxPublication;
import io.dpcoord.metrics.Metric;
import io.dpcoord.metrics.RemoteJmx;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.sim.ControlClient;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.EngineStats;
import io.dpcoord.sim.LoadConfig;
import io.dpcoord.sim.LoadGenerator;
import io.dpcoord.sim.LoadProgress;
import io.dpcoord.sim.LoadReport;
import io.dpcoord.sim.SimulatedEngine;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ./coordinator demo}: a coordinator, simulated engines and a load generator in one process,
 * with a live progress line, engine churn, and a final report.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run a coordinator on 127.0.0.1, simulated engines and a load generator in one process,"
          + " then print a report: requests, throughput, latency percentiles, cache hit rate,"
          + " per-engine load, stale detections.",
      "",
      "By default the load runs for --duration and then drains. Churn shows what the"
          + " coordinator survives: at half time every engine gets SET_GENERATION_EPOCH (caches"
          + " cleared, the coordinator's old entries become stale), at 70%% one engine is killed"
          + " and restarted with the same rank (its pending requests are answered FAILED by the"
          + " coordinator). Exit status 0 when nothing was lost or duplicated, 1 otherwise.",
      ""
    })
final class DemoCommand implements Callable<Integer> {
  private static final String JMX_TAG = "demo";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration REREGISTER_WAIT = Duration.ofSeconds(3);
  private static final double EPOCH_AT = 0.5;
  private static final double RESTART_AT = 0.7;
  private static final long LIVE_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  private static final long LINE_TICK_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long REQUESTS_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  private static final int MAX_ENGINES = 64;

  @Spec CommandSpec spec;

  @Option(
      names = "--engines",
      paramLabel = "N",
      description = "Simulated engines, 1..64 (default: ${DEFAULT-VALUE}).",
      defaultValue = "4")
  int engines;

  @Option(
      names = "--requests",
      paramLabel = "N",
      description = "Send exactly N requests instead of running for --duration.")
  Long requests;

  @Option(
      names = "--duration",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "How long the load runs before it drains (default: ${DEFAULT-VALUE}).",
      defaultValue = "10s")
  Duration duration;

  @Option(
      names = "--concurrency",
      paramLabel = "C",
      description = "Most requests in flight at once (default: ${DEFAULT-VALUE}).",
      defaultValue = "64")
  int concurrency;

  @Mixin RoutingOptions routing;

  @Option(
      names = "--jmx-port",
      paramLabel = "PORT",
      description =
          "Publish the coordinator's metrics over JMX on 127.0.0.1:PORT while the demo runs"
              + " (0 picks a port); watch them with jconsole 127.0.0.1:PORT.")
  Integer jmxPort;

  @Option(names = "--no-churn", description = "Leave out the epoch change and the engine restart.")
  boolean noChurn;

  @Mixin WorkloadOptions workload;

  @Option(
      names = "--seed",
      paramLabel = "SEED",
      description = "Seed of the workload (default: ${DEFAULT-VALUE}).",
      defaultValue = "1")
  long seed;

  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      converter = Logging.LevelConverter.class,
      description =
          "error, warn, info, debug, trace or off; the churn makes the coordinator warn"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "error")
  Level logLevel;

  private volatile boolean stopRequested;

  @Override
  public Integer call() throws IOException, InterruptedException {
    RouterConfig routerConfig = routing.toConfig();
    LoadConfig loadConfig = loadConfig();
    if (engines < 1 || engines > MAX_ENGINES) {
      throw usage("--engines must be in 1.." + MAX_ENGINES + ", got " + engines);
    }
    if (jmxPort != null && (jmxPort < 0 || jmxPort > 65535)) {
      throw usage("--jmx-port must be in 0..65535, got " + jmxPort);
    }
    if (duration.isZero() || duration.isNegative()) {
      throw usage("--duration must be positive, got " + duration);
    }
    if (requests != null && spec.commandLine().getParseResult().hasMatchedOption("--duration")) {
      throw usage("--requests and --duration exclude each other");
    }
    Logging.setLevel(logLevel);

    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    CoordinatorConfig config =
        CoordinatorConfig.builder()
            .bindAddress("127.0.0.1")
            .port(0)
            .expectedEngines(engines)
            .routing(routerConfig)
            .metrics(metrics)
            .build();
    JmxPublication jmx = null;
    RemoteJmx remote = null;
    Coordinator coordinator = null;
    Run run = null;
    try {
      if (jmxPort != null) {
        jmx = JmxPublication.start(metrics, JMX_TAG);
        remote = RemoteJmx.start(jmxPort);
        err()
            .println(
                "demo: JMX on "
                    + remote.serviceUrl()
                    + " (jconsole 127.0.0.1:"
                    + remote.port()
                    + ")");
      }
      coordinator = Coordinator.start(config);
      run = new Run(coordinator, metrics, routerConfig.blockSize(), loadConfig);
      return run.execute();
    } finally {
      if (run != null) {
        run.closeEngines();
      }
      if (coordinator != null) {
        coordinator.close();
      }
      if (remote != null) {
        remote.close();
      }
      if (jmx != null) {
        jmx.close();
      }
    }
  }

  private LoadConfig loadConfig() {
    if (requests != null && (requests < 1 || requests > LoadConfig.MAX_REQUESTS)) {
      throw usage("--requests must be in 1.." + LoadConfig.MAX_REQUESTS + ", got " + requests);
    }
    try {
      return workload
          .applyTo(
              LoadConfig.builder()
                  .requests(requests == null ? LoadConfig.UNBOUNDED : requests)
                  .concurrency(concurrency))
          .seed(seed)
          .idleTimeout(IDLE_TIMEOUT)
          .build();
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  private PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** One demo run: the engines, the load, the churn and the progress display. */
  private final class Run {
    private final Coordinator coordinator;
    private final DropwizardMetrics metrics;
    private final int blockSize;
    private final LoadConfig loadConfig;
    private final List<SimulatedEngine> live = new ArrayList<>();
    private final List<SimulatedEngine> retired = new ArrayList<>();
    private final boolean terminal = stderrIsTerminal();
    private final List<String> churnNotes = new ArrayList<>();
    private long start;
    private long lastAnswered;
    private long lastLineNanos;

    Run(Coordinator coordinator, DropwizardMetrics metrics, int blockSize, LoadConfig loadConfig) {
      this.coordinator = coordinator;
      this.metrics = metrics;
      this.blockSize = blockSize;
      this.loadConfig = loadConfig;
    }

    int execute() throws InterruptedException {
      String endpoint = coordinator.endpoint();
      for (int rank = 0; rank < engines; rank++) {
        live.add(SimulatedEngine.start(endpoint, engineConfig(rank)));
      }
      if (!coordinator.status().awaitStarted(START_TIMEOUT)) {
        err()
            .println(
                "coordinator demo: the "
                    + engines
                    + " engines did not all register within "
                    + START_TIMEOUT.toSeconds()
                    + " s");
        return 1;
      }
      err()
          .println(
              "demo: coordinator on "
                  + endpoint
                  + ", "
                  + engines
                  + " engines, policy "
                  + routing.policy.cliName()
                  + (requests == null
                      ? ", " + seconds(duration.toNanos()) + " s of load"
                      : ", " + requests + " requests")
                  + (noChurn
                      ? ", no churn"
                      : ", churn: new epoch at 50%, rank " + (engines - 1) + " restarted at 70%"));
      err().flush();

      LoadGenerator generator = new LoadGenerator(endpoint, loadConfig);
      AtomicReference<LoadReport> report = new AtomicReference<>();
      AtomicReference<Exception> failure = new AtomicReference<>();
      CountDownLatch done = new CountDownLatch(1);
      Thread load =
          new Thread(
              () -> {
                try {
                  report.set(generator.run());
                } catch (TimeoutException | RuntimeException e) {
                  failure.set(e);
                } finally {
                  done.countDown();
                }
              },
              "demo-load");
      Signals.onTerminate(
          () -> {
            stopRequested = true;
            generator.finishSubmitting();
          });
      start = System.nanoTime();
      lastLineNanos = start;
      load.start();
      try (ControlClient control = ControlClient.connect(endpoint, START_TIMEOUT)) {
        drive(generator, control, done);
      } catch (TimeoutException e) {
        generator.finishSubmitting();
        err().println("coordinator demo: " + e.getMessage());
        done.await();
        return 1;
      }
      if (terminal) {
        err().println();
      }
      err().flush();
      if (failure.get() != null) {
        err().println("coordinator demo: the load generator failed: " + failure.get().getMessage());
        return 1;
      }
      awaitAllEngines();
      return printReport(report.get());
    }

    /** Runs the clock until the load is done: churn, end of the duration, progress lines. */
    private void drive(LoadGenerator generator, ControlClient control, CountDownLatch done)
        throws InterruptedException {
      long durationNanos = duration.toNanos();
      long tick = terminal ? LIVE_TICK_NANOS : LINE_TICK_NANOS;
      long nextLine = start + tick;
      boolean epochSent = noChurn;
      boolean restarted = noChurn;
      boolean finishing = false;
      long wait = 0;
      while (!done.await(wait, TimeUnit.NANOSECONDS)) {
        long now = System.nanoTime();
        LoadProgress p = generator.progress();
        double fraction =
            requests == null
                ? (double) (now - start) / durationNanos
                : (double) p.sent() / requests;
        if (!epochSent && fraction >= EPOCH_AT) {
          control.setGenerationEpoch(1);
          churnNotes.add("SET_GENERATION_EPOCH 1 at " + seconds(now - start) + " s");
          epochSent = true;
        }
        if (!restarted && fraction >= RESTART_AT) {
          restart(engines - 1);
          churnNotes.add(
              "rank " + (engines - 1) + " killed and restarted at " + seconds(now - start) + " s");
          restarted = true;
        }
        if (!finishing && (stopRequested || (requests == null && now - start >= durationNanos))) {
          generator.finishSubmitting();
          finishing = true;
        }
        if (now >= nextLine) {
          progressLine(p, now);
          nextLine = now + tick;
        }
        wait = nextLine - now;
        if (requests != null) {
          wait = Math.min(wait, REQUESTS_POLL_NANOS);
        } else if (!finishing) {
          long next = start + durationNanos;
          if (!epochSent) {
            next = start + (long) (durationNanos * EPOCH_AT);
          } else if (!restarted) {
            next = start + (long) (durationNanos * RESTART_AT);
          }
          wait = Math.min(wait, next - now);
        }
        wait = Math.max(wait, 0);
      }
    }

    /**
     * Gives a restarted engine time to register (its handshake may be retried once, see the
     * simulator's design notes), so that the report shows the steady state.
     */
    private void awaitAllEngines() {
      long deadline = System.nanoTime() + REREGISTER_WAIT.toNanos();
      while (coordinator.status().activeEngines() < engines && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
    }

    private void restart(int rank) {
      SimulatedEngine old = live.get(rank);
      old.kill();
      retired.add(old);
      live.set(rank, SimulatedEngine.start(coordinator.endpoint(), engineConfig(rank)));
    }

    private EngineConfig engineConfig(int rank) {
      return EngineConfig.builder(rank).blockSize(blockSize).build();
    }

    private void progressLine(LoadProgress p, long now) {
      long answered = p.answered();
      double rate = (answered - lastAnswered) * 1e9 / Math.max(1, now - lastLineNanos);
      lastAnswered = answered;
      lastLineNanos = now;
      String line =
          String.format(
              Locale.ROOT,
              "%6.1f s  done %d  %.0f req/s  cache hit %.1f%%  in flight %d",
              (now - start) / 1e9,
              answered,
              rate,
              100 * cacheHitRate(),
              coordinator.status().inFlight());
      if (terminal) {
        err().print("\r" + line + "\033[K");
      } else {
        err().println(line);
      }
      err().flush();
    }

    private int printReport(LoadReport report) {
      long hits = count(Metric.ROUTING_CACHE_HIT_TOTAL);
      long misses = count(Metric.ROUTING_CACHE_MISS_TOTAL);
      long cachedBlocks = 0;
      long lookedUp = 0;
      List<SimulatedEngine> all = new ArrayList<>(retired);
      all.addAll(live);
      for (SimulatedEngine e : all) {
        EngineStats s = e.stats();
        cachedBlocks += s.cachedBlocksHit();
        lookedUp += s.blocksLookedUp();
      }
      PrintWriter out = spec.commandLine().getOut();
      StringBuilder sb = new StringBuilder();
      sb.append(
          String.format(
              Locale.ROOT,
              "dpcoord demo: %d engines, policy %s (alpha %s), concurrency %d%n%n",
              engines,
              routing.policy.cliName(),
              routing.alpha,
              concurrency));
      sb.append(report.format());
      row(
          sb,
          "cache hits",
          String.format(
              Locale.ROOT,
              "%.1f%% of prefix-routed requests (routing_cache_hit_total %d, miss %d)",
              100 * cacheHitRate(),
              hits,
              misses));
      row(
          sb,
          "engine cache",
          String.format(
              Locale.ROOT,
              "%.1f%% of prompt blocks were cached (%d of %d)",
              lookedUp == 0 ? 0.0 : 100.0 * cachedBlocks / lookedUp,
              cachedBlocks,
              lookedUp));
      row(
          sb,
          "stale",
          count(Metric.ROUTING_STALE_DETECTED_TOTAL)
              + " decisions met stale index entries (routing_stale_detected_total)");
      row(sb, "churn", churnNotes.isEmpty() ? "none" : String.join("; ", churnNotes));
      row(
          sb,
          "failed",
          count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)
              + " answered FAILED by the coordinator (coordinator_requests_failed_total)");
      row(sb, "engines", coordinator.status().activeEngines() + " active");
      row(
          sb,
          "result",
          report.ok()
              ? "OK: nothing lost or duplicated"
              : "FAILED: " + report.lost() + " lost, " + report.duplicated() + " duplicated");
      out.print(sb);
      out.flush();
      return report.ok() ? 0 : 1;
    }

    private double cacheHitRate() {
      long hits = count(Metric.ROUTING_CACHE_HIT_TOTAL);
      long all = hits + count(Metric.ROUTING_CACHE_MISS_TOTAL);
      return all == 0 ? 0.0 : (double) hits / all;
    }

    private long count(Metric metric) {
      return metrics.registry().counter(metric.metricName()).getCount();
    }

    void closeEngines() {
      for (SimulatedEngine e : live) {
        e.close();
      }
    }
  }

  private static void row(StringBuilder sb, String label, String value) {
    sb.append(String.format(Locale.ROOT, "%-14s%s%n", label, value));
  }

  private static String seconds(long nanos) {
    return String.format(Locale.ROOT, "%.1f", nanos / 1e9);
  }

  /** Whether stderr is a terminal (Linux: where fd 2 points; elsewhere: whether a console is). */
  private static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return System.console() != null;
    }
  }
}
