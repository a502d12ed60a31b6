package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A running Python peer: its stdout read line by line as {@link Event}s on a reader thread, its
 * stderr kept in a file for failure messages. {@link #close()} kills it and reads what is left.
 */
final class InteropProcess implements AutoCloseable {
  private static final Duration REAP = Duration.ofSeconds(10);

  /**
   * One output line, {@code name key=value ...}.
   *
   * @param name the event name, the line's first word
   * @param fields the key=value pairs that follow, in order
   */
  record Event(String name, Map<String, String> fields) {
    static Event parse(String line) {
      String[] words = line.trim().split(" ");
      Map<String, String> fields = new LinkedHashMap<>();
      for (int i = 1; i < words.length; i++) {
        int eq = words[i].indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("not a key=value pair: '" + words[i] + "' in " + line);
        }
        fields.put(words[i].substring(0, eq), words[i].substring(eq + 1));
      }
      return new Event(words[0], fields);
    }

    String get(String key) {
      String v = fields.get(key);
      if (v == null) {
        throw new AssertionError("event " + this + " has no field " + key);
      }
      return v;
    }

    long getLong(String key) {
      return Long.parseLong(get(key));
    }
  }

  private final String name;
  private final Process process;
  private final Path stderr;
  private final Writer stdin;
  private final Thread reader;
  private final List<Event> events = new ArrayList<>(); // guarded by this
  private boolean endOfOutput; // guarded by this
  private String badLine; // guarded by this

  private InteropProcess(String name, Process process, Path stderr) {
    this.name = name;
    this.process = process;
    this.stderr = stderr;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    this.reader = new Thread(this::readOutput, "python-" + name);
    reader.setDaemon(true);
  }

  /** Starts {@code command} in {@code workDir}; stderr goes to {@code <workDir>/<name>.err}. */
  static InteropProcess start(String name, List<String> command, Path workDir) throws IOException {
    Path err = workDir.resolve(name + ".err");
    Process p =
        new ProcessBuilder(command)
            .directory(workDir.toFile())
            .redirectError(ProcessBuilder.Redirect.to(err.toFile()))
            .start();
    InteropProcess ip = new InteropProcess(name, p, err);
    ip.reader.start();
    return ip;
  }

  String name() {
    return name;
  }

  private void readOutput() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isBlank()) {
          continue;
        }
        Event e;
        try {
          e = Event.parse(line);
        } catch (IllegalArgumentException ex) {
          synchronized (this) {
            badLine = line;
          }
          continue;
        }
        synchronized (this) {
          events.add(e);
          notifyAll();
        }
      }
    } catch (IOException e) {
      // the process was killed while we read: what was read stays
    } finally {
      synchronized (this) {
        endOfOutput = true;
        notifyAll();
      }
    }
  }

  /** The events named {@code eventName} read so far, in output order. */
  synchronized List<Event> events(String eventName) {
    List<Event> out = new ArrayList<>();
    for (Event e : events) {
      if (e.name().equals(eventName)) {
        out.add(e);
      }
    }
    return out;
  }

  /**
   * Waits until {@code count} events named {@code eventName} have been read; fails the test with
   * the process's stderr if they do not come in time or the output ends first.
   */
  List<Event> awaitEvents(String eventName, int count, Duration timeout)
      throws InterruptedException {
    List<Event> found = awaitEventsOrEnd(eventName, count, timeout);
    if (found.size() < count) {
      fail(
          "%s: expected %d '%s' line(s), got %d before its output ended%n%s",
          name, count, eventName, found.size(), diagnostics());
    }
    return found;
  }

  /**
   * Waits until {@code count} events named {@code eventName} have been read or the output has
   * ended, and returns those read: fewer than {@code count} only if the output ended first.
   */
  List<Event> awaitEventsOrEnd(String eventName, int count, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (true) {
        List<Event> found = events(eventName);
        if (found.size() >= count || endOfOutput) {
          return found;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          fail(
              "%s: expected %d '%s' line(s), got %d within %s%n%s",
              name, count, eventName, found.size(), timeout, diagnostics());
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  /** Waits for the process to exit with status {@code expected}, then for its last output. */
  void awaitExit(int expected, Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      fail("%s did not exit within %s%n%s", name, timeout, diagnostics());
    }
    reader.join(REAP.toMillis());
    if (process.exitValue() != expected) {
      fail(
          "%s exited with status %d, expected %d%n%s",
          name, process.exitValue(), expected, diagnostics());
    }
  }

  /**
   * Sends the process a signal by name ({@code STOP}, {@code CONT}) with {@code kill}: a stopped
   * process keeps its connections open but answers nothing, as a hung one.
   */
  void signal(String name) throws IOException, InterruptedException {
    Process kill =
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
            .redirectErrorStream(true)
            .start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      kill.destroyForcibly();
      fail("kill -%s %d failed%n%s", name, process.pid(), diagnostics());
    }
  }

  /** Writes one line to the process's stdin. */
  void writeLine(String line) throws IOException {
    stdin.write(line + "\n");
    stdin.flush();
  }

  /** What a failure message needs: name, state, stderr, and any line that did not parse. */
  synchronized String diagnostics() {
    String err;
    try {
      err = Files.exists(stderr) ? Files.readString(stderr, StandardCharsets.UTF_8) : "";
    } catch (IOException | UncheckedIOException e) {
      err = "(cannot read stderr: " + e + ")";
    }
    String state = process.isAlive() ? "running" : "exit status " + process.exitValue();
    StringBuilder last = new StringBuilder();
    for (Event e : events.subList(Math.max(0, events.size() - 20), events.size())) {
      last.append("  ").append(e).append('\n');
    }
    return "--- "
        + name
        + " ("
        + state
        + "), "
        + events.size()
        + " lines read"
        + (badLine == null ? "" : ", unparsable line: " + badLine)
        + ", the last ones:\n"
        + last
        + "stderr:\n"
        + (err.length() > 4000 ? "..." + err.substring(err.length() - 4000) : err);
  }

  /** Kills the process if it still runs and waits until all its output has been read. */
  @Override
  public void close() {
    // through the handle: Process.destroyForcibly also closes our end of stdout, and lines the
    // reader has not read yet would be lost; this way it reads on to the end of the pipe
    process.toHandle().destroyForcibly();
    try {
      process.waitFor(REAP.toMillis(), TimeUnit.MILLISECONDS);
      reader.join(REAP.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      stdin.close();
    } catch (IOException e) {
      // the pipe is already gone with the process
    }
  }
}
