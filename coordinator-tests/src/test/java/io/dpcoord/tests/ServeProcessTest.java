package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.jeromq.SignalerFix;
import io.dpcoord.protocol.ClientReply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.zeromq.SocketType;
import org.zeromq.ZMQ;

/**
 * {@code ./coordinator serve} as a separate process: the launcher's shaded jar when it has been
 * built (the reactor packages coordinator-cli before these tests run), else the launcher's main
 * class on this test's class path.
 */
@Timeout(60)
class ServeProcessTest {
  private static final long PROCESS_SECONDS = ServeProcess.PROCESS_SECONDS;

  @TempDir Path temp;

  /** The command line that runs the launcher with {@code args}. */
  static List<String> launcher(String... args) {
    return launcher(List.of(), args);
  }

  /**
   * The command line that runs the launcher with {@code args} in a JVM given {@code jvmOptions}.
   */
  static List<String> launcher(List<String> jvmOptions, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    Path jar =
        Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
            .resolve("../coordinator-cli/target/coordinator.jar")
            .normalize();
    if (Files.isRegularFile(jar)) {
      command.add("-jar");
      command.add(jar.toString());
    } else {
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add("io.dpcoord.cli.Launcher");
    }
    command.addAll(List.of(args));
    return command;
  }

  @Test
  void serveWritesItsEndpointFirstAndSigtermStopsItWithStatusZeroAnsweringPendingFailed()
      throws Exception {
    try (ServeProcess serve = ServeProcess.start(temp, "--port", "0", "--engines", "1");
        TestClient client = new TestClient(serve.endpoint(), "client");
        TestEngine engine = new TestEngine(serve.endpoint(), TestEngine.identityOf(0))) {
      client.connect();
      client.submit(1, "one");
      client.submit(2, "two");
      engine.register(); // the start-up engine: the held requests go out now
      long[] rids = engine.receiveSubmitIds(2);

      serve.process().destroy(); // SIGTERM
      List<ClientReply> replies = client.receiveReplies(2);
      assertThat(replies).extracting(ClientReply::clientRequestId).containsExactly(1L, 2L);
      for (int i = 0; i < 2; i++) {
        byte[] record = replies.get(i).record().toByteArray();
        assertThat(ReplyRecords.status(record)).isEqualTo("FAILED");
        assertThat(ReplyRecords.requestId(record)).isEqualTo(rids[i]);
      }
      serve.stop();
    }
  }

  @Test
  void reportEveryPrintsTheMetricsToStderrUntilSigterm() throws Exception {
    // start() returns once the endpoint is out, which serve prints after its SIGTERM handler is in
    try (ServeProcess serve =
        ServeProcess.start(temp, "--report-every", "200ms", "--log-level", "warn")) {
      Await.until(
          "a metrics report on stderr",
          () -> serve.stderr().contains("coordinator_requests_submitted_total"),
          serve::stderr);
      serve.stop();
      assertThat(serve.stderr())
          .contains("routing_cache_hit_total", "coordinator_routing_latency_seconds");
    }
  }

  @Test
  void theLauncherRunsTheFixedJeromqSignaler() throws Exception {
    // the jar when it is built (mvn verify), else this module's class path
    Result r = runToEnd("--version");
    assertThat(r.status).isZero();
    assertThat(r.stdout).contains("jeromq signaler: fixed (coordinator-jeromq)");
    assertThat(SignalerFix.isLoaded()).as("on this module's class path").isTrue();
  }

  @Test
  void aPortAlreadyInUseExitsTwoWithOneLine() throws Exception {
    try (ZMQ.Context context = ZMQ.context(1)) {
      ZMQ.Socket holder = context.socket(SocketType.ROUTER);
      try {
        holder.setLinger(0);
        holder.bind("tcp://127.0.0.1:*");
        String endpoint = holder.getLastEndpoint();
        String port = endpoint.substring(endpoint.lastIndexOf(':') + 1);
        Result r = runToEnd("serve", "--port", port);
        assertThat(r.status).isEqualTo(2);
        assertThat(r.stdout).isEmpty();
        assertThat(r.stderr).hasSize(1);
        assertThat(r.stderr.get(0)).contains(port);
      } finally {
        holder.close();
      }
    }
  }

  static Stream<List<String>> badValues() {
    return Stream.of(
        List.of("--port", "70000"),
        List.of("--port", "http"),
        List.of("--engines", "-1"),
        List.of("--alpha", "1.5"),
        List.of("--policy", "nearest"),
        List.of("--tokenizer", "tiktoken:/no/such/vocabulary.json"),
        List.of("--tokenizer", "wordpiece:/models/vocab.txt"),
        List.of("--tokenizer", "null:many"),
        List.of("--tokenizer-threads", "-3"));
  }

  @ParameterizedTest
  @MethodSource("badValues")
  void aBadValueExitsTwoWithOneLineQuotingIt(List<String> flag) throws Exception {
    List<String> args = new ArrayList<>(List.of("serve"));
    args.addAll(flag);
    Result r = runToEnd(args.toArray(String[]::new));
    assertThat(r.status).isEqualTo(2);
    assertThat(r.stdout).isEmpty();
    assertThat(r.stderr).hasSize(1);
    assertThat(r.stderr.get(0)).contains(flag.get(1));
  }

  /** How a process ended: its status and its output lines. */
  private record Result(int status, List<String> stdout, List<String> stderr) {}

  private Result runToEnd(String... args) throws IOException, InterruptedException {
    Path out = Files.createTempFile(temp, "out", ".txt");
    Path err = Files.createTempFile(temp, "err", ".txt");
    Process p =
        new ProcessBuilder(launcher(args))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    try {
      assertThat(p.waitFor(PROCESS_SECONDS, TimeUnit.SECONDS)).as("process ended").isTrue();
      return new Result(p.exitValue(), Files.readAllLines(out), Files.readAllLines(err));
    } finally {
      p.destroyForcibly();
    }
  }
}
