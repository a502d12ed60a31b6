package io.dpcoord.sim.simulate;

import java.util.Iterator;
import java.util.List;

/**
 * A stream of requests in arrival order, replayable: every call of {@link #requests()} yields the
 * same sequence, so that each configuration of a sweep sees the same traffic (and may run on its
 * own thread).
 */
public interface Workload {
  /** A short description for reports, e.g. {@code mooncake_synthetic_trace.jsonl.gz}. */
  String name();

  /** Tokens per block of the hashes in {@link SimRequest#blocks()}. */
  int blockSize();

  /** A fresh iterator over the requests, in non-decreasing arrival time. Thread-safe to call. */
  Iterator<SimRequest> requests();

  /** Bad trace lines skipped while reading (0 unless bad lines were to be skipped). */
  default long skipped() {
    return 0;
  }

  /** Why the first few skipped lines were skipped, each naming its line. */
  default List<String> skippedReasons() {
    return List.of();
  }
}
