package io.dpcoord.cli;

import io.dpcoord.cli.bench.BenchReport;
import io.dpcoord.cli.bench.BenchRow;
import io.dpcoord.cli.bench.LoadBench;
import io.dpcoord.cli.bench.Megatron;
import io.dpcoord.cli.bench.Target;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./coordinator bench}: the coordinator against a bare forwarder under the same load. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Load benchmark: the coordinator and a bare jeromq forwarder (the floor: no validation, no"
          + " routing, fewest pending requests), one after the other, against the same simulated"
          + " engines and closed-loop client, at each prompt length and (for the coordinator)"
          + " with prefix routing on and off.",
      "",
      "An unmeasured first run (the first case's warm-up) compiles the engines' and the client's"
          + " code. Each run starts a fresh server JVM, connects the engines and the client from this JVM,"
          + " sends the warm-up requests (half from one client, half from a second), then the"
          + " measured ones from a third, and reads the server JVM's CPU"
          + " time over the measured ones by thread group: the event loop, jeromq's I/O threads,"
          + " the coordinator's workers (which hash long prompts), the garbage collector, the JIT"
          + " compilers, and the rest. Added latency is the"
          + " client's send-to-reply time minus --engine-latency. Prints progress on stderr, then"
          + " a table on stdout, and writes the same as CSV. Runs with longer prompts send fewer"
          + " requests: N x sqrt(256 / prompt tokens). Exit status 1 if a request is lost,"
          + " duplicated or fails.",
      ""
    })
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--prompt-tokens",
      split = ",",
      paramLabel = "N",
      description = "Prompt lengths in tokens (default: ${DEFAULT-VALUE}).",
      defaultValue = "256,2048,8192")
  List<Integer> promptTokens;

  @Option(
      names = "--routing",
      split = ",",
      paramLabel = "on|off",
      description =
          "The coordinator's prefix routing: on is longest_prefix, off is prefix caching off"
              + " (fewest pending requests, no hashing) (default: ${DEFAULT-VALUE}).",
      defaultValue = "on,off")
  List<String> routing;

  @Option(
      names = "--targets",
      split = ",",
      paramLabel = "TARGET",
      description =
          "forwarder, coordinator, coordinator-no-metrics (the coordinator with the no-op"
              + " metrics binding instead of Dropwizard's, to measure what the metrics cost), and"
              + " megatron (Megatron-LM's own coordinator, from --megatron, with routing on and"
              + " off as the coordinator's) (default: ${DEFAULT-VALUE}).",
      defaultValue = "forwarder,coordinator")
  List<String> targets;

  @Option(
      names = "--requests",
      paramLabel = "N",
      description = "Measured requests per run at 256-token prompts (default: ${DEFAULT-VALUE}).",
      defaultValue = "60000")
  int requests;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description = "Warm-up requests per run at 256-token prompts (default: ${DEFAULT-VALUE}).",
      defaultValue = "30000")
  int warmup;

  @Mixin ConcurrencyOption concurrency;

  @Mixin EnginesOption engines;

  @Option(
      names = "--engine-latency",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Every engine answers this long after a request arrives (default: ${DEFAULT-VALUE}).",
      defaultValue = "0")
  Duration engineLatency;

  @Option(
      names = "--rate",
      paramLabel = "R",
      description =
          "Paces the measured requests to R a second (the warm-up runs unpaced), e.g. half the"
              + " maximum rate, for the added latency at that load; 0 sends as fast as"
              + " --concurrency allows (default: ${DEFAULT-VALUE}).",
      defaultValue = "0")
  double rate;

  @Option(
      names = "--rounds",
      paramLabel = "N",
      description =
          "Runs every case N times, the whole list once per round, so that the same case is"
              + " measured at different moments of a noisy machine; with N above 1 a second table"
              + " gives each case's medians and ranges, and vs forwarder is taken within each"
              + " round (default: ${DEFAULT-VALUE}).",
      defaultValue = "1")
  int rounds;

  @Option(
      names = "--megatron",
      paramLabel = "DIR",
      description =
          "A Megatron-LM source tree (the directory holding megatron/), for --targets megatron:"
              + " its DataParallelInferenceCoordinator runs unchanged in a Python process, with"
              + " Megatron's NullTokenizer; the table's vs megatron is then each row's CPU over"
              + " Megatron's at the same length and routing in the same round.")
  Path megatron;

  @Option(
      names = "--python",
      paramLabel = "PYTHON",
      description =
          "The Python for --targets megatron, with torch, numpy, pyzmq and msgpack"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "python3")
  String python;

  @Option(
      names = "--server-java-option",
      paramLabel = "OPTION",
      description =
          "An option for the server JVMs (the coordinator's and the forwarder's), after the"
              + " benchmark's own, e.g. --server-java-option=-XX:+UseSerialGC, to measure what a"
              + " JVM flag buys; repeat for several.")
  List<String> serverJavaOptions = new ArrayList<>();

  @Option(
      names = "--csv",
      paramLabel = "FILE",
      description = "Where to write the CSV (default: ${DEFAULT-VALUE}).",
      defaultValue = "load-bench.csv")
  Path csv;

  @Override
  public Integer call() throws IOException, InterruptedException {
    LoadBench.Config config = config();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    err.println(
        "bench: "
            + config.cases().size() * rounds
            + " runs, "
            + Runtime.getRuntime().availableProcessors()
            + " cores, Java "
            + System.getProperty("java.version")
            + ", load average "
            + loadAverage());
    List<BenchRow> rows;
    try {
      rows = new LoadBench(config, err).run();
    } catch (IllegalStateException | TimeoutException | IOException e) {
      err.println("coordinator bench: " + e.getMessage());
      err.flush();
      return 1;
    }
    Files.writeString(csv, BenchReport.csv(rows), StandardCharsets.UTF_8);
    err.println("bench: wrote " + csv + "; load average " + loadAverage());
    err.flush();
    out.print(BenchReport.table(rows));
    if (rounds > 1) {
      out.println();
      out.println("Medians of " + rounds + " rounds (lowest to highest):");
      out.println();
      out.print(BenchReport.summary(rows));
    }
    out.flush();
    return 0;
  }

  /** The flags' values, checked; a bad one is a usage error. */
  private LoadBench.Config config() {
    for (int tokens : promptTokens) {
      if (tokens < 1 || tokens > 1 << 20) {
        throw usage("--prompt-tokens must be in 1.." + (1 << 20) + ", got " + tokens);
      }
    }
    List<Boolean> routings = new ArrayList<>();
    for (String r : routing) {
      switch (r.trim()) {
        case "on" -> routings.add(true);
        case "off" -> routings.add(false);
        default -> throw usage("--routing takes on and off, got '" + r + "'");
      }
    }
    List<Target> parsed = new ArrayList<>();
    for (String t : targets) {
      try {
        parsed.add(Target.parse(t));
      } catch (IllegalArgumentException e) {
        throw usage("--targets: " + e.getMessage());
      }
    }
    atLeast("--requests", requests, 1);
    atLeast("--warmup", warmup, 1);
    atLeast("--concurrency", concurrency.value, 1);
    atLeast("--rounds", rounds, 1);
    if (!(rate >= 0) || Double.isInfinite(rate)) {
      throw usage("--rate must be a number of requests a second, 0 or more, got " + rate);
    }
    if (engines.problem() != null) {
      throw usage(engines.problem());
    }
    Megatron source = null;
    if (parsed.contains(Target.MEGATRON)) {
      if (megatron == null) {
        throw usage("--targets megatron needs --megatron DIR (a Megatron-LM source tree)");
      }
      String problem = Megatron.problem(megatron);
      if (problem != null) {
        throw usage("--megatron: " + problem);
      }
      source = new Megatron(megatron, python);
    } else if (megatron != null) {
      throw usage("--megatron is for --targets megatron, which --targets does not name");
    }
    Path dir = csv.toAbsolutePath().getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw usage("--csv: no directory " + dir);
    }
    return new LoadBench.Config(
        List.copyOf(promptTokens),
        routings,
        parsed,
        requests,
        warmup,
        concurrency.value,
        engines.value,
        engineLatency,
        rate,
        rounds,
        source,
        List.copyOf(serverJavaOptions));
  }

  private void atLeast(String name, int value, int min) {
    if (value < min) {
      throw usage(name + " must be at least " + min + ", got " + value);
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
