package io.dpcoord.server;

import io.dpcoord.metrics.CoordinatorMetrics.Histogram;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.ReplyRecord;
import io.dpcoord.routing.BlockHasher;
import io.dpcoord.routing.Decision;
import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.tokenizers.TextTokenizer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The routing of requests, in arrival order: hash what the policy uses of each prompt (text
 * tokenized with the engines' tokenizer), ask the {@link Router} for an engine, and record the
 * decision once the send succeeded (the router's commit, the routing metrics, the schedule).
 *
 * <p>Design notes. Tokenizing a long text prompt takes milliseconds (a 4k-token prompt, 7 to 9 ms
 * with Qwen3's tokenizer on a 2-vCPU VM; docs/PERFORMANCE.md), so text prompts (and token prompts
 * of more than {@link #INLINE_BLOCKS} blocks) are hashed on {@link TokenizerWorkers}; for engines
 * that take token prompts only (core_v0.15) every text prompt is tokenized there, whatever the
 * policy, and its tokens wait on the request ({@code PendingRequest.textTokens}) for its turn.
 * Decisions must still be Megatron's, which routes each request with the state left by every
 * message received before it and by none after. So requests wait in one queue, in arrival order,
 * and a request is routed only when every one before it has been; a terminal reply (which lowers
 * its engine's pending count) or a new epoch that arrives while requests wait is queued behind them
 * instead of being applied at once. Short token prompts arriving at an empty queue are hashed on
 * the loop and routed at once, with no hand-off.
 *
 * <p>Engine feedback ({@link RouterConfig#feedback()}) rides on the terminal reply: what the engine
 * served from its cache ({@code num_cached_tokens}) is compared with what routing predicted at the
 * commit (the decision's match depth, stamp and age), and applied with the reply's completion, in
 * the same place of the arrival order. Under the policies that count blocks in flight (dynamo,
 * llm_d) a request keeps its committed hashes until its terminal record, so that its completion can
 * take them off: memory bounded by the pending requests. The metrics comparing prediction and
 * outcome are recorded when the record arrives, feedback on or off.
 */
final class RequestRouting {
  /** Token prompts of up to this many blocks are hashed on the loop thread. */
  static final int INLINE_BLOCKS = 64;

  /**
   * The loop's memo of block digests ({@link BlockHasher}), in bytes, when prompts are hashed: some
   * 5,000 blocks of 16 tokens. The workers, which hash the long prompts, have none: in the load
   * benchmark at 8k-token prompts one of 2 MiB each saved at most 8 % of their CPU
   * (docs/PERFORMANCE.md, "A memo of block digests"); they remember recent prompts instead.
   */
  static final int LOOP_MEMO_BYTES = 1 << 20;

  /**
   * The loop's table of latest prompts ({@link BlockHasher#BlockHasher(int, int, int, int)}), in
   * bytes, when prompts are hashed: 97 slots (distinct first blocks) with 16-token blocks. A prompt
   * that starts as the last one with its first block did (a shared system prompt) takes those
   * blocks' hashes after one comparison (docs/PERFORMANCE.md, "The latest prompt per first block").
   */
  static final int LOOP_LATEST_BYTES = 1 << 20;

  /**
   * The tokens of the recent prompts each worker remembers ({@link BlockHasher#BlockHasher(int,
   * int, int)}): 16 prompts of 8k tokens, some 1.4 MB a worker with their digests. A long prompt
   * that starts as one of them (the same system prompt, the next turn of a conversation) is hashed
   * only past what they share (docs/PERFORMANCE.md, "Recent prompts on the workers").
   */
  static final int WORKER_RECENT_TOKENS = 1 << 17;

  /**
   * A routing-state change queued behind waiting requests: a new epoch, or a terminal reply from
   * {@code engine} for a request committed with {@code hashes[0..blocks)} (null unless the policy
   * counts blocks in flight), with its engine feedback when {@code served} is not negative.
   */
  private record Change(
      int engine,
      int blocks,
      long[] hashes,
      int predicted,
      int served,
      long stamp,
      long age,
      long hiddenAge) {
    static final Change NEW_EPOCH = new Change(-1, 0, null, 0, -1, 0, 0, -1);
  }

  private final RouterConfig config;
  private final Router router;
  private final BlockHasher hasher;
  private final TextTokenizer tokenizer;
  private final TokenizerWorkers workers;
  private final ThreadLocal<BlockHasher> workerHashers;
  private final LoopMetrics metrics;
  private final Histogram tokenizeLatency;
  private final ScheduleWriter schedule;
  private final RateLimitedLog warnings;
  private final LongSupplier nanoTime;
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  // the engines take token prompts only (core_v0.15): text is tokenized on a worker for them
  private final boolean enginesTakeTokens;
  private long feedbackPurged;
  private long[] current;

  RequestRouting(
      CoordinatorConfig config,
      Router router,
      TokenizerWorkers workers,
      LoopMetrics metrics,
      ScheduleWriter schedule,
      RateLimitedLog warnings,
      LongSupplier nanoTime) {
    this.config = config.routing();
    this.router = router;
    this.hasher =
        this.config.hashesPrompts()
            ? new BlockHasher(this.config.blockSize(), LOOP_MEMO_BYTES, 0, LOOP_LATEST_BYTES)
            : new BlockHasher(this.config.blockSize());
    this.tokenizer = config.tokenizer();
    this.enginesTakeTokens = config.engineDialect().buildsRecords();
    this.workers = workers;
    this.workerHashers =
        ThreadLocal.withInitial(
            () -> new BlockHasher(this.config.blockSize(), 0, WORKER_RECENT_TOKENS));
    this.metrics = metrics;
    this.tokenizeLatency = metrics.tokenizeLatency;
    this.schedule = schedule;
    this.warnings = warnings;
    this.nanoTime = nanoTime;
  }

  /**
   * Queues an accepted request for routing; its hashes are computed on a worker when that pays, and
   * {@code ready} runs on the loop once they are there.
   */
  void enqueue(PendingRequest r, Runnable ready) {
    boolean offLoop = offLoop(r.bound);
    queue.add(r);
    if (offLoop) {
      r.awaitingHashes = true;
      workers.submit(new HashJob(r, ready));
    }
  }

  /** Whether a request's hashes are computed on a worker rather than on the loop thread. */
  private boolean offLoop(EngineBound bound) {
    Prompt prompt = bound.prompt();
    if (enginesTakeTokens && prompt.isText()) {
      return tokenizer != null; // its tokens go to the engine: tokenized before it is routed
    }
    if (!bound.prefixEligible() || !config.routesByPrefix()) {
      return false;
    }
    return prompt.isText()
        ? tokenizer != null
        : !queue.isEmpty() || prompt.tokens().length / config.blockSize() > INLINE_BLOCKS;
  }

  /**
   * The terminal reply of {@code r} from its engine, whose record says the engine served {@code
   * cachedTokens} prompt tokens from its prefix cache ({@link ReplyRecord#CACHED_TOKENS_UNKNOWN}
   * when it does not say): the cached-token metrics now; in arrival order, the engine's pending
   * count (and, under dynamo and llm_d, its blocks in flight) go down and, with feedback on, the
   * router learns from what the engine served ({@code Router.feedback}).
   */
  void completed(PendingRequest r, long cachedTokens) {
    long[] hashes = r.committedHashes;
    r.committedHashes = null;
    int served = -1;
    if (cachedTokens != ReplyRecord.CACHED_TOKENS_UNKNOWN) {
      metrics.cachedTokens((long) r.predictedBlocks * config.blockSize(), cachedTokens);
      served = (int) Math.min(cachedTokens / config.blockSize(), Integer.MAX_VALUE);
    }
    Change change =
        new Change(
            r.engine,
            hashes == null ? 0 : r.committedBlocks,
            hashes,
            r.predictedBlocks,
            served,
            r.matchStamp,
            r.matchAge,
            r.hiddenAge);
    if (queue.isEmpty()) {
      apply(change);
    } else {
      queue.add(change);
    }
  }

  private void apply(Change c) {
    router.complete(c.engine(), c.hashes(), c.blocks());
    if (c.served() >= 0) {
      router.feedback(c.engine(), c.predicted(), c.served(), c.stamp(), c.age(), c.hiddenAge());
    }
  }

  /** A new generation epoch, in arrival order. */
  void newEpoch() {
    if (queue.isEmpty()) {
      router.newEpoch();
    } else {
      queue.add(Change.NEW_EPOCH);
    }
  }

  /**
   * The oldest queued request if it can be routed now (its hashes are there and {@code started}),
   * taken off the queue after every state change queued before it was applied; else null.
   */
  PendingRequest next(boolean started, PendingRequests pending) {
    for (Object head; (head = queue.peek()) != null; ) {
      if (head instanceof Change change) {
        queue.poll();
        if (change == Change.NEW_EPOCH) {
          router.newEpoch();
        } else {
          apply(change);
        }
        continue;
      }
      PendingRequest r = (PendingRequest) head;
      if (pending.get(r.requestId) != r) {
        queue.poll(); // answered already (FAILED while it waited)
        continue;
      }
      if (!started || r.awaitingHashes) {
        return null;
      }
      return (PendingRequest) queue.poll();
    }
    return null;
  }

  /**
   * Puts requests whose engine never got them (Conductor#takeBackHeld) first in line, in their
   * order: they arrived before every request and state change queued now.
   */
  void requeue(List<PendingRequest> again) {
    for (int i = again.size() - 1; i >= 0; i--) {
      queue.addFirst(again.get(i));
    }
  }

  /** Requests waiting to be routed. */
  int waiting() {
    return queue.size();
  }

  /**
   * The number of hashes routing uses for {@code r}, which {@link #choose} and {@link #sent} then
   * read; computed now unless a worker did.
   *
   * @throws RuntimeException what computing them on a worker threw (other than a text the tokenizer
   *     cannot tokenize, which routes by load)
   */
  int hash(PendingRequest r) {
    if (r.hashFailure != null) {
      throw r.hashFailure;
    }
    if (r.hashes != null) {
      current = r.hashes;
      return r.hashCount;
    }
    current = hasher.hashes();
    long[] tokens = tokens(r, r.bound);
    return tokens == null ? 0 : hasher.hash(tokens, config.blocksToHash(tokens.length));
  }

  /**
   * The tokens of a prompt that routing hashes, or null when it routes by load: not prefix routing,
   * or a text prompt with no tokenizer or one the tokenizer cannot read (counted and logged).
   */
  private long[] tokens(PendingRequest r, EngineBound bound) {
    if (!bound.prefixEligible() || !config.routesByPrefix()) {
      return null;
    }
    Prompt prompt = bound.prompt();
    if (!prompt.isText()) {
      return prompt.tokens();
    }
    if (tokenizer == null) {
      untokenized(r, "no tokenizer is configured (serve --tokenizer)");
      return null;
    }
    try {
      return tokenizer.tokenize(prompt.text());
    } catch (IllegalArgumentException e) {
      untokenized(r, "the tokenizer cannot read it: " + e.getMessage());
      return null;
    }
  }

  private void untokenized(PendingRequest r, String why) {
    metrics.textPromptUntokenized.inc();
    warnings.warn(
        "untokenized", "request " + r.requestId + ": text prompt routed by load only: " + why);
  }

  /** The engine for a request whose {@code count} hashes {@link #hash} just computed. */
  Decision choose(PendingRequest r, int count) {
    return router.route(current, count, r.bound.prefixEligible());
  }

  /**
   * Commits the decision for a request that goes to its engine. What it is recorded as (metrics,
   * schedule) waits for the SUBMIT to leave ({@link #recordSent}).
   */
  void sent(PendingRequest r, Decision decision, int count) {
    router.commit(decision, current, count);
    r.committedBlocks = count;
    r.predictedBlocks = decision.matchDepth();
    r.matchStamp = decision.matchStamp();
    r.matchAge = decision.matchAge();
    r.hiddenAge = decision.hiddenAge();
    if (config.policy().weighsBlocksInFlight() && count > 0) {
      // the loop's hasher reuses its buffer; a worker's hashes are already the request's own
      r.committedHashes =
          current == r.hashes && current.length == count ? current : Arrays.copyOf(current, count);
    }
    long purged = router.feedbackPurgedTotal();
    metrics.feedbackPurged.inc(purged - feedbackPurged);
    feedbackPurged = purged;
    metrics.indexChanged(router.indexSize(), router.evictedTotal());
    r.routingLatencyNanos = nanoTime.getAsLong() - r.receivedNanos;
    r.rank = decision.rank();
    r.hashesUsed = decision.hashesUsed();
    r.prefixApplied = decision.prefixApplied();
    r.matchFraction = decision.matchFraction();
    r.staleSeen |= decision.staleFound(); // or a decision before a held send that failed
  }

  /**
   * Records the decision of a request whose SUBMIT left for its engine (Outbox): once, for the
   * engine that got it, however often it was routed.
   */
  void recordSent(PendingRequest r) {
    metrics.routed(r);
    if (schedule != null) {
      schedule.record(r.requestId, r.rank, r.hashesUsed);
    }
  }

  /** Pushes the schedule output to the disk. */
  void flush() {
    if (schedule != null) {
      schedule.flush();
    }
  }

  /** Ends the schedule output. */
  void close() {
    if (schedule != null) {
      schedule.close();
    }
  }

  /** Tokenizes and hashes one request's prompt on a worker. */
  private final class HashJob implements TokenizerWorkers.Job {
    private final PendingRequest r;
    private final Runnable ready;
    private final EngineBound bound;
    private long[] tokens;
    private RuntimeException failure;
    private long[] hashes;
    private int count;
    private long nanos;

    HashJob(PendingRequest r, Runnable ready) {
      this.r = r;
      this.ready = ready;
      this.bound = r.bound;
    }

    @Override
    public void work() {
      long t0 = System.nanoTime();
      try {
        Prompt prompt = bound.prompt();
        if (prompt.isText()) {
          tokens = tokenizer.tokenize(prompt.text());
        } else {
          tokens = prompt.tokens();
        }
        if (bound.prefixEligible() && config.routesByPrefix()) {
          BlockHasher h = workerHashers.get();
          count = h.hash(tokens, config.blocksToHash(tokens.length));
          hashes = Arrays.copyOf(h.hashes(), count);
        } else {
          hashes = new long[0]; // tokenized for the engine only (core_v0.15)
        }
      } catch (IllegalArgumentException e) {
        failure = e; // text the tokenizer cannot read: routed by load, as on the loop
      } catch (RuntimeException e) {
        failure = e;
      }
      nanos = System.nanoTime() - t0;
    }

    @Override
    public void done() {
      tokenizeLatency.recordNanos(nanos);
      r.awaitingHashes = false;
      if (failure instanceof IllegalArgumentException && bound.prompt().isText()) {
        if (enginesTakeTokens) {
          r.untokenizable = failure.getMessage(); // answered FAILED when it is its turn
        } else {
          untokenized(r, "the tokenizer cannot read it: " + failure.getMessage());
        }
        r.hashes = new long[0];
      } else if (failure != null) {
        r.hashFailure = failure;
      } else {
        r.hashes = hashes;
        r.hashCount = count;
        r.textTokens = bound.prompt().isText() && enginesTakeTokens ? tokens : null;
      }
      ready.run();
    }
  }
}
