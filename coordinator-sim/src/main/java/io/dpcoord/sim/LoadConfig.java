package io.dpcoord.sim;

import java.time.Duration;

/** What a {@link LoadGenerator} sends and how long it waits. Immutable; see {@link #builder()}. */
public final class LoadConfig {
  /** A request count that means: until {@link LoadGenerator#finishSubmitting()} is called. */
  public static final long UNBOUNDED = Long.MAX_VALUE;

  /** The most requests one run can track (client request ids are 0 .. this - 1). */
  public static final long MAX_REQUESTS = Integer.MAX_VALUE - 8;

  private final long requests;
  private final int concurrency;
  private final int systemPrompts;
  private final int systemTokens;
  private final int suffixTokens;
  private final int generatedTokens;
  private final long seed;
  private final boolean stream;
  private final Duration idleTimeout;
  private final Duration connectTimeout;
  private final CurveClient curve;
  private final double rate;

  private LoadConfig(Builder b) {
    this.requests = b.requests;
    this.concurrency = b.concurrency;
    this.systemPrompts = b.systemPrompts;
    this.systemTokens = b.systemTokens;
    this.suffixTokens = b.suffixTokens;
    this.generatedTokens = b.generatedTokens;
    this.seed = b.seed;
    this.stream = b.stream;
    this.idleTimeout = b.idleTimeout;
    this.connectTimeout = b.connectTimeout;
    this.curve = b.curve;
    this.rate = b.rate;
  }

  /** The CurveZMQ keys to connect with, or null for a plain connection. */
  public CurveClient curve() {
    return curve;
  }

  /** Requests sent per second at most (paced, still within the concurrency); 0: unpaced. */
  public double rate() {
    return rate;
  }

  /** A builder with the defaults of {@code ./coordinator load}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Requests to send, or {@link #UNBOUNDED}. */
  public long requests() {
    return requests;
  }

  /** The most requests in flight at once. */
  public int concurrency() {
    return concurrency;
  }

  /** Shared system prompts (K). */
  public int systemPrompts() {
    return systemPrompts;
  }

  /** Tokens per system prompt (S). */
  public int systemTokens() {
    return systemTokens;
  }

  /** Unique random tokens after the system prompt (U). */
  public int suffixTokens() {
    return suffixTokens;
  }

  /** {@code num_tokens_to_generate} in every request's sampling params. */
  public int generatedTokens() {
    return generatedTokens;
  }

  /** The workload's random seed. */
  public long seed() {
    return seed;
  }

  /**
   * Whether requests ask for streamed partial replies ({@code "streaming": true}, as Megatron's
   * SamplingParams asks).
   */
  public boolean stream() {
    return stream;
  }

  /** How long without any reply before the requests still in flight count as lost. */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** How long to wait for CONNECT_ACK. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** A new workload for this configuration. */
  public Workload workload() {
    return new Workload(systemPrompts, systemTokens, suffixTokens, seed);
  }

  /** Collects settings; every setter checks its value and names it when it is bad. */
  public static final class Builder {
    private long requests = 1000;
    private int concurrency = 64;
    private int systemPrompts = 8;
    private int systemTokens = 256;
    private int suffixTokens = 32;
    private int generatedTokens = 16;
    private long seed = 1;
    private boolean stream;
    private Duration idleTimeout = Duration.ofSeconds(10);
    private Duration connectTimeout = Duration.ofSeconds(5);
    private CurveClient curve;
    private double rate;

    private Builder() {}

    /** Sets the requests to send: 1 .. {@link #MAX_REQUESTS}, or {@link #UNBOUNDED}. */
    public Builder requests(long n) {
      if (n != UNBOUNDED && (n < 1 || n > MAX_REQUESTS)) {
        throw new IllegalArgumentException(
            "requests must be in [1, " + MAX_REQUESTS + "], got " + n);
      }
      this.requests = n;
      return this;
    }

    /** Sets the most requests in flight at once, at least 1. */
    public Builder concurrency(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("concurrency must be >= 1, got " + n);
      }
      this.concurrency = n;
      return this;
    }

    /** Sets the number of shared system prompts, at least 1. */
    public Builder systemPrompts(int k) {
      if (k < 1) {
        throw new IllegalArgumentException("system prompts must be >= 1, got " + k);
      }
      this.systemPrompts = k;
      return this;
    }

    /** Sets the tokens per system prompt, at least 0. */
    public Builder systemTokens(int s) {
      if (s < 0) {
        throw new IllegalArgumentException("system tokens must be >= 0, got " + s);
      }
      this.systemTokens = s;
      return this;
    }

    /** Sets the unique suffix tokens per request, at least 0. */
    public Builder suffixTokens(int u) {
      if (u < 0) {
        throw new IllegalArgumentException("suffix tokens must be >= 0, got " + u);
      }
      this.suffixTokens = u;
      return this;
    }

    /** Sets {@code num_tokens_to_generate}, in [0, {@link EngineConfig#MAX_GENERATED_TOKENS}]. */
    public Builder generatedTokens(int g) {
      if (g < 0 || g > EngineConfig.MAX_GENERATED_TOKENS) {
        throw new IllegalArgumentException(
            "generated tokens must be in [0, " + EngineConfig.MAX_GENERATED_TOKENS + "], got " + g);
      }
      this.generatedTokens = g;
      return this;
    }

    /** Sets the workload's random seed. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Asks engines to stream partial replies. */
    public Builder stream(boolean stream) {
      this.stream = stream;
      return this;
    }

    /** Sets how long without a reply before what is in flight is lost; positive. */
    public Builder idleTimeout(Duration d) {
      this.idleTimeout = positive(d, "idle timeout");
      return this;
    }

    /**
     * Paces the sends to {@code perSecond} requests a second at most, the i-th no earlier than i /
     * perSecond after the first (the window of {@code concurrency} still applies); 0, the default,
     * sends as fast as the window allows.
     */
    public Builder rate(double perSecond) {
      if (!(perSecond >= 0) || Double.isInfinite(perSecond)) {
        throw new IllegalArgumentException("rate must be a finite number >= 0, got " + perSecond);
      }
      this.rate = perSecond;
      return this;
    }

    /** Sets how long to wait for CONNECT_ACK; positive. */
    public Builder connectTimeout(Duration d) {
      this.connectTimeout = positive(d, "connect timeout");
      return this;
    }

    /** Connects with CurveZMQ and these keys; null (the default) connects in plain text. */
    public Builder curve(CurveClient keys) {
      this.curve = keys;
      return this;
    }

    /**
     * Returns the configuration.
     *
     * @throws IllegalArgumentException if prompts would be empty
     */
    public LoadConfig build() {
      if ((long) systemTokens + suffixTokens < 1) {
        throw new IllegalArgumentException(
            "system tokens + suffix tokens must be >= 1 (a prompt needs a token)");
      }
      return new LoadConfig(this);
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }
  }
}
