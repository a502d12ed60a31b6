package io.dpcoord.cli;

import ch.qos.logback.classic.Level;
import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.sim.LoadConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ./coordinator demo}: a coordinator, simulated engines and a load generator in one process,
 * with a live progress line, engine churn, and a final report. This class reads the flags into a
 * {@link DemoConfig}; {@link DemoRun} does the rest.
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
  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);
  @Spec CommandSpec spec;

  @Mixin EnginesOption engines;

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

  @Mixin ConcurrencyOption concurrency;

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

  @Mixin SeedOption seed;

  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      converter = Logging.LevelConverter.class,
      description =
          "error, warn, info, debug, trace or off; the churn makes the coordinator warn"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "error")
  Level logLevel;

  @Option(
      names = "--curve",
      description =
          "Run every connection with CurveZMQ (encrypted, keys checked as serve"
              + " --curve-secret-key does), with throwaway keys made for this run.")
  boolean curve;

  @Override
  public Integer call() throws IOException, InterruptedException {
    DemoConfig config = config();
    Logging.setLevel(logLevel);
    return new DemoRun(config, spec.commandLine().getOut(), spec.commandLine().getErr()).execute();
  }

  /** The flags' values, checked; a bad one is a usage error. */
  private DemoConfig config() {
    RouterConfig routerConfig =
        routing.toConfig(MegatronRelease.V0_19, "the demo's engines (Megatron 0.19)");
    DemoCurve keys = curve ? DemoCurve.generate() : null;
    LoadConfig loadConfig = loadConfig(keys);
    if (engines.problem() != null) {
      throw usage(engines.problem());
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
    return new DemoConfig(
        engines.value,
        requests,
        duration,
        concurrency.value,
        routerConfig,
        loadConfig,
        jmxPort,
        !noChurn,
        keys);
  }

  private LoadConfig loadConfig(DemoCurve keys) {
    if (requests != null && (requests < 1 || requests > LoadConfig.MAX_REQUESTS)) {
      throw usage("--requests must be in 1.." + LoadConfig.MAX_REQUESTS + ", got " + requests);
    }
    try {
      return workload
          .applyTo(
              LoadConfig.builder()
                  .requests(requests == null ? LoadConfig.UNBOUNDED : requests)
                  .concurrency(concurrency.value))
          .seed(seed.value)
          .idleTimeout(IDLE_TIMEOUT)
          .curve(keys == null ? null : keys.clientKeys())
          .build();
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
