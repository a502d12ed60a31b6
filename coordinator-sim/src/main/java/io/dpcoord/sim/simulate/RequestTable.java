package io.dpcoord.sim.simulate;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The requests of a trace, stored once in a few primitive arrays: per request its arrival, input
 * and output lengths and where its blocks start, and every request's blocks in one array. Block
 * hashes are kept as ints while every hash fits one (Mooncake's hash ids are small counters): 20
 * bytes per request and 4 per block, so a million requests of 30 blocks take 140 MB. The {@link
 * SimRequest}s are made by the iterator. Immutable once built, so any number of threads may iterate
 * it at once.
 */
final class RequestTable {
  private final int size;
  private final long[] arrivalNanos;
  private final int[] inputTokens;
  private final int[] outputTokens;
  private final int[] blockStart; // size + 1 entries
  private final int[] narrowBlocks; // null when wideBlocks holds them
  private final long[] wideBlocks;

  private RequestTable(Builder b) {
    this.size = b.size;
    this.arrivalNanos = Arrays.copyOf(b.arrivalNanos, b.size);
    this.inputTokens = Arrays.copyOf(b.inputTokens, b.size);
    this.outputTokens = Arrays.copyOf(b.outputTokens, b.size);
    this.blockStart = Arrays.copyOf(b.blockStart, b.size + 1);
    int blocks = b.blockStart[b.size];
    this.narrowBlocks = b.wideBlocks == null ? Arrays.copyOf(b.narrowBlocks, blocks) : null;
    this.wideBlocks = b.wideBlocks == null ? null : Arrays.copyOf(b.wideBlocks, blocks);
  }

  int size() {
    return size;
  }

  /** Request {@code i}, a new object with its own block array. */
  SimRequest get(int i) {
    int from = blockStart[i];
    int to = blockStart[i + 1];
    long[] blocks = new long[to - from];
    if (wideBlocks != null) {
      System.arraycopy(wideBlocks, from, blocks, 0, blocks.length);
    } else {
      for (int j = 0; j < blocks.length; j++) {
        blocks[j] = narrowBlocks[from + j];
      }
    }
    return new SimRequest(arrivalNanos[i], inputTokens[i], outputTokens[i], blocks);
  }

  Iterator<SimRequest> iterator() {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < size;
      }

      @Override
      public SimRequest next() {
        if (next >= size) {
          throw new NoSuchElementException();
        }
        return get(next++);
      }
    };
  }

  /** Collects requests in arrival order. Not thread-safe. */
  static final class Builder {
    private int size;
    private long[] arrivalNanos = new long[1024];
    private int[] inputTokens = new int[1024];
    private int[] outputTokens = new int[1024];
    private int[] blockStart = new int[1025];
    private int[] narrowBlocks = new int[1 << 14];
    private long[] wideBlocks;

    /**
     * Adds a request with the first {@code count} hashes of {@code blocks}.
     *
     * @throws IllegalStateException past 2^31 - 1 requests or blocks in all
     */
    void add(long arrival, int input, int output, long[] blocks, int count) {
      if (size == Integer.MAX_VALUE - 1 || blockStart[size] > Integer.MAX_VALUE - count) {
        throw new IllegalStateException("a trace holds at most 2^31 - 2 requests and blocks");
      }
      if (size == arrivalNanos.length) {
        int n = grown(size);
        arrivalNanos = Arrays.copyOf(arrivalNanos, n);
        inputTokens = Arrays.copyOf(inputTokens, n);
        outputTokens = Arrays.copyOf(outputTokens, n);
        blockStart = Arrays.copyOf(blockStart, n + 1);
      }
      int from = blockStart[size];
      int to = from + count;
      if (wideBlocks == null && !allNarrow(blocks, count)) {
        wideBlocks = new long[Math.max(to, narrowBlocks.length)];
        for (int i = 0; i < from; i++) {
          wideBlocks[i] = narrowBlocks[i];
        }
        narrowBlocks = null;
      }
      if (wideBlocks != null) {
        if (to > wideBlocks.length) {
          wideBlocks = Arrays.copyOf(wideBlocks, Math.max(to, grown(wideBlocks.length)));
        }
        System.arraycopy(blocks, 0, wideBlocks, from, count);
      } else {
        if (to > narrowBlocks.length) {
          narrowBlocks = Arrays.copyOf(narrowBlocks, Math.max(to, grown(narrowBlocks.length)));
        }
        for (int i = 0; i < count; i++) {
          narrowBlocks[from + i] = (int) blocks[i];
        }
      }
      arrivalNanos[size] = arrival;
      inputTokens[size] = input;
      outputTokens[size] = output;
      blockStart[++size] = to;
    }

    RequestTable build() {
      return new RequestTable(this);
    }

    private static boolean allNarrow(long[] blocks, int count) {
      for (int i = 0; i < count; i++) {
        if (blocks[i] != (int) blocks[i]) {
          return false;
        }
      }
      return true;
    }

    private static int grown(int n) {
      return (int) Math.min(Integer.MAX_VALUE - 8, n + (n >> 1) + 16L);
    }
  }
}
