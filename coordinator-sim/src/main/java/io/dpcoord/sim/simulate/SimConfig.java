package io.dpcoord.sim.simulate;

import io.dpcoord.routing.RouterConfig;

/**
 * One simulated configuration: the router's settings and the modelled fleet.
 *
 * <p>A step of an engine takes {@code stepBaseMs + prefillUsPerToken * prefill tokens in the step +
 * decodeUsPerSeq * sequences in the step}. The defaults (docs/SIMULATOR.md derives them) model an
 * 8B-parameter model in bf16 on one H100: a 5 ms step floor (reading 16 GB of weights at 3.35 TB/s
 * takes 4.8 ms), 40 us per prefill token (16 GFLOP per token at about 400 TFLOP/s), 0.1 ms per
 * running sequence (its KV cache read each step); vLLM's defaults for the batch limits (256
 * sequences, 8,192 tokens per step with chunked prefill).
 *
 * @param routing the router's configuration (its clock is replaced by the simulation's)
 * @param engines modelled engines
 * @param cacheBlocks prefix-cache capacity of each engine, in blocks of the workload's block size
 * @param eviction how a full cache evicts
 * @param maxNumSeqs most requests running on an engine at once
 * @param maxBatchedTokens most tokens (decode plus prefill chunks) in one engine step
 * @param stepBaseMs fixed time of a step, milliseconds
 * @param prefillUsPerToken time per prefill token in a step, microseconds
 * @param decodeUsPerSeq time per sequence in a step, microseconds
 * @param speed arrival times are divided by this (2 replays twice as fast)
 */
public record SimConfig(
    RouterConfig routing,
    int engines,
    int cacheBlocks,
    Eviction eviction,
    int maxNumSeqs,
    int maxBatchedTokens,
    double stepBaseMs,
    double prefillUsPerToken,
    double decodeUsPerSeq,
    double speed) {
  public static final int DEFAULT_ENGINES = 8;
  public static final int DEFAULT_MAX_NUM_SEQS = 256;
  public static final int DEFAULT_MAX_BATCHED_TOKENS = 8192;
  public static final double DEFAULT_STEP_BASE_MS = 5.0;
  public static final double DEFAULT_PREFILL_US_PER_TOKEN = 40.0;
  public static final double DEFAULT_DECODE_US_PER_SEQ = 100.0;

  /** The default cache: 262,144 tokens per engine (34 GB of KV for an 8B model), in blocks. */
  public static int defaultCacheBlocks(int blockSize) {
    return Math.max(1, (1 << 18) / blockSize);
  }

  public SimConfig {
    if (routing == null || eviction == null) {
      throw new IllegalArgumentException("routing and eviction are required");
    }
    check(engines >= 1 && engines <= 4096, "engines must be in 1..4096, got " + engines);
    check(cacheBlocks >= 0, "cache blocks must be >= 0, got " + cacheBlocks);
    check(maxNumSeqs >= 1, "max-num-seqs must be >= 1, got " + maxNumSeqs);
    check(
        maxBatchedTokens >= maxNumSeqs,
        "max-batched-tokens ("
            + maxBatchedTokens
            + ") must be >= max-num-seqs ("
            + maxNumSeqs
            + "): every running sequence decodes one token per step");
    check(
        stepBaseMs >= 0 && prefillUsPerToken >= 0 && decodeUsPerSeq >= 0,
        "step-time coefficients must be >= 0");
    check(
        stepBaseMs > 0 || prefillUsPerToken > 0 || decodeUsPerSeq > 0,
        "a step must take some time: the step-time coefficients cannot all be 0");
    check(speed > 0 && Double.isFinite(speed), "speed must be > 0, got " + speed);
  }

  /** The defaults with {@code routing}, for a workload of {@code blockSize}-token blocks. */
  public static Builder builder(RouterConfig routing, int blockSize) {
    Builder b = new Builder();
    b.routing = routing;
    b.cacheBlocks = defaultCacheBlocks(blockSize);
    return b;
  }

  /** A builder holding this configuration. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.routing = routing;
    b.engines = engines;
    b.cacheBlocks = cacheBlocks;
    b.eviction = eviction;
    b.maxNumSeqs = maxNumSeqs;
    b.maxBatchedTokens = maxBatchedTokens;
    b.stepBaseMs = stepBaseMs;
    b.prefillUsPerToken = prefillUsPerToken;
    b.decodeUsPerSeq = decodeUsPerSeq;
    b.speed = speed;
    return b;
  }

  /** Builds a {@link SimConfig}; {@link #build()} checks the values. */
  public static final class Builder {
    private RouterConfig routing;
    private int engines = DEFAULT_ENGINES;
    private int cacheBlocks;
    private Eviction eviction = Eviction.LINEAGE;
    private int maxNumSeqs = DEFAULT_MAX_NUM_SEQS;
    private int maxBatchedTokens = DEFAULT_MAX_BATCHED_TOKENS;
    private double stepBaseMs = DEFAULT_STEP_BASE_MS;
    private double prefillUsPerToken = DEFAULT_PREFILL_US_PER_TOKEN;
    private double decodeUsPerSeq = DEFAULT_DECODE_US_PER_SEQ;
    private double speed = 1.0;

    private Builder() {}

    public Builder routing(RouterConfig r) {
      this.routing = r;
      return this;
    }

    public Builder engines(int n) {
      this.engines = n;
      return this;
    }

    public Builder cacheBlocks(int blocks) {
      this.cacheBlocks = blocks;
      return this;
    }

    public Builder eviction(Eviction e) {
      this.eviction = e;
      return this;
    }

    /** At most {@code seqs} running requests and {@code tokens} tokens per step. */
    public Builder batching(int seqs, int tokens) {
      this.maxNumSeqs = seqs;
      this.maxBatchedTokens = tokens;
      return this;
    }

    /** A step takes {@code baseMs + prefillUs * prefill tokens + decodeUs * sequences}. */
    public Builder stepTime(double baseMs, double prefillUs, double decodeUs) {
      this.stepBaseMs = baseMs;
      this.prefillUsPerToken = prefillUs;
      this.decodeUsPerSeq = decodeUs;
      return this;
    }

    public Builder speed(double s) {
      this.speed = s;
      return this;
    }

    /**
     * The configuration.
     *
     * @throws IllegalArgumentException naming the first bad value
     */
    public SimConfig build() {
      return new SimConfig(
          routing,
          engines,
          cacheBlocks,
          eviction,
          maxNumSeqs,
          maxBatchedTokens,
          stepBaseMs,
          prefillUsPerToken,
          decodeUsPerSeq,
          speed);
    }
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
