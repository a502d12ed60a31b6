package io.dpcoord.cli;

import com.codahale.metrics.MetricRegistry;
import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.metrics.JmxPublication;
import io.dpcoord.metrics.RemoteJmx;
import io.dpcoord.sim.ControlClient;
import io.dpcoord.sim.LoadGenerator;
import io.dpcoord.sim.LoadProgress;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One demo run: a {@link LocalCluster} (its metrics published over JMX if asked), the {@link
 * BackgroundLoad}, and on this thread the clock that takes the {@link Churn} steps, ends the load
 * and updates the {@link ProgressLine}; then the {@link DemoReport}.
 */
final class DemoRun {
  private static final String JMX_TAG = "demo";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  private static final long REQUESTS_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final DemoConfig config;
  private final PrintWriter out;
  private final PrintWriter err;
  private final DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
  private final DemoCounters counters = new DemoCounters(metrics);
  private final Churn churn;
  private volatile boolean stopRequested;

  DemoRun(DemoConfig config, PrintWriter out, PrintWriter err) {
    this.config = config;
    this.out = out;
    this.err = err;
    this.churn = new Churn(config.churn(), config.engines());
  }

  /** Runs the demo, prints the report; returns the exit status. */
  int execute() throws IOException, InterruptedException {
    JmxPublication jmx = null;
    RemoteJmx remote = null;
    try {
      if (config.jmxPort() != null) {
        jmx = JmxPublication.start(metrics, JMX_TAG);
        remote = RemoteJmx.start(config.jmxPort());
        err.println(
            "demo: JMX on " + remote.serviceUrl() + " (jconsole 127.0.0.1:" + remote.port() + ")");
      }
      try (LocalCluster cluster =
          LocalCluster.start(config.engines(), config.routing(), metrics, config.curve())) {
        if (jmx != null) {
          jmx.summarize(cluster.status());
        }
        return run(cluster);
      }
    } finally {
      if (remote != null) {
        remote.close();
      }
      if (jmx != null) {
        jmx.close();
      }
    }
  }

  private int run(LocalCluster cluster) throws InterruptedException {
    cluster.startEngines(config.engines());
    if (!cluster.status().awaitStarted(START_TIMEOUT)) {
      err.println(
          "coordinator demo: the "
              + config.engines()
              + " engines did not all register within "
              + START_TIMEOUT.toSeconds()
              + " s");
      return 1;
    }
    err.println(
        "demo: coordinator on "
            + cluster.endpoint()
            + ", "
            + config.engines()
            + " engines, policy "
            + config.routing().policy().cliName()
            + (config.requests() == null
                ? String.format(Locale.ROOT, ", %.1f s of load", config.duration().toNanos() / 1e9)
                : ", " + config.requests() + " requests")
            + churn.plan()
            + (config.curve() == null ? "" : ", CurveZMQ"));
    err.flush();

    BackgroundLoad load = new BackgroundLoad(new LoadGenerator(cluster.endpoint(), config.load()));
    Signals.onTerminate(
        () -> {
          stopRequested = true;
          load.finishSubmitting();
        });
    ProgressLine progress = new ProgressLine(err, ProgressLine.stderrIsTerminal());
    load.start();
    try (ControlClient control =
        ControlClient.connect(
            cluster.endpoint(),
            config.curve() == null ? null : config.curve().clientKeys(),
            START_TIMEOUT)) {
      drive(cluster, load, control, progress);
    } catch (TimeoutException e) {
      load.finishSubmitting();
      err.println("coordinator demo: " + e.getMessage());
      load.await();
      return 1;
    }
    progress.end();
    if (load.failure() != null) {
      err.println("coordinator demo: the load generator failed: " + load.failure().getMessage());
      return 1;
    }
    churn.awaitEngines(() -> cluster.status().activeEngines());
    DemoReport report =
        new DemoReport(
            config,
            load.report(),
            counters,
            cluster.engineStats(),
            churn.summary(),
            cluster.status().activeEngines());
    out.print(report.format());
    out.flush();
    return report.ok() ? 0 : 1;
  }

  /**
   * Runs the clock until the load is done: churn, end of the duration, progress lines. Times are
   * nanoseconds since the load started.
   */
  private void drive(
      LocalCluster cluster, BackgroundLoad load, ControlClient control, ProgressLine progress)
      throws InterruptedException {
    long durationNanos = config.duration().toNanos();
    boolean finishing = false;
    long wait = 0;
    while (!load.await(wait)) {
      long now = load.elapsedNanos();
      LoadProgress p = load.progress();
      churn.advance(
          config.fraction(now, p.sent()), now, control::setGenerationEpoch, cluster::restart);
      if (!finishing && (stopRequested || (config.requests() == null && now >= durationNanos))) {
        load.finishSubmitting();
        finishing = true;
      }
      if (progress.isDue(now)) {
        progress.print(now, p.answered(), counters.cacheHitRate(), cluster.status().inFlight());
      }
      wait = progress.nextAt() - now;
      if (config.requests() != null) {
        wait = Math.min(wait, REQUESTS_POLL_NANOS);
      } else if (!finishing) {
        wait = Math.min(wait, (long) (durationNanos * churn.nextAt()) - now);
      }
      wait = Math.max(wait, 0);
    }
  }
}
