package io.dpcoord.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The progress of a demo on stderr: time, requests answered, their rate since the last line, the
 * cache hit rate and the requests in flight. On a terminal one line rewritten every 200 ms,
 * otherwise a new line every second.
 */
final class ProgressLine {
  private static final long LIVE_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  private static final long LINE_TICK_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final PrintWriter err;
  private final boolean terminal;
  private long lastAnswered;
  private long lastLineNanos;

  /**
   * Times are nanoseconds since the run started.
   *
   * @param terminal whether {@code err} is a terminal (see {@link #stderrIsTerminal})
   */
  ProgressLine(PrintWriter err, boolean terminal) {
    this.err = err;
    this.terminal = terminal;
  }

  /** When the next line is due: a tick after the last one (or after the start). */
  long nextAt() {
    return lastLineNanos + (terminal ? LIVE_TICK_NANOS : LINE_TICK_NANOS);
  }

  /** Whether a line is due at {@code now}. */
  boolean isDue(long now) {
    return now >= nextAt();
  }

  /** Prints the progress at {@code now}; the next line is due a tick later. */
  void print(long now, long answered, double cacheHitRate, int inFlight) {
    double rate = (answered - lastAnswered) * 1e9 / Math.max(1, now - lastLineNanos);
    lastAnswered = answered;
    printText(
        now,
        String.format(
            Locale.ROOT,
            "%6.1f s  done %d  %.0f req/s  cache hit %.1f%%  in flight %d",
            now / 1e9,
            answered,
            rate,
            100 * cacheHitRate,
            inFlight));
  }

  /** Prints {@code line} as the progress at {@code now}; the next line is due a tick later. */
  void printText(long now, String line) {
    lastLineNanos = now;
    if (terminal) {
      err.print("\r" + line + "\033[K");
    } else {
      err.println(line);
    }
    err.flush();
  }

  /** Ends the live line, on a terminal, so that what follows starts on a line of its own. */
  void end() {
    if (terminal) {
      err.println();
    }
    err.flush();
  }

  /** Whether stderr is a terminal (Linux: where fd 2 points; elsewhere: whether a console is). */
  static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return System.console() != null;
    }
  }
}
