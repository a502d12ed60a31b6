package io.dpcoord.sim.simulate;

import java.util.Iterator;
import java.util.List;

/** A workload read from a trace file once: its requests in a table, and the lines it skipped. */
abstract class TraceWorkload implements Workload {
  private final String name;
  private final int blockSize;
  private final RequestTable table;
  private final long skipped;
  private final List<String> skippedReasons;

  TraceWorkload(String name, int blockSize, RequestTable table, TraceLines lines) {
    this.name = name;
    this.blockSize = blockSize;
    this.table = table;
    this.skipped = lines.skipped();
    this.skippedReasons = lines.reasons();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public Iterator<SimRequest> requests() {
    return table.iterator();
  }

  /** The number of requests read. */
  public int size() {
    return table.size();
  }

  /** The number of bad lines skipped (0 unless reading skipped bad lines). */
  @Override
  public long skipped() {
    return skipped;
  }

  /** Why the first few skipped lines were bad ("line 7: ..."), at most five. */
  @Override
  public List<String> skippedReasons() {
    return skippedReasons;
  }
}
