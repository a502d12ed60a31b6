package io.dpcoord.cli;

import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.sim.replay.TraceException;
import io.dpcoord.sim.replay.TraceReplay;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code route-replay}: the routing module driven by a JSON Lines trace on stdin, one decision per
 * submit on stdout (docs/spec/ROUTING.md, "Trace replay").
 *
 * <p>Exit status 0 when the whole trace replayed, 2 for a bad flag or a bad trace line ({@code line
 * N: <reason>} on stderr, the decisions before it already on stdout), 1 for an I/O error.
 */
@Command(
    name = "route-replay",
    mixinStandardHelpOptions = true,
    description = {
      "Replays a routing trace (JSON Lines on stdin) and writes one decision per submit to stdout.",
      "",
      "In:  {\"op\":\"submit\",\"id\":7,\"tokens\":[1,2,3]}   {\"op\":\"complete\",\"id\":7}",
      "     {\"op\":\"submit\",\"id\":8,\"text\":\"a text prompt\"}   (needs --tokenizer)",
      "     {\"op\":\"remove\",\"rank\":3}   {\"op\":\"add\",\"rank\":8}",
      "     {\"op\":\"epoch\",\"value\":2}   {\"op\":\"advance\",\"ms\":500}",
      "Out: {\"id\":7,\"rank\":2,\"match\":3,\"hit\":true,\"stale\":false}",
      "",
      "rank is the engine's original index; match is the chosen engine's match in blocks.",
      "add of a new label: a late engine; of an active label: a restart; of a",
      "removed label: a return. --megatron 0.19: a return is a new engine ranked",
      "last, a restart a cold engine in its place. --megatron 0.18: a returning",
      "engine has its rank, pending count and cache entries back; a restart",
      "changes nothing.",
      "Without --ttl-ms, epoch ops or a full index the decisions are Megatron's",
      "exactly; with 0.18, except where 0.18 fails choosing a removed engine:",
      "there the best active engine gets the request.",
      ""
    })
public final class RouteReplayCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin TokenizerOption tokenizer;

  @Option(
      names = "--megatron",
      paramLabel = "RELEASE",
      converter = ReleaseName.class,
      defaultValue = "0.19",
      description =
          "Whose routing rule: 0.19 (the current one) or 0.18 (core_v0.18.2: round-robin"
              + " fallback, removed engines kept for their return) (default: ${DEFAULT-VALUE}).")
  MegatronRelease release;

  @Option(
      names = "--policy",
      paramLabel = "POLICY",
      converter = PolicyName.class,
      defaultValue = "longest_prefix",
      description =
          "longest_prefix, first_prefix_block, load_balanced (0.19 only) or round_robin (0.18"
              + " only) (default: ${DEFAULT-VALUE}).")
  Policy policy;

  @Option(
      names = "--alpha",
      paramLabel = "A",
      defaultValue = "0.5",
      description =
          "Weight of the prefix match against free capacity, in [0, 1] (default: ${DEFAULT-VALUE}).")
  double alpha;

  @Option(
      names = "--max-requests",
      paramLabel = "N",
      defaultValue = "16",
      description = "Pending requests that count as a full engine (default: ${DEFAULT-VALUE}).")
  int maxRequests;

  @Option(
      names = "--ranks",
      paramLabel = "N",
      defaultValue = "8",
      description = "Start-up engines, labelled 0..N-1 (default: ${DEFAULT-VALUE}).")
  int ranks;

  @Option(
      names = "--block-size",
      paramLabel = "TOKENS",
      defaultValue = "16",
      description = "Tokens per hashed block (default: ${DEFAULT-VALUE}).")
  int blockSize;

  @Option(
      names = "--ttl-ms",
      paramLabel = "MS",
      description =
          "Index entries older than this (virtual time, moved by advance) are stale; 0 or absent: no TTL.")
  Long ttlMs;

  @Option(
      names = "--index-capacity",
      paramLabel = "HASHES",
      description =
          "Most block hashes tracked before the least recently assigned is evicted (default: 1048576).")
  Integer indexCapacity;

  /** Where the trace comes from; stdin unless a test says otherwise. */
  InputStream in = System.in;

  /** Where the decisions go; stdout unless a test says otherwise. */
  OutputStream out = System.out;

  @Override
  public Integer call() {
    TraceReplay replay = new TraceReplay(config(), ranks, tokenizer.load());
    try {
      replay.run(in, out);
      return 0;
    } catch (TraceException e) {
      spec.commandLine().getErr().println(e.getMessage());
      return Launcher.USAGE;
    } catch (IOException e) {
      spec.commandLine().getErr().println("route-replay: I/O error: " + e.getMessage());
      return 1;
    }
  }

  private RouterConfig config() {
    check(alpha >= 0.0 && alpha <= 1.0, "--alpha must be in [0, 1], got " + alpha);
    check(maxRequests > 0, "--max-requests must be positive, got " + maxRequests);
    check(ranks > 0, "--ranks must be positive, got " + ranks);
    check(blockSize > 0, "--block-size must be positive, got " + blockSize);
    check(ttlMs == null || ttlMs >= 0, "--ttl-ms must be 0 (off) or positive, got " + ttlMs);
    check(
        indexCapacity == null
            || (indexCapacity > 0 && indexCapacity <= RouterConfig.MAX_INDEX_CAPACITY),
        "--index-capacity must be in [1, "
            + RouterConfig.MAX_INDEX_CAPACITY
            + "], got "
            + indexCapacity);
    check(
        release.offers(policy),
        "--policy "
            + policy.cliName()
            + " is not a policy of --megatron "
            + release.cliName()
            + " (choices: "
            + release.policyNames()
            + ")");
    RouterConfig.Builder b =
        RouterConfig.builder()
            .release(release)
            .policy(policy)
            .alpha(alpha)
            .maxRequests(maxRequests)
            .blockSize(blockSize);
    if (ttlMs != null) {
      try {
        b.ttl(Duration.ofMillis(ttlMs));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--ttl-ms " + ttlMs + " is too long");
      }
    }
    if (indexCapacity != null) {
      b.indexCapacity(indexCapacity);
    }
    return b.build();
  }

  private void check(boolean ok, String message) {
    if (!ok) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }

  /** A converter by a {@code parse} method whose error names the value and the choices. */
  abstract static class Parsing<T> implements CommandLine.ITypeConverter<T> {
    private final Function<String, T> parse;

    Parsing(Function<String, T> parse) {
      this.parse = parse;
    }

    @Override
    public T convert(String value) {
      try {
        return parse.apply(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** Converts {@code --megatron} values. */
  static final class ReleaseName extends Parsing<MegatronRelease> {
    ReleaseName() {
      super(MegatronRelease::parse);
    }
  }

  /** Converts {@code --policy} values. */
  static final class PolicyName extends Parsing<Policy> {
    PolicyName() {
      super(Policy::parse);
    }
  }
}
