package io.dpcoord.sim.simulate;

import io.dpcoord.sim.replay.JsonFields;
import io.dpcoord.sim.replay.TraceException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * What the trace readers share: opening a plain or gzipped file, and the bad-line policy (stop at
 * the first, or skip and count); the checks of a line's fields are {@link JsonFields}.
 */
final class TraceLines {
  /** How many skipped lines' reasons are kept. */
  static final int KEPT_REASONS = 5;

  private final boolean skipBad;
  private long skipped;
  private final List<String> reasons = new ArrayList<>();

  TraceLines(boolean skipBad) {
    this.skipBad = skipBad;
  }

  /**
   * Handles a bad line: rethrows it, or counts it when bad lines are skipped.
   *
   * @throws TraceException {@code e}, unless bad lines are skipped
   */
  void reject(TraceException e) throws TraceException {
    if (!skipBad) {
      throw e;
    }
    skipped++;
    if (reasons.size() < KEPT_REASONS) {
      reasons.add(e.getMessage());
    }
  }

  long skipped() {
    return skipped;
  }

  List<String> reasons() {
    return List.copyOf(reasons);
  }

  /** Opens {@code file}, gunzipping it when it starts with gzip's magic bytes (1f 8b). */
  static InputStream open(Path file) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    try {
      in.mark(2);
      int b0 = in.read();
      int b1 = in.read();
      in.reset();
      return b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(in, 1 << 16) : in;
    } catch (IOException e) {
      in.close();
      throw e;
    }
  }
}
