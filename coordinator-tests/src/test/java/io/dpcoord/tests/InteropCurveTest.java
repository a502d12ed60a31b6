package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.cli.Launcher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * CurveZMQ between the coordinator ({@code serve} as a process) and Python peers on libzmq: key
 * files cross both ways (keygen's read by pyzmq's {@code zmq.auth}, pyzmq's read by serve), a
 * listed engine and a listed client serve requests, and a key in no list is refused.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class InteropCurveTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private void keygen(String out, String name) {
    assertThat(
            Launcher.commandLine()
                .execute("keygen", "--out", dir.resolve(out).toString(), "--name", name))
        .isZero();
  }

  /** pyzmq's own tool writes {@code dir/out/name.key} and {@code name.key_secret}. */
  private void pyzmqKeys(String out, String name) throws Exception {
    Files.createDirectories(dir.resolve(out));
    Process p =
        new ProcessBuilder(
                InteropPython.PYTHON,
                "-c",
                "import sys, zmq.auth; zmq.auth.create_certificates(sys.argv[1], sys.argv[2])",
                dir.resolve(out).toString(),
                name)
            .inheritIO()
            .start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0)
        .as("zmq.auth.create_certificates")
        .isTrue();
  }

  private String[] keys(String own) {
    return new String[] {
      "--curve-server-key",
      dir.resolve("server/coordinator.key").toString(),
      "--curve-key",
      dir.resolve(own).toString()
    };
  }

  @Test
  void pythonPeersWithListedKeysServeAndAKeyInNoListIsRefused() throws Exception {
    keygen("server", "coordinator");
    keygen("engines", "engine-0");
    pyzmqKeys("clients", "client-0");
    pyzmqKeys("strangers", "stranger");
    try (ServeProcess serve =
            ServeProcess.start(
                dir,
                "--curve-secret-key",
                dir.resolve("server/coordinator.key_secret").toString(),
                "--curve-engines",
                dir.resolve("engines").toString(),
                "--curve-clients",
                dir.resolve("clients").toString());
        InteropPython python = InteropPython.in(dir)) {
      String endpoint = serve.endpoint();
      python.engine(endpoint, 0, keys("engines/engine-0.key_secret"));
      InteropProcess client =
          python.client(
              "client",
              endpoint,
              concat(keys("clients/client-0.key_secret"), "requests", "--batches", "20"));
      client.awaitExit(0, WAIT);
      assertThat(client.events("reply")).hasSize(20);

      InteropProcess stranger =
          python.client(
              "stranger",
              endpoint,
              concat(
                  concat(new String[] {"--seconds", "3"}, keys("strangers/stranger.key_secret")),
                  "requests",
                  "--batches",
                  "1"));
      stranger.awaitExit(1, WAIT); // no CONNECT_ACK before its deadline
      assertThat(stranger.events("connected")).isEmpty();
      Await.until(
          "serve logs the refusal",
          () -> serve.stderr().contains("refused a connection from 127.0.0.1 with CURVE key"));
    }
  }

  private static String[] concat(String[] head, String... tail) {
    return Stream.concat(List.of(head).stream(), List.of(tail).stream()).toArray(String[]::new);
  }
}
