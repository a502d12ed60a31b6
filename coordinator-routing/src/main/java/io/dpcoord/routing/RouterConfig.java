package io.dpcoord.routing;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The router's settings: policy, score weights, block size and the extensions' bounds.
 *
 * <p>Built with {@link #builder()}; every setting has the reference default, so {@code
 * RouterConfig.builder().build()} routes exactly like Megatron with prefix caching on. {@link
 * Builder#release} selects the rule of Megatron core_v0.18.2 instead.
 */
public final class RouterConfig {
  /** The largest index capacity: the hash table must stay addressable with an int. */
  public static final int MAX_INDEX_CAPACITY = 1 << 28;

  private final MegatronRelease release;
  private final Policy policy;
  private final double alpha;
  private final int maxRequests;
  private final int blockSize;
  private final boolean prefixCaching;
  private final long ttlNanos;
  private final int indexCapacity;
  private final boolean preallocateIndex;
  private final LongSupplier nanoClock;
  private final boolean feedback;
  private final double prefillTokensPerSecond;

  private RouterConfig(Builder b) {
    this.release = b.release;
    this.policy = b.policy;
    this.alpha = b.alpha;
    this.maxRequests = b.maxRequests;
    this.blockSize = b.blockSize;
    this.prefixCaching = b.prefixCaching;
    this.ttlNanos = b.ttlNanos;
    this.indexCapacity = b.indexCapacity;
    this.preallocateIndex = b.preallocateIndex;
    this.nanoClock = b.nanoClock;
    this.feedback = b.feedback;
    this.prefillTokensPerSecond = b.prefillTokensPerSecond;
  }

  /** A builder holding the defaults: longest prefix, alpha 0.5, 16 requests, 16 tokens, no TTL. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this configuration's settings. */
  public Builder toBuilder() {
    return new Builder()
        .release(release)
        .policy(policy)
        .alpha(alpha)
        .maxRequests(maxRequests)
        .blockSize(blockSize)
        .prefixCaching(prefixCaching)
        .ttlNanos(ttlNanos)
        .indexCapacity(indexCapacity)
        .preallocateIndex(preallocateIndex)
        .nanoClock(nanoClock)
        .feedback(feedback)
        .prefillTokensPerSecond(prefillTokensPerSecond);
  }

  /** Whose routing rule: Megatron 0.19's (the default) or 0.18's. */
  public MegatronRelease release() {
    return release;
  }

  /** The routing policy. */
  public Policy policy() {
    return policy;
  }

  /** The weight of the prefix match against free capacity, in [0, 1]. */
  public double alpha() {
    return alpha;
  }

  /** The pending-request count at which an engine counts as having no free capacity. */
  public int maxRequests() {
    return maxRequests;
  }

  /** Tokens per hashed block. */
  public int blockSize() {
    return blockSize;
  }

  /** Whether prefix caching is on; when off every policy routes by load only. */
  public boolean prefixCaching() {
    return prefixCaching;
  }

  /**
   * How many leading blocks of a prompt of {@code tokens} tokens need hashing for routing: the
   * complete blocks the policy routes on or records ({@link Policy#hashesRecorded}), none when
   * prefix caching is off.
   */
  public int blocksToHash(int tokens) {
    return prefixCaching ? policy.hashesRecorded(tokens / blockSize) : 0;
  }

  /**
   * Whether any prompt is routed by its prefix: prefix caching is on and the policy uses it.
   * Whether prompts need hashing at all is {@link #hashesPrompts()}, which differs under
   * round_robin.
   */
  public boolean routesByPrefix() {
    return prefixCaching && policy.usesPrefix();
  }

  /**
   * Whether prompts need hashing: prefix caching is on and the policy routes on their hashes or (as
   * {@link Policy#ROUND_ROBIN} does) records them. False means {@link #blocksToHash} is always 0.
   */
  public boolean hashesPrompts() {
    return prefixCaching && policy.hashesRecorded(1) > 0;
  }

  /** How long an index entry stays fresh, in nanoseconds; 0 means forever. */
  public long ttlNanos() {
    return ttlNanos;
  }

  /** The most block hashes the index tracks before it evicts the least recently assigned. */
  public int indexCapacity() {
    return indexCapacity;
  }

  /**
   * Whether the index's arrays for its whole capacity are allocated at start, on a helper thread,
   * rather than doubled as it fills (off by default; {@code serve} turns it on).
   */
  public boolean preallocateIndex() {
    return preallocateIndex;
  }

  /** The clock that TTL expiry reads. */
  public LongSupplier nanoClock() {
    return nanoClock;
  }

  /**
   * Whether engine feedback corrects the index ({@link Router#feedback}): off by default, since
   * Megatron's router never forgets what it assigned.
   */
  public boolean feedback() {
    return feedback;
  }

  /**
   * The engines' prefill rate, at which {@link Policy#LEAST_WORK} drains the prefill work it sent
   * each engine (default 25,000 tokens per second, the simulator's default engine).
   */
  public double prefillTokensPerSecond() {
    return prefillTokensPerSecond;
  }

  @Override
  public String toString() {
    return "RouterConfig{release="
        + release.cliName()
        + ", policy="
        + policy.cliName()
        + ", alpha="
        + alpha
        + ", maxRequests="
        + maxRequests
        + ", blockSize="
        + blockSize
        + ", prefixCaching="
        + prefixCaching
        + ", ttlNanos="
        + ttlNanos
        + ", indexCapacity="
        + indexCapacity
        + ", preallocateIndex="
        + preallocateIndex
        + ", feedback="
        + feedback
        + ", prefillTokensPerSecond="
        + prefillTokensPerSecond
        + "}";
  }

  /** Collects settings; every setter checks its value and names it when it is bad. */
  public static final class Builder {
    private MegatronRelease release = MegatronRelease.V0_19;
    private Policy policy = Policy.LONGEST_PREFIX;
    private double alpha = 0.5;
    private int maxRequests = 16;
    private int blockSize = 16;
    private boolean prefixCaching = true;
    private long ttlNanos = 0;
    private int indexCapacity = 1 << 20;
    private boolean preallocateIndex;
    private LongSupplier nanoClock = System::nanoTime;
    private boolean feedback;
    private double prefillTokensPerSecond = 25_000;

    private Builder() {}

    /**
     * Sets whose routing rule the router follows (default {@link MegatronRelease#V0_19}); the
     * policy must be one of that release's ({@link #build()} checks).
     */
    public Builder release(MegatronRelease release) {
      if (release == null) {
        throw new IllegalArgumentException("Megatron release is null");
      }
      this.release = release;
      return this;
    }

    /** Sets the routing policy. */
    public Builder policy(Policy policy) {
      if (policy == null) {
        throw new IllegalArgumentException("policy is null");
      }
      this.policy = policy;
      return this;
    }

    /** Sets the prefix-match weight, in [0, 1]. */
    public Builder alpha(double alpha) {
      if (!(alpha >= 0.0 && alpha <= 1.0)) {
        throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
      }
      this.alpha = alpha;
      return this;
    }

    /** Sets the pending-request count that means no free capacity; positive. */
    public Builder maxRequests(int maxRequests) {
      if (maxRequests <= 0) {
        throw new IllegalArgumentException("max requests must be positive, got " + maxRequests);
      }
      this.maxRequests = maxRequests;
      return this;
    }

    /** Sets the tokens per hashed block; positive. */
    public Builder blockSize(int blockSize) {
      if (blockSize <= 0) {
        throw new IllegalArgumentException("block size must be positive, got " + blockSize);
      }
      this.blockSize = blockSize;
      return this;
    }

    /** Turns prefix caching on or off. */
    public Builder prefixCaching(boolean prefixCaching) {
      this.prefixCaching = prefixCaching;
      return this;
    }

    /** Sets how long an index entry stays fresh; {@link Duration#ZERO} turns expiry off. */
    public Builder ttl(Duration ttl) {
      if (ttl == null || ttl.isNegative()) {
        throw new IllegalArgumentException("TTL must be zero (off) or positive, got " + ttl);
      }
      long nanos;
      try {
        nanos = ttl.toNanos();
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("TTL is too long: " + ttl, e);
      }
      return ttlNanos(nanos);
    }

    private Builder ttlNanos(long nanos) {
      this.ttlNanos = nanos;
      return this;
    }

    /** Sets the most block hashes the index tracks; positive. */
    public Builder indexCapacity(int indexCapacity) {
      if (indexCapacity <= 0 || indexCapacity > MAX_INDEX_CAPACITY) {
        throw new IllegalArgumentException(
            "index capacity must be in [1, " + MAX_INDEX_CAPACITY + "], got " + indexCapacity);
      }
      this.indexCapacity = indexCapacity;
      return this;
    }

    /** Allocates the index's whole capacity at start ({@link RouterConfig#preallocateIndex()}). */
    public Builder preallocateIndex(boolean preallocate) {
      this.preallocateIndex = preallocate;
      return this;
    }

    /** Sets the clock that TTL expiry reads (tests pass a manual one). */
    public Builder nanoClock(LongSupplier nanoClock) {
      if (nanoClock == null) {
        throw new IllegalArgumentException("nano clock is null");
      }
      this.nanoClock = nanoClock;
      return this;
    }

    /** Sets the engines' prefill rate ({@link RouterConfig#prefillTokensPerSecond()}). */
    public Builder prefillTokensPerSecond(double tokensPerSecond) {
      if (!(tokensPerSecond > 0) || Double.isInfinite(tokensPerSecond)) {
        throw new IllegalArgumentException(
            "prefill rate must be a positive number of tokens per second, got " + tokensPerSecond);
      }
      this.prefillTokensPerSecond = tokensPerSecond;
      return this;
    }

    /** Turns engine feedback on or off ({@link RouterConfig#feedback()}). */
    public Builder feedback(boolean feedback) {
      this.feedback = feedback;
      return this;
    }

    /**
     * Returns the configuration.
     *
     * @throws IllegalArgumentException if the policy is not one of the release's
     */
    public RouterConfig build() {
      if (!release.offers(policy)) {
        throw new IllegalArgumentException(
            "policy "
                + policy.cliName()
                + " is not one of Megatron "
                + release.cliName()
                + "'s ("
                + release.policyNames()
                + ")");
      }
      return new RouterConfig(this);
    }
  }
}
