package io.dpcoord.sim.simulate;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.PriorityQueue;

/**
 * A modelled engine: a prefix cache and continuous batching in virtual time.
 *
 * <p>A step is planned when the previous one ends (or when work reaches an idle engine): every
 * decoding request takes one token of the step's budget, then requests in prefill take chunks in
 * order, then waiting requests are admitted (a cache lookup each) while fewer than max-num-seqs run
 * and the budget lasts. A request whose prefill ends with a step emits its first token then and one
 * more token in each step after; it finishes with its last token. Decoding requests are kept by the
 * step they finish in, so a step costs O(requests that change), not O(running).
 */
final class ModelEngine {
  /** A request on this engine. */
  static final class Job {
    final SimRequest request;
    final long arrival;
    final long seq;
    final int predicted;
    long matchStamp;
    long matchAge;
    long hiddenAge;
    int hits = -1;
    int remainingPrefill;
    int chunk;
    long finishStep;
    long firstToken;

    Job(SimRequest request, long arrival, long seq, int predicted) {
      this.request = request;
      this.arrival = arrival;
      this.seq = seq;
      this.predicted = predicted;
    }
  }

  /** What the simulation learns from an engine. */
  interface Listener {
    void admitted(ModelEngine engine, Job job);

    void finished(ModelEngine engine, Job job, long now);
  }

  final int id;
  private final BlockCache cache;
  private final int blockSize;
  private final int maxNumSeqs;
  private final int maxBatchedTokens;
  private final double baseNanos;
  private final double prefillNanosPerToken;
  private final double decodeNanosPerSeq;
  private final Listener listener;

  private final ArrayDeque<Job> waiting = new ArrayDeque<>();
  private final ArrayDeque<Job> prefilling = new ArrayDeque<>();
  private final PriorityQueue<Job> decoding =
      new PriorityQueue<>(
          (x, y) ->
              x.finishStep != y.finishStep
                  ? Long.compare(x.finishStep, y.finishStep)
                  : Long.compare(x.seq, y.seq));
  private long step;
  private boolean busy;
  private boolean waking;
  private long stepEnd;
  private long busyNanos;

  ModelEngine(int id, SimConfig c, int blockSize, Listener listener) {
    this.id = id;
    this.cache = new BlockCache(c.cacheBlocks(), c.eviction());
    this.blockSize = blockSize;
    this.maxNumSeqs = c.maxNumSeqs();
    this.maxBatchedTokens = c.maxBatchedTokens();
    this.baseNanos = c.stepBaseMs() * 1e6;
    this.prefillNanosPerToken = c.prefillUsPerToken() * 1e3;
    this.decodeNanosPerSeq = c.decodeUsPerSeq() * 1e3;
    this.listener = listener;
  }

  /**
   * A request routed here at {@code now}. An idle engine wakes at {@code now}, after every other
   * request arriving at the same instant (they start in one step).
   */
  void submit(Job job, long now) {
    waiting.add(job);
    if (!busy) {
      busy = true;
      waking = true;
      stepEnd = now;
    }
  }

  /** Whether the next event is a wake-up (which comes after arrivals at the same instant). */
  boolean waking() {
    return waking;
  }

  boolean busy() {
    return busy;
  }

  /** When the step in progress ends (only while {@link #busy()}). */
  long stepEnd() {
    return stepEnd;
  }

  long busyNanos() {
    return busyNanos;
  }

  long evictions() {
    return cache.evictions();
  }

  /** Ends the step in progress (at {@link #stepEnd()}), or wakes, and plans the next step. */
  void endStep() {
    long now = stepEnd;
    if (waking) {
      waking = false;
      plan(now);
      return;
    }
    step++;
    for (Iterator<Job> it = prefilling.iterator(); it.hasNext(); ) {
      Job j = it.next();
      if (j.chunk == 0) {
        break; // the budget ran out here: no later request got a chunk
      }
      j.remainingPrefill -= j.chunk;
      j.chunk = 0;
      if (j.remainingPrefill > 0) {
        break;
      }
      it.remove();
      j.firstToken = now;
      if (j.request.outputTokens() == 1) {
        listener.finished(this, j, now);
      } else {
        j.finishStep = step + j.request.outputTokens() - 1;
        decoding.add(j);
      }
    }
    while (!decoding.isEmpty() && decoding.peek().finishStep == step) {
      listener.finished(this, decoding.poll(), now);
    }
    plan(now);
  }

  private void plan(long now) {
    int budget = maxBatchedTokens - decoding.size();
    int seqs = decoding.size();
    long prefillTokens = 0;
    for (Job j : prefilling) {
      if (budget == 0) {
        break;
      }
      j.chunk = Math.min(j.remainingPrefill, budget);
      budget -= j.chunk;
      prefillTokens += j.chunk;
      seqs++;
    }
    while (budget > 0 && !waiting.isEmpty() && decoding.size() + prefilling.size() < maxNumSeqs) {
      Job j = waiting.poll();
      j.hits = cache.lookupAndInsert(j.request.blocks());
      int input = j.request.inputTokens();
      j.remainingPrefill = (int) (input - cachedTokens(j.hits, blockSize, input)); // >= 1
      listener.admitted(this, j);
      j.chunk = Math.min(j.remainingPrefill, budget);
      budget -= j.chunk;
      prefillTokens += j.chunk;
      seqs++;
      prefilling.add(j);
    }
    if (seqs == 0) {
      busy = false;
      return;
    }
    long dt =
        Math.max(
            1L,
            Math.round(
                baseNanos + prefillNanosPerToken * prefillTokens + decodeNanosPerSeq * seqs));
    busy = true;
    stepEnd = now + dt;
    busyNanos += dt;
  }

  /** How many leading blocks of {@code blocks} the engine's cache holds now. */
  int cachedRun(long[] blocks) {
    return cache.cachedRun(blocks);
  }

  /** Tokens of the prompt an engine serves from cache with {@code hits} leading blocks cached. */
  static long cachedTokens(int hits, int blockSize, int inputTokens) {
    return Math.min((long) hits * blockSize, inputTokens - 1L);
  }
}
