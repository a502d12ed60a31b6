package io.dpcoord.cli;

import ch.qos.logback.classic.Level;
import com.codahale.metrics.MetricRegistry;
import io.dpcoord.cli.monitor.MonitoringServer;
import io.dpcoord.metrics.ConsoleReporting;
import io.dpcoord.metrics.CoordinatorMetrics;
import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.metrics.JmxPublication;
import io.dpcoord.metrics.RemoteJmx;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.server.AccessRules;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.server.Limits;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./coordinator serve}: the coordinator that Megatron engines and clients connect to. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run the coordinator: a ZMQ ROUTER socket that Megatron-LM clients and engines connect to.",
      "",
      "The first line on stdout is the bound endpoint (tcp://HOST:PORT). SIGTERM, Ctrl-C or a"
          + " SHUTDOWN message stop it cleanly: pending requests are answered FAILED, exit status"
          + " 0. Exit status 1 if the event loop stopped unexpectedly, 2 on bad usage.",
      ""
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--bind",
      paramLabel = "ADDRESS",
      description = "Address to bind (default: ${DEFAULT-VALUE}).",
      defaultValue = "127.0.0.1")
  String bind;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).",
      defaultValue = "0")
  int port;

  @Option(
      names = "--engines",
      paramLabel = "N",
      description =
          "Engines to wait for before serving; their identities fix the rank order"
              + " (default: ${DEFAULT-VALUE}: engines register as they come).",
      defaultValue = "0")
  int engines;

  @Mixin RoutingOptions routing;

  @Option(
      names = "--engine-wire",
      paramLabel = "RELEASE",
      converter = EngineWire.Converter.class,
      description = {
        "The Megatron release the engines run: 0.19 (main), 0.19.0 (the core_v0.19.0 release,"
            + " whose engine takes a SUBMIT of three fields only and has no aborts, KV handoff or"
            + " multimodal data: such requests are answered FAILED) or 0.18 (core_v0.17.x and"
            + " core_v0.18.x, the old header numbering) or 0.16 (core_v0.16.x: acknowledged PAUSE"
            + " and STOP, records that hold requests, round robin; its clients only) or 0.15"
            + " (core_v0.15.x: per-step replies whose records the coordinator builds, engines"
            + " tp-coord-RANK, round robin; its clients only; give it --tokenizer); routing then"
            + " follows that release. Clients of 0.18 and 0.19 are told apart by their CONNECT"
            + " and served in their own dialect (default: ${DEFAULT-VALUE})."
      },
      defaultValue = "0.19")
  EngineWire engineWire;

  @Mixin TokenizerOption tokenizer;

  /**
   * The routing of the engines' release; without {@code --policy}, Megatron's default of that
   * release (round_robin for core_v0.15 and core_v0.16, whose coordinators route round robin only).
   */
  RouterConfig routingConfig() {
    Dialect d = engineWire.dialect();
    return routing.toConfig(
        CoordinatorConfig.releaseOf(d),
        "--engine-wire " + engineWire.name(),
        d == Dialect.V0_16 || d == Dialect.V0_15 ? Policy.ROUND_ROBIN : Policy.LONGEST_PREFIX);
  }

  @Mixin LivenessOptions liveness;

  @Option(
      names = "--tokenizer-threads",
      paramLabel = "N",
      description =
          "Threads that tokenize text prompts and detokenize replies off the event loop; 0 does"
              + " it on the loop (default: half the cores, 2 to 8).")
  Integer tokenizerThreads;

  @Option(
      names = "--detokenize",
      negatable = true,
      fallbackValue = "true",
      description =
          "With --tokenizer, fill generated_text in every finished record as Megatron's"
              + " coordinator does; --no-detokenize forwards records untouched (default:"
              + " ${DEFAULT-VALUE}).",
      defaultValue = "true")
  boolean detokenize;

  @Option(
      names = "--jmx-port",
      paramLabel = "PORT",
      description =
          "Also serve JMX remotely on 127.0.0.1:PORT (0 picks one) for JConsole or VisualVM;"
              + " the metrics are always visible to a local JMX console. Open"
              + " dpcoord:type=Coordinator,coordinator=TAG first: the coordinator at a glance.")
  Integer jmxPort;

  @Mixin PrometheusOptions prometheus;

  @Option(
      names = "--name",
      paramLabel = "TAG",
      description =
          "Tag of this coordinator's MBeans (dpcoord:...,coordinator=TAG) (default:"
              + " ${DEFAULT-VALUE}).",
      defaultValue = "coordinator")
  String name;

  @Option(
      names = "--report-every",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Print every metric to stderr this often (e.g. 60s), for operators without a JMX"
              + " console; 0 turns it off (default: ${DEFAULT-VALUE}).",
      defaultValue = "0")
  Duration reportEvery;

  @Option(
      names = "--schedule-out",
      paramLabel = "FILE",
      description = "Write every routing decision to FILE as JSON (Megatron's schedule output).")
  Path scheduleOut;

  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      converter = Logging.LevelConverter.class,
      description = "error, warn, info, debug, trace or off (default: ${DEFAULT-VALUE}).",
      defaultValue = "info")
  Level logLevel;

  @Mixin AccessOptions access;

  @Mixin LimitOptions limits;

  @Mixin JmxSecurityOptions jmxSecurity;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw usage("--port must be in 0..65535, got " + port);
    }
    if (engines < 0) {
      throw usage("--engines must be >= 0, got " + engines);
    }
    if (jmxPort != null && (jmxPort < 0 || jmxPort > 65535)) {
      throw usage("--jmx-port must be in 0..65535, got " + jmxPort);
    }
    if (scheduleOut != null && Files.isDirectory(scheduleOut)) {
      throw usage("--schedule-out " + scheduleOut + " is a directory");
    }
    if (tokenizerThreads != null && (tokenizerThreads < 0 || tokenizerThreads > 256)) {
      throw usage("--tokenizer-threads must be in 0..256, got " + tokenizerThreads);
    }
    if (jmxPort == null && jmxSecurity.given()) {
      throw usage("--jmx-password-file, --jmx-access-file and --jmx-ssl* need --jmx-port");
    }
    AccessRules rules;
    Limits limitValues;
    RemoteJmx.Security jmxRules;
    try {
      rules = access.toRules(bind, engineWire.dialect());
      limitValues = limits.toLimits();
      jmxRules = jmxSecurity.toSecurity();
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    Logging.setLevel(logLevel);
    CoordinatorConfig.Builder config =
        CoordinatorConfig.builder()
            .bindAddress(bind)
            .access(rules)
            .limits(limitValues)
            .port(port)
            .expectedEngines(engines)
            .routing(routingConfig())
            .scheduleOut(scheduleOut)
            .tokenizer(tokenizer.load())
            .detokenize(detokenize)
            .engineDialect(engineWire.dialect())
            .engineCoreV0190(engineWire.coreV0190())
            .tokenizerThreads(
                tokenizerThreads != null
                    ? tokenizerThreads
                    : CoordinatorConfig.defaultTokenizerThreads());
    liveness.applyTo(config);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();

    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    CoordinatorMetrics recorded = prometheus.metrics(metrics, name);
    JmxPublication jmx;
    try {
      jmx = JmxPublication.start(metrics, name);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw usage("--name " + name + ": " + e.getMessage());
    }
    ConsoleReporting reports = null;
    try (RemoteJmx remote = startRemoteJmx(jmxRules);
        Coordinator coordinator = startCoordinator(config.metrics(recorded).build());
        MonitoringServer monitor = prometheus.start(coordinator, name, engines)) {
      jmx.summarize(coordinator.status());
      Signals.onTerminate(coordinator::shutdown);
      // after the handler: whoever sees a report may send SIGTERM and expect a clean stop
      reports =
          reportEvery.isZero() ? null : ConsoleReporting.start(metrics, reportEvery, System.err);
      out.println(coordinator.endpoint());
      out.flush();
      PrometheusOptions.announce(monitor, err);
      if (remote != null) {
        err.println("JMX: " + remote.serviceUrl() + " (jconsole 127.0.0.1:" + remote.port() + ")");
        err.flush();
      }
      while (!coordinator.awaitTermination(Duration.ofSeconds(1))) {
        // the loop stops on SHUTDOWN, SIGTERM or Ctrl-C
      }
      if (coordinator.failure() != null) {
        err.println(
            "coordinator serve: the event loop stopped unexpectedly: " + coordinator.failure());
        err.flush();
        return 1;
      }
    } finally {
      if (reports != null) {
        reports.close(); // prints a last report
      }
      jmx.close();
    }
    return 0;
  }

  private RemoteJmx startRemoteJmx(RemoteJmx.Security security) {
    if (jmxPort == null) {
      return null;
    }
    try {
      return RemoteJmx.start(jmxPort, security);
    } catch (IOException e) {
      throw usage("--jmx-port " + jmxPort + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  private Coordinator startCoordinator(CoordinatorConfig config) {
    try {
      return Coordinator.start(config);
    } catch (BindException e) {
      throw usage(e.getMessage());
    } catch (IOException e) {
      throw usage("cannot start: " + e.getMessage());
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
