package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./coordinator serve ARGS} as a separate process ({@link ServeProcessTest#launcher}), its
 * endpoint read from the first line of its stdout and its stderr kept in a file; {@link #close()}
 * kills it if it still runs.
 */
final class ServeProcess implements AutoCloseable {
  /** How long starting and stopping may take before the test fails. */
  static final long PROCESS_SECONDS = 30;

  private final Process process;
  private final Path stderr;
  private final String endpoint;

  private ServeProcess(Process process, Path stderr, String endpoint) {
    this.process = process;
    this.stderr = stderr;
    this.endpoint = endpoint;
  }

  /** Starts {@code serve args...}, stderr to a new file in {@code dir}; returns once it serves. */
  static ServeProcess start(Path dir, String... args) throws Exception {
    return start(dir, List.of(), args);
  }

  /** As {@link #start(Path, String...)}, in a JVM given {@code jvmOptions} (e.g. -Xmx256m). */
  static ServeProcess start(Path dir, List<String> jvmOptions, String... args) throws Exception {
    Path stderr = Files.createTempFile(dir, "serve", ".stderr");
    List<String> command = new ArrayList<>(List.of("serve"));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(ServeProcessTest.launcher(jvmOptions, command.toArray(String[]::new)))
            .redirectError(stderr.toFile())
            .start();
    try {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String endpoint =
          CompletableFuture.supplyAsync(() -> readLine(out)).get(PROCESS_SECONDS, TimeUnit.SECONDS);
      assertThat(endpoint)
          .as("the first line of serve's stdout; stderr: %s", read(stderr))
          .matches("tcp://127\\.0\\.0\\.1:[0-9]{1,5}");
      return new ServeProcess(process, stderr, endpoint);
    } catch (Exception | AssertionError e) {
      process.destroyForcibly();
      throw e;
    }
  }

  /** The endpoint it printed first. */
  String endpoint() {
    return endpoint;
  }

  Process process() {
    return process;
  }

  /** What it wrote to stderr so far. */
  String stderr() {
    return read(stderr);
  }

  /** Sends SIGTERM and fails unless it exits with status 0 in time. */
  void stop() throws InterruptedException {
    process.destroy();
    assertThat(process.waitFor(PROCESS_SECONDS, TimeUnit.SECONDS)).as("serve stopped").isTrue();
    assertThat(process.exitValue()).as("exit status; stderr: %s", stderr()).isZero();
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(PROCESS_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String readLine(BufferedReader reader) {
    try {
      return reader.readLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
