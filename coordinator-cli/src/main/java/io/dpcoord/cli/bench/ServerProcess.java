package io.dpcoord.cli.bench;

import com.codahale.metrics.MetricRegistry;
import io.dpcoord.metrics.CoordinatorMetrics;
import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The server under load (the coordinator or the bare forwarder) in a JVM of its own, so that every
 * thread of that JVM, the garbage collector and the JIT compilers included, works for the server
 * alone; or Megatron's coordinator in a Python process ({@link Megatron}); and the handle the
 * benchmark drives it with.
 *
 * <p>The child prints {@code endpoint <endpoint>} first, then answers one line per command on its
 * stdin (Megatron's server likewise): {@code engines} (wait up to 30 s for the engines to register:
 * {@code engines ok} or {@code engines missing}), {@code cpu} ({@code cpu } and {@link
 * ServerCpu#format()}); {@code stop} or the end of stdin closes the server and ends the JVM. Its
 * stderr (log lines) goes to the benchmark's.
 */
public final class ServerProcess implements AutoCloseable {
  private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration ENGINE_WAIT = Duration.ofSeconds(30);
  private static final String ENDED = "\0ended";

  private final Process process;
  private final Writer commands;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final String endpoint;

  private ServerProcess(Process process) throws IOException {
    this.process = process;
    this.commands = process.outputWriter(StandardCharsets.UTF_8);
    Thread reader = new Thread(this::readLines, "bench-server-output");
    reader.setDaemon(true);
    reader.start();
    this.endpoint = reply("endpoint");
  }

  /**
   * The classes whose methods C2 compiles after a tenth of its usual call count: the event loop's
   * three busiest, as {@code ./coordinator serve} has them, and the forwarder's.
   */
  static final List<String> HOT_CLASSES =
      List.of(
          "io.dpcoord.server.EventLoop",
          "io.dpcoord.server.Conductor",
          "io.dpcoord.protocol.MessageCodec",
          BareForwarder.class.getName());

  /**
   * Starts a server JVM with the same Java and class path as this one (for Megatron, its Python
   * server) and waits for its endpoint.
   *
   * @param routing prefix routing (longest_prefix) for the coordinator; false: prefix caching off
   *     (fewest pending requests, no hashing). The forwarder ignores it.
   * @param engines how many engines the coordinator waits for
   * @param megatron where Megatron's coordinator is, for {@link Target#MEGATRON} (else unused)
   * @param javaOptions added to the JVM's options, after the benchmark's own (unused for Megatron)
   * @throws IOException if the server cannot be started or does not report an endpoint
   */
  public static ServerProcess start(
      Target target, boolean routing, int engines, Megatron megatron, List<String> javaOptions)
      throws IOException {
    if (target == Target.MEGATRON) {
      // Megatron's defaults as serve has them: longest_prefix, alpha 0.5, the same block size
      RouterConfig defaults = RouterConfig.builder().build();
      return start(
          megatron.command(routing, engines, defaults.maxRequests(), defaults.blockSize()));
    }
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>();
    command.add(java.toString());
    command.addAll(
        List.of(
            "--add-exports",
            "java.management/sun.management=ALL-UNNAMED",
            "-XX:-UseDynamicNumberOfCompilerThreads",
            "-XX:-TieredCompilation", // as ./coordinator runs serve
            "-XX:CompileCommand=quiet",
            // errors only: engines leaving at the end of a run are not news
            "-Ddpcoord.log.level=ERROR"));
    // as ./coordinator runs serve, and the forwarder's loop likewise, to keep the floor fair
    for (String hot : HOT_CLASSES) {
      command.add("-XX:CompileCommand=CompileThresholdScaling," + hot + "::*,0.1");
    }
    command.addAll(javaOptions); // last, so that they can override any of the above
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            ServerProcess.class.getName(),
            target.cliName(),
            Boolean.toString(routing),
            Integer.toString(engines)));
    return start(command);
  }

  private static ServerProcess start(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      return new ServerProcess(p);
    } catch (IOException | RuntimeException e) {
      p.destroyForcibly();
      throw e;
    }
  }

  /** The server's endpoint. */
  public String endpoint() {
    return endpoint;
  }

  /** Waits (at most 30 s) until the engines have registered; false if they have not. */
  public boolean awaitEngines() throws IOException {
    return reply(command("engines")).equals("ok");
  }

  /** The server JVM's CPU times now. */
  public ServerCpu cpu() throws IOException {
    return ServerCpu.parse(reply(command("cpu")));
  }

  /** Stops the server and waits (at most 10 s) for its JVM to end; kills it otherwise. */
  @Override
  public void close() {
    try {
      commands.write("stop\n");
      commands.close();
    } catch (IOException e) {
      // the JVM has gone already
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private String command(String name) throws IOException {
    commands.write(name + "\n");
    commands.flush();
    return name;
  }

  /**
   * The rest of the next line from the server that starts with {@code name} (lines that do not,
   * such as a library's note on stdout, are skipped).
   */
  private String reply(String name) throws IOException {
    long deadline = System.nanoTime() + REPLY_TIMEOUT.toNanos();
    String line;
    do {
      try {
        line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for the server's " + name);
      }
    } while (line != null && !line.equals(ENDED) && !line.startsWith(name + " "));
    if (line == null || line.equals(ENDED)) {
      if (line != null) {
        waitForExit(); // its output has ended: so is it, or about to be, and its status says why
      }
      throw new IOException(
          "the server process "
              + (line == null
                  ? "did not answer '" + name + "' within " + REPLY_TIMEOUT.toSeconds() + " s"
                  : "ended")
              + " (exit status "
              + (process.isAlive() ? "none yet" : process.exitValue())
              + ")");
    }
    return line.substring(name.length() + 1);
  }

  private void waitForExit() {
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void readLines() {
    try (BufferedReader in = process.inputReader(StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        lines.add(line);
      }
    } catch (IOException e) {
      // the JVM ended
    }
    lines.add(ENDED);
  }

  // ------------------------------------------------------------------ the server JVM

  /** The server JVM: {@code ServerProcess coordinator|forwarder ROUTING ENGINES}. */
  public static void main(String[] args) throws Exception {
    Target target = Target.parse(args[0]);
    boolean routing = Boolean.parseBoolean(args[1]);
    int engines = Integer.parseInt(args[2]);
    PrintStream out = System.out;
    try (Server server = Server.start(target, routing, engines)) {
      out.println("endpoint " + server.endpoint());
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String command;
      while ((command = in.readLine()) != null && !command.equals("stop")) {
        switch (command) {
          case "engines" ->
              out.println("engines " + (server.awaitEngines(engines) ? "ok" : "missing"));
          case "cpu" -> out.println("cpu " + ServerCpu.sample().format());
          default -> out.println("unknown command " + command);
        }
        out.flush();
      }
    }
    System.exit(0);
  }

  /** The coordinator or the forwarder behind one face. */
  private interface Server extends AutoCloseable {
    String endpoint();

    boolean awaitEngines(int n) throws InterruptedException;

    @Override
    void close();

    static Server start(Target target, boolean routing, int engines) throws IOException {
      if (target == Target.FORWARDER) {
        BareForwarder f = BareForwarder.start();
        return new Server() {
          public String endpoint() {
            return f.endpoint();
          }

          public boolean awaitEngines(int n) throws InterruptedException {
            return f.awaitEngines(n, ENGINE_WAIT.toMillis());
          }

          public void close() {
            f.close();
          }
        };
      }
      // as `serve` runs: Dropwizard metrics (or none, for their cost), defaults otherwise
      CoordinatorConfig config =
          CoordinatorConfig.builder()
              .expectedEngines(engines)
              .routing(
                  // as serve configures it
                  RouterConfig.builder().prefixCaching(routing).preallocateIndex(true).build())
              .metrics(
                  target == Target.COORDINATOR_NO_METRICS
                      ? CoordinatorMetrics.noop()
                      : new DropwizardMetrics(new MetricRegistry()))
              .build();
      Coordinator c = Coordinator.start(config);
      return new Server() {
        public String endpoint() {
          return c.endpoint();
        }

        public boolean awaitEngines(int n) throws InterruptedException {
          return c.status().awaitStarted(ENGINE_WAIT);
        }

        public void close() {
          c.close();
        }
      };
    }
  }
}
