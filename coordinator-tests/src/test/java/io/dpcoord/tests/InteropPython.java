package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Starts the Python peers of the interop tests: Megatron-like clients and engines written against
 * Debian's libzmq ({@code python3-zmq}) and {@code python3-msgpack}, an implementation of the wire
 * independent of ours. The scripts live in {@code src/test/resources/interop}. {@link #close()}
 * kills every process it started, then closes the coordinator started through it.
 */
final class InteropPython implements AutoCloseable {
  /** Debian's interpreter: the one that has the zmq and msgpack modules. */
  static final String PYTHON = "/usr/bin/python3";

  private static final String INSTALL_HINT =
      "the interop tests need Debian's "
          + PYTHON
          + " with its zmq and msgpack modules: "
          + "apt-get install python3-zmq python3-msgpack";
  private static final List<String> SCRIPTS =
      List.of(
          "megatron_wire.py",
          "engine.py",
          "client.py",
          "parity.py",
          "detokenize.py",
          "wire_parity.py",
          "core016.py",
          "core016_parity.py",
          "core015.py",
          "core015_parity.py");

  private final Path dir;
  private final List<InteropProcess> started = new ArrayList<>();
  private Coordinator coordinator;

  private InteropPython(Path dir) {
    this.dir = dir;
  }

  /**
   * Checks the interpreter and its modules and copies the scripts into {@code dir}. A missing
   * interpreter or module fails the test (never skips it), saying what to install.
   */
  static InteropPython in(Path dir) throws IOException, InterruptedException {
    checkInterpreter(PYTHON, dir);
    InteropPython python = new InteropPython(dir);
    for (String script : SCRIPTS) {
      python.copyResource(script);
    }
    return python;
  }

  /**
   * Fails the test, saying what to install, unless {@code python} runs and imports zmq and msgpack.
   */
  static void checkInterpreter(String python, Path dir) throws InterruptedException {
    Path out = dir.resolve("python-check.out");
    Process p;
    try {
      p =
          new ProcessBuilder(python, "-c", "import zmq, msgpack")
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
    } catch (IOException e) {
      fail("%s (cannot start it: %s)", INSTALL_HINT, e.getMessage());
      return;
    }
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        fail("%s (checking its modules took over 30 s)", INSTALL_HINT);
      }
      if (p.exitValue() != 0) {
        fail("%s (%s)", INSTALL_HINT, readQuietly(out).strip());
      }
    } finally {
      p.destroyForcibly();
    }
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** Copies the classpath resource {@code interop/<name>} into the working directory. */
  Path copyResource(String name) throws IOException {
    return copyClasspathResource("/interop/" + name);
  }

  /**
   * Copies the classpath resource {@code resource} (an absolute name, {@code /folder/file}) into
   * the working directory under its file name.
   */
  Path copyClasspathResource(String resource) throws IOException {
    Path target = dir.resolve(resource.substring(resource.lastIndexOf('/') + 1));
    try (InputStream in = InteropPython.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("test resource " + resource + " is missing");
      }
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
    return target;
  }

  /** Starts {@code engine.py} as data-parallel rank {@code rank}, with extra options. */
  InteropProcess engine(String endpoint, int rank, String... options) throws IOException {
    List<String> args = new ArrayList<>(List.of("--endpoint", endpoint, "--rank", "" + rank));
    args.addAll(List.of(options));
    return run("engine-" + rank, "engine.py", args);
  }

  /**
   * Starts {@code count} engines, ranks 0 to count-1, against {@code coordinator} with the same
   * options, and waits (at most {@code wait}) until the coordinator has registered its start-up
   * engines.
   */
  List<InteropProcess> engines(Coordinator coordinator, int count, Duration wait, String... options)
      throws IOException, InterruptedException {
    return engines(coordinator, count, wait, rank -> engine(coordinator.endpoint(), rank, options));
  }

  /**
   * Starts the engine of an older release's peers ({@code script}: {@code core015.py}, {@code
   * core016.py}) as {@code engine --endpoint E --rank R}, with extra options.
   */
  InteropProcess releaseEngine(String script, String endpoint, int rank, String... options)
      throws IOException {
    List<String> args =
        new ArrayList<>(List.of("engine", "--endpoint", endpoint, "--rank", "" + rank));
    args.addAll(List.of(options));
    return run("engine-" + rank, script, args);
  }

  /** As {@link #engines(Coordinator, int, Duration, String...)}, of {@link #releaseEngine}. */
  List<InteropProcess> releaseEngines(
      String script, Coordinator coordinator, int count, Duration wait, String... options)
      throws IOException, InterruptedException {
    return engines(
        coordinator,
        count,
        wait,
        rank -> releaseEngine(script, coordinator.endpoint(), rank, options));
  }

  /** Starts the client of an older release's peers ({@code client --endpoint E OPTIONS}). */
  InteropProcess releaseClient(
      String script, String name, Coordinator coordinator, String... options) throws IOException {
    List<String> args = new ArrayList<>(List.of("client", "--endpoint", coordinator.endpoint()));
    args.addAll(List.of(options));
    return run(name, script, args);
  }

  /**
   * A client's four requests went round robin to two engines, and {@code doomed}, the first to
   * register, crashed holding its two: those were answered FAILED, the other two with status {@code
   * completed} (as the client's {@code reply} events give it).
   */
  static void assertEveryOtherFailed(
      InteropProcess client, InteropProcess doomed, String completed) {
    Map<Long, String> statusOfCid =
        client.events("reply").stream()
            .collect(Collectors.toMap(r -> r.getLong("cid"), r -> r.get("status")));
    String even = statusOfCid.get(0L);
    String odd = even.equals("FAILED") ? completed : "FAILED";
    assertThat(statusOfCid)
        .as("round robin: every other request went to the engine that crashed holding them")
        .isEqualTo(Map.of(0L, even, 1L, odd, 2L, even, 3L, odd));
    assertThat(
            client.events("reply").stream()
                .filter(r -> r.get("status").equals("FAILED"))
                .map(r -> r.getLong("rid")))
        .as("the FAILED records name the requests the crashed engine held")
        .containsExactlyInAnyOrderElementsOf(
            doomed.events("request").stream().map(e -> e.getLong("rid")).toList());
  }

  /**
   * Requests {@code 0..n-1} (the client's ids, in the order sent) went round robin over three
   * engines in their registration order: {@code rankOfCid} maps each to the engine that got it.
   */
  static void assertRoundRobinOverThree(Map<Long, Integer> rankOfCid, int n) {
    List<Integer> cycle = List.of(rankOfCid.get(0L), rankOfCid.get(1L), rankOfCid.get(2L));
    assertThat(cycle).as("every engine in the first three").containsExactlyInAnyOrder(0, 1, 2);
    assertThat(rankOfCid)
        .as("round robin over the engines in their registration order")
        .isEqualTo(
            IntStream.range(0, n)
                .boxed()
                .collect(Collectors.toMap(i -> (long) i, i -> cycle.get(i % 3))));
  }

  /** Starts an engine of a rank. */
  private interface EngineStart {
    InteropProcess start(int rank) throws IOException;
  }

  private static List<InteropProcess> engines(
      Coordinator coordinator, int count, Duration wait, EngineStart start)
      throws IOException, InterruptedException {
    List<InteropProcess> engines = new ArrayList<>();
    for (int rank = 0; rank < count; rank++) {
      engines.add(start.start(rank));
    }
    assertThat(coordinator.status().awaitStarted(wait)).as("engines registered").isTrue();
    return engines;
  }

  /** Starts {@code client.py} named {@code name}, with the scenario and its options. */
  InteropProcess client(String name, String endpoint, String... scenario) throws IOException {
    List<String> args = new ArrayList<>(List.of("--endpoint", endpoint));
    args.addAll(List.of(scenario));
    return run(name, "client.py", args);
  }

  /** Starts one of the scripts with {@code args}; the process is killed by {@link #close()}. */
  InteropProcess run(String name, String script, List<String> args) throws IOException {
    List<String> command = new ArrayList<>(List.of(PYTHON, "-B", "-s", script));
    command.addAll(args);
    InteropProcess p = InteropProcess.start(name, command, dir);
    started.add(p);
    return p;
  }

  /** Starts the coordinator the peers talk to; {@link #close()} closes it after the processes. */
  Coordinator startCoordinator(CoordinatorConfig config) throws IOException {
    if (coordinator != null) {
      throw new IllegalStateException("a coordinator is already started");
    }
    coordinator = Coordinator.start(config);
    return coordinator;
  }

  /**
   * Kills every process started here (those still running) and reads their last output, then closes
   * the coordinator.
   */
  @Override
  public void close() {
    started.forEach(InteropProcess::close);
    started.clear();
    if (coordinator != null) {
      coordinator.close();
      coordinator = null;
    }
  }

  /** The hex SHA-256 of {@code bytes}, as the scripts print digests. */
  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
