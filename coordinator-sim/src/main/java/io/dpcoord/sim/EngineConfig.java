package io.dpcoord.sim;

import io.dpcoord.tokenizers.TextTokenizer;
import io.dpcoord.tokenizers.Tokenizers;
import java.time.Duration;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * How a {@link SimulatedEngine} behaves: its rank, its modelled prefix cache and its step latency.
 *
 * <p>A request's latency is {@code base + perPromptToken * uncachedPromptTokens + perGeneratedToken
 * * generatedTokens} (see {@link #latencyNanos}). Immutable; built with {@link #builder(int)}.
 */
public final class EngineConfig {
  /** The most tokens one request may ask for; larger requests are capped to it. */
  public static final int MAX_GENERATED_TOKENS = 1 << 20;

  private final int rank;
  private final int blockSize;
  private final int cacheBlocks;
  private final long baseNanos;
  private final long perPromptTokenNanos;
  private final long perGeneratedTokenNanos;
  private final int generatedTokens;
  private final boolean stream;
  private final int streamChunkTokens;
  private final boolean extensionFields;
  private final LongSupplier nanoClock;
  private final DoubleSupplier unixSeconds;
  private final TextTokenizer tokenizer;
  private final CurveClient curve;

  private EngineConfig(Builder b) {
    this.rank = b.rank;
    this.blockSize = b.blockSize;
    this.cacheBlocks = b.cacheBlocks;
    this.baseNanos = b.baseNanos;
    this.perPromptTokenNanos = b.perPromptTokenNanos;
    this.perGeneratedTokenNanos = b.perGeneratedTokenNanos;
    this.generatedTokens = b.generatedTokens;
    this.stream = b.stream;
    this.streamChunkTokens = b.streamChunkTokens;
    this.extensionFields = b.extensionFields;
    this.nanoClock = b.nanoClock;
    this.unixSeconds = b.unixSeconds;
    this.tokenizer = b.tokenizer;
    this.curve = b.curve;
  }

  /**
   * A builder for the engine of data-parallel rank {@code rank} (identity {@code mp-coord-rank}).
   */
  /** The CurveZMQ keys to connect with, or null for a plain connection. */
  public CurveClient curve() {
    return curve;
  }

  public static Builder builder(int rank) {
    return new Builder(rank);
  }

  /** The data-parallel rank. */
  public int rank() {
    return rank;
  }

  /** The engine's ZMQ identity, {@code mp-coord-<rank>}. */
  public String identity() {
    return "mp-coord-" + rank;
  }

  /** Tokens per KV-cache block; must equal the coordinator's block size for affinity to pay. */
  public int blockSize() {
    return blockSize;
  }

  /** Blocks the modelled prefix cache holds; 0 disables it. */
  public int cacheBlocks() {
    return cacheBlocks;
  }

  /** Fixed cost of every request. */
  public long baseNanos() {
    return baseNanos;
  }

  /** Cost of each prompt token that is not in the prefix cache. */
  public long perPromptTokenNanos() {
    return perPromptTokenNanos;
  }

  /** Cost of each generated token. */
  public long perGeneratedTokenNanos() {
    return perGeneratedTokenNanos;
  }

  /** Tokens generated when sampling_params has no {@code num_tokens_to_generate}. */
  public int generatedTokens() {
    return generatedTokens;
  }

  /** Whether every request streams ENGINE_REPLY_PARTIAL (else only those asking for it). */
  public boolean stream() {
    return stream;
  }

  /**
   * Generated tokens between two partial replies of a streamed request whose sampling_params has no
   * streaming_interval.
   */
  public int streamChunkTokens() {
    return streamChunkTokens;
  }

  /** Whether records carry {@code served_by_rank} and {@code cached_blocks}. */
  public boolean extensionFields() {
    return extensionFields;
  }

  /** The clock that request deadlines are measured on. */
  public LongSupplier nanoClock() {
    return nanoClock;
  }

  /** The wall clock of the event timestamps in reply records. */
  public DoubleSupplier unixSeconds() {
    return unixSeconds;
  }

  /** Turns text prompts into tokens, as the model's tokenizer would (default: bytes). */
  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  /**
   * The modelled time to serve one request: base + per uncached prompt token + per generated token.
   *
   * @throws IllegalArgumentException if a count is negative
   */
  public long latencyNanos(long uncachedPromptTokens, long generatedTokens) {
    if (uncachedPromptTokens < 0 || generatedTokens < 0) {
      throw new IllegalArgumentException(
          "token counts must be >= 0, got uncached "
              + uncachedPromptTokens
              + " and generated "
              + generatedTokens);
    }
    return saturatedAdd(
        baseNanos,
        saturatedAdd(
            saturatedMultiply(perPromptTokenNanos, uncachedPromptTokens),
            saturatedMultiply(perGeneratedTokenNanos, generatedTokens)));
  }

  /** The modelled time to generate {@code tokens} tokens once prefill is done. */
  public long generationNanos(long tokens) {
    if (tokens < 0) {
      throw new IllegalArgumentException("token count must be >= 0, got " + tokens);
    }
    return saturatedMultiply(perGeneratedTokenNanos, tokens);
  }

  /** {@code a + b}, pinned to the long range instead of wrapping. */
  static long saturatedAdd(long a, long b) {
    long r = a + b;
    if (((a ^ r) & (b ^ r)) < 0) {
      return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    return r;
  }

  private static long saturatedMultiply(long a, long b) {
    return b != 0 && a > Long.MAX_VALUE / b ? Long.MAX_VALUE : a * b;
  }

  @Override
  public String toString() {
    return "EngineConfig{rank="
        + rank
        + ", blockSize="
        + blockSize
        + ", cacheBlocks="
        + cacheBlocks
        + ", baseNanos="
        + baseNanos
        + ", perPromptTokenNanos="
        + perPromptTokenNanos
        + ", perGeneratedTokenNanos="
        + perGeneratedTokenNanos
        + ", generatedTokens="
        + generatedTokens
        + ", stream="
        + stream
        + "}";
  }

  /** Collects settings; every setter checks its value and names it when it is bad. */
  public static final class Builder {
    private final int rank;
    private int blockSize = 16;
    private int cacheBlocks = 4096;
    private long baseNanos = Duration.ofMillis(1).toNanos();
    private long perPromptTokenNanos = Duration.ofNanos(10_000).toNanos();
    private long perGeneratedTokenNanos = Duration.ofNanos(100_000).toNanos();
    private int generatedTokens = 16;
    private boolean stream;
    private int streamChunkTokens = 4;
    private boolean extensionFields = true;
    private LongSupplier nanoClock = System::nanoTime;
    private DoubleSupplier unixSeconds = () -> System.currentTimeMillis() / 1000.0;
    private TextTokenizer tokenizer = Tokenizers.fromSpec("bytes");
    private CurveClient curve;

    private Builder(int rank) {
      if (rank < 0) {
        throw new IllegalArgumentException("rank must be >= 0, got " + rank);
      }
      this.rank = rank;
    }

    /** Sets the tokens per block (default 16). */
    public Builder blockSize(int tokens) {
      if (tokens <= 0 || tokens > Integer.MAX_VALUE / Long.BYTES) {
        throw new IllegalArgumentException("block size must be positive, got " + tokens);
      }
      this.blockSize = tokens;
      return this;
    }

    /** Sets the prefix-cache capacity in blocks; 0 disables caching (default 4096). */
    public Builder cacheBlocks(int blocks) {
      if (blocks < 0) {
        throw new IllegalArgumentException("cache blocks must be >= 0, got " + blocks);
      }
      this.cacheBlocks = blocks;
      return this;
    }

    /** Sets the fixed cost per request (default 1 ms). */
    public Builder base(Duration base) {
      this.baseNanos = nonNegative(base, "base latency");
      return this;
    }

    /** Sets the cost per uncached prompt token (default 10 us). */
    public Builder perPromptToken(Duration cost) {
      this.perPromptTokenNanos = nonNegative(cost, "cost per prompt token");
      return this;
    }

    /** Sets the cost per generated token (default 100 us). */
    public Builder perGeneratedToken(Duration cost) {
      this.perGeneratedTokenNanos = nonNegative(cost, "cost per generated token");
      return this;
    }

    /** Sets the tokens generated when a request does not say (default 16). */
    public Builder generatedTokens(int tokens) {
      if (tokens < 0 || tokens > MAX_GENERATED_TOKENS) {
        throw new IllegalArgumentException(
            "generated tokens must be in [0, " + MAX_GENERATED_TOKENS + "], got " + tokens);
      }
      this.generatedTokens = tokens;
      return this;
    }

    /** Streams partial replies for every request (default: only when sampling_params asks). */
    public Builder stream(boolean stream) {
      this.stream = stream;
      return this;
    }

    /** Sets the generated tokens between two partial replies (default 4). */
    public Builder streamChunkTokens(int tokens) {
      if (tokens <= 0) {
        throw new IllegalArgumentException("stream chunk must be positive, got " + tokens);
      }
      this.streamChunkTokens = tokens;
      return this;
    }

    /**
     * Adds {@code served_by_rank} and {@code cached_blocks} to every record (default true). A
     * Megatron client that deserializes records rejects unknown keys: turn this off for one.
     */
    public Builder extensionFields(boolean on) {
      this.extensionFields = on;
      return this;
    }

    /** Sets the clock deadlines are measured on (tests pass a manual one). */
    public Builder nanoClock(LongSupplier clock) {
      if (clock == null) {
        throw new IllegalArgumentException("nano clock is null");
      }
      this.nanoClock = clock;
      return this;
    }

    /** Sets the wall clock of event timestamps. */
    public Builder unixSeconds(DoubleSupplier clock) {
      if (clock == null) {
        throw new IllegalArgumentException("unix clock is null");
      }
      this.unixSeconds = clock;
      return this;
    }

    /** Sets the tokenizer of text prompts. */
    public Builder tokenizer(TextTokenizer tokenizer) {
      if (tokenizer == null) {
        throw new IllegalArgumentException("tokenizer is null");
      }
      this.tokenizer = tokenizer;
      return this;
    }

    /** Connects with CurveZMQ and these keys; null (the default) connects in plain text. */
    public Builder curve(CurveClient keys) {
      this.curve = keys;
      return this;
    }

    /** Returns the configuration. */
    public EngineConfig build() {
      return new EngineConfig(this);
    }

    private static long nonNegative(Duration d, String what) {
      if (d == null || d.isNegative()) {
        throw new IllegalArgumentException(what + " must be zero or positive, got " + d);
      }
      try {
        return d.toNanos();
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(what + " is too long: " + d, e);
      }
    }
  }
}
