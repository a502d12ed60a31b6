package io.dpcoord.server;

import io.dpcoord.metrics.CoordinatorMetrics;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.tokenizers.TextTokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/** Everything a {@link Coordinator} needs to start. Immutable; built with {@link #builder()}. */
public final class CoordinatorConfig {
  private final String bindAddress;
  private final int port;
  private final int expectedEngines;
  private final RouterConfig routing;
  private final TextTokenizer tokenizer;
  private final int tokenizerThreads;
  private final boolean detokenize;
  private final Dialect engineDialect;
  private final boolean engineCoreV0190;
  private final CoordinatorMetrics metrics;
  private final Path scheduleOut;
  private final DoubleSupplier unixSeconds;
  private final AccessRules access;
  private final Limits limits;
  private final Duration heartbeatInterval;
  private final Duration heartbeatTimeout;
  private final Duration requestTimeout;

  private CoordinatorConfig(Builder b) {
    this.bindAddress = b.bindAddress;
    this.port = b.port;
    this.expectedEngines = b.expectedEngines;
    this.routing = b.routing;
    this.tokenizer = b.tokenizer;
    this.tokenizerThreads = b.tokenizerThreads;
    this.detokenize = b.detokenize;
    this.engineDialect = b.engineDialect;
    this.engineCoreV0190 = b.engineCoreV0190;
    this.metrics = b.metrics;
    this.scheduleOut = b.scheduleOut;
    this.unixSeconds = b.unixSeconds;
    this.access = b.access;
    this.limits = b.limits;
    this.heartbeatInterval = b.heartbeatInterval;
    this.heartbeatTimeout = b.heartbeatTimeout;
    this.requestTimeout = b.requestTimeout;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The address the ROUTER socket binds to (default 127.0.0.1). */
  public String bindAddress() {
    return bindAddress;
  }

  /** The TCP port; 0 picks a free one. */
  public int port() {
    return port;
  }

  /** Engines to wait for before the start-up rank order is fixed (0: none). */
  public int expectedEngines() {
    return expectedEngines;
  }

  public RouterConfig routing() {
    return routing;
  }

  /**
   * The engines' tokenizer: text prompts are tokenized with it for routing and finished records get
   * their {@code generated_text} from it; null when there is none (text prompts are then routed by
   * load only, records forwarded as they are).
   */
  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  /**
   * Whether terminal records get their {@code generated_text} from the tokenizer (default true;
   * false forwards them untouched, for a front end that detokenizes itself).
   */
  public boolean detokenize() {
    return detokenize;
  }

  /**
   * The wire dialect of the engines (all speak the same release); clients' dialects are detected
   * from their CONNECT. Routing follows the engines' release ({@link RouterConfig#release()}).
   */
  public Dialect engineDialect() {
    return engineDialect;
  }

  /**
   * The engines run Megatron core_v0.19.0: main's header numbering ({@link Dialect#V0_19}), but its
   * engine unpacks a SUBMIT as exactly three fields after the header and has no aborts, KV handoff
   * or multimodal data. They then get the 4-element SUBMIT (main's coordinator always adds a fifth,
   * nil when there is no multimodal data, which ends such an engine); requests they cannot take are
   * answered FAILED, and aborts are not sent.
   */
  public boolean engineCoreV0190() {
    return engineCoreV0190;
  }

  /** Threads that tokenize and detokenize off the event loop; 0 does it on the loop thread. */
  public int tokenizerThreads() {
    return tokenizerThreads;
  }

  /** The Megatron release whose routing rule goes with engines speaking {@code dialect}. */
  public static MegatronRelease releaseOf(Dialect dialect) {
    // core_v0.16's round robin is 0.18's (registration order, engines that never leave)
    return dialect.isMain() ? MegatronRelease.V0_19 : MegatronRelease.V0_18;
  }

  /** The default for {@link Builder#tokenizerThreads}: half the cores, 2 to 8. */
  public static int defaultTokenizerThreads() {
    return Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors() / 2));
  }

  public CoordinatorMetrics metrics() {
    return metrics;
  }

  /** Where to write the routing schedule (Megatron's schedule output), or null. */
  public Path scheduleOut() {
    return scheduleOut;
  }

  /** The wall clock stamped on the FAILED records the coordinator writes. */
  public DoubleSupplier unixSeconds() {
    return unixSeconds;
  }

  /** Who may connect, and in which role (docs/SECURITY.md). */
  public AccessRules access() {
    return access;
  }

  /** What one peer, or all of them, may make the coordinator hold. */
  public Limits limits() {
    return limits;
  }

  /** Whether {@code address} (a literal, or {@code *}) is a loopback address. */
  public static boolean isLoopback(String address) {
    try {
      return Cidr.address(address).isLoopbackAddress();
    } catch (IllegalArgumentException e) {
      return false; // "*", a name: not loopback for sure
    }
  }

  /**
   * How often the ROUTER sends a ZMTP heartbeat (PING) to each peer; zero sends none (default 30
   * s).
   */
  public Duration heartbeatInterval() {
    return heartbeatInterval;
  }

  /**
   * How long a peer may stay silent after a PING before its connection is closed, which removes an
   * engine (its pending requests are answered FAILED) or forgets a client (default 25 s; shorter
   * than the interval).
   */
  public Duration heartbeatTimeout() {
    return heartbeatTimeout;
  }

  /**
   * How long after its arrival a request may wait for its terminal reply before the coordinator
   * answers it FAILED and aborts it on its engine; zero waits for ever (the default).
   */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /** Builder with the defaults of {@code ./coordinator serve}. */
  public static final class Builder {
    private String bindAddress = "127.0.0.1";
    private int port = 0;
    private int expectedEngines = 0;
    private RouterConfig routing = RouterConfig.builder().build();
    private TextTokenizer tokenizer;
    private int tokenizerThreads = defaultTokenizerThreads();
    private boolean detokenize = true;
    private Dialect engineDialect = Dialect.V0_19;
    private boolean engineCoreV0190;
    private CoordinatorMetrics metrics = CoordinatorMetrics.noop();
    private Path scheduleOut;
    private DoubleSupplier unixSeconds = () -> System.currentTimeMillis() / 1000.0;
    private AccessRules access;
    private Limits limits = Limits.DEFAULT;
    private Duration heartbeatInterval = Duration.ofSeconds(30);
    private Duration heartbeatTimeout = Duration.ofSeconds(25);
    private Duration requestTimeout = Duration.ZERO;

    private Builder() {}

    public Builder limits(Limits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * Who may connect; by default loopback peers only, which needs a loopback {@link #bindAddress}.
     */
    public Builder access(AccessRules access) {
      this.access = Objects.requireNonNull(access, "access");
      return this;
    }

    public Builder bindAddress(String address) {
      this.bindAddress = Objects.requireNonNull(address, "bindAddress");
      return this;
    }

    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be in 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    public Builder expectedEngines(int engines) {
      if (engines < 0) {
        throw new IllegalArgumentException("expected engines must be >= 0, got " + engines);
      }
      this.expectedEngines = engines;
      return this;
    }

    public Builder routing(RouterConfig routing) {
      this.routing = Objects.requireNonNull(routing, "routing");
      return this;
    }

    /** The engines' tokenizer, or null for none (the default). */
    public Builder tokenizer(TextTokenizer tokenizer) {
      this.tokenizer = tokenizer;
      return this;
    }

    public Builder engineDialect(Dialect dialect) {
      this.engineDialect = Objects.requireNonNull(dialect, "engineDialect");
      return this;
    }

    /** See {@link CoordinatorConfig#engineCoreV0190()}; needs the 0.19 engine dialect. */
    public Builder engineCoreV0190(boolean coreV0190) {
      this.engineCoreV0190 = coreV0190;
      return this;
    }

    public Builder detokenize(boolean detokenize) {
      this.detokenize = detokenize;
      return this;
    }

    public Builder tokenizerThreads(int threads) {
      if (threads < 0 || threads > 256) {
        throw new IllegalArgumentException("tokenizer threads must be in 0..256, got " + threads);
      }
      this.tokenizerThreads = threads;
      return this;
    }

    public Builder metrics(CoordinatorMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    public Builder scheduleOut(Path path) {
      this.scheduleOut = path;
      return this;
    }

    public Builder unixSeconds(DoubleSupplier clock) {
      this.unixSeconds = Objects.requireNonNull(clock, "unixSeconds");
      return this;
    }

    /**
     * ZMTP heartbeats on the ROUTER: a PING to each peer every {@code interval} (zero: none), and a
     * peer that sends nothing for {@code timeout} after a PING is disconnected, so a peer that
     * hangs is gone at most {@code interval + timeout} after it stopped.
     *
     * <p>The timeout must be shorter than the interval: jeromq 0.6.0 loses a heartbeat timeout that
     * is set while the previous one, answered and cancelled, has not yet expired (its timer map
     * keeps the cancelled entry and drops the new one), and then never disconnects a peer that
     * stops answering. A timeout shorter than the interval has expired, and left the map, before
     * the next PING sets one (docs/design/server.md).
     *
     * @throws IllegalArgumentException unless {@code interval} is zero or whole milliseconds longer
     *     than {@code timeout}, at most a day, and {@code timeout} is at least a millisecond
     */
    public Builder heartbeat(Duration interval, Duration timeout) {
      requireMillis(interval, "heartbeat interval");
      requireMillis(timeout, "heartbeat timeout");
      if (!interval.isZero() && (timeout.isZero() || timeout.compareTo(interval) >= 0)) {
        throw new IllegalArgumentException(
            "heartbeat timeout must be at least 1 ms and shorter than the interval, got "
                + timeout.toMillis()
                + " ms for an interval of "
                + interval.toMillis()
                + " ms");
      }
      this.heartbeatInterval = interval;
      this.heartbeatTimeout = timeout;
      return this;
    }

    /**
     * Answers a request FAILED when no terminal reply came {@code timeout} after its arrival; zero
     * turns it off.
     *
     * @throws IllegalArgumentException unless {@code timeout} is zero or whole milliseconds, at
     *     most a day
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = requireMillis(timeout, "request timeout");
      return this;
    }

    private static Duration requireMillis(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.compareTo(Duration.ofDays(1)) > 0 || d.toNanos() % 1_000_000 != 0) {
        throw new IllegalArgumentException(
            what + " must be 0 or whole milliseconds up to a day, got " + d);
      }
      return d;
    }

    /**
     * The configuration; its routing follows the engines' release ({@link #engineDialect}).
     *
     * @throws IllegalArgumentException if the routing policy is not one of that release's, or the
     *     socket binds to a non-loopback address and no {@link #access} rules were given
     */
    public CoordinatorConfig build() {
      if (access == null) {
        if (!isLoopback(bindAddress)) {
          throw new IllegalArgumentException(
              "bound to "
                  + bindAddress
                  + ", which is not a loopback address: say who may connect (--allow-engines and"
                  + " --allow-clients, or --allow-any)");
        }
        access =
            AccessRules.loopbackOnly()
                .withEngineIdentityPattern(AccessRules.engineIdentityOf(engineDialect));
      }
      if (engineCoreV0190 && engineDialect != Dialect.V0_19) {
        throw new IllegalArgumentException("core_v0.19.0 engines speak the 0.19 dialect");
      }
      MegatronRelease release = releaseOf(engineDialect);
      if (routing.release() != release) {
        routing = routing.toBuilder().release(release).build();
      }
      return new CoordinatorConfig(this);
    }
  }
}
