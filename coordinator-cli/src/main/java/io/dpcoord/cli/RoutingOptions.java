package io.dpcoord.cli;

import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The routing flags shared by the commands that route ({@code serve}, {@code demo}). */
final class RoutingOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(
      names = "--policy",
      paramLabel = "POLICY",
      converter = PolicyConverter.class,
      description =
          "Routing policy. Megatron's, decision for decision: longest_prefix,"
              + " first_prefix_block, load_balanced (engines of 0.19) or round_robin (engines of"
              + " 0.18). Beyond Megatron (0.19 engines; docs/ROUTING-QUALITY.md compares them):"
              + " relative_load, sglang, dynamo, llm_d, least_work. Recommended under load:"
              + " least_work with --feedback. Default: ${DEFAULT-VALUE}, Megatron's own, so that"
              + " decisions stay Megatron's (round_robin with --engine-wire 0.16, the only routing"
              + " of that release).",
      defaultValue = "longest_prefix")
  Policy policy;

  @Option(
      names = "--alpha",
      paramLabel = "A",
      description =
          "Weight of prefix affinity against free capacity, in [0, 1] (default: ${DEFAULT-VALUE}).",
      defaultValue = "0.5")
  double alpha;

  @Option(
      names = "--max-requests",
      paramLabel = "N",
      description = "Requests per engine counted as full capacity (default: ${DEFAULT-VALUE}).",
      defaultValue = "16")
  int maxRequests;

  @Option(
      names = "--block-size",
      paramLabel = "TOKENS",
      description = "Tokens per KV-cache block (default: ${DEFAULT-VALUE}).",
      defaultValue = "16")
  int blockSize;

  @Option(
      names = "--prefix-caching",
      negatable = true,
      fallbackValue = "true",
      description =
          "Route on prefix-cache affinity; --no-prefix-caching routes on load only"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "true")
  boolean prefixCaching;

  @Option(
      names = "--ttl",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Forget index entries older than this, e.g. 300s or 5m; 0 keeps them"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "0")
  Duration ttl;

  @Option(
      names = "--index-capacity",
      paramLabel = "HASHES",
      description =
          "Most block hashes the routing index tracks; the least recently assigned are evicted"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "1048576")
  int indexCapacity;

  @Option(
      names = "--index-preallocate",
      negatable = true,
      fallbackValue = "true",
      description =
          "Allocate the routing index's arrays for its whole --index-capacity at start, on a"
              + " helper thread (about 105 MB of heap at the default capacity, 145 MB under the"
              + " policies beyond Megatron's), so"
              + " that memory is at its bound from the start and filling the index costs no fresh"
              + " memory later; --no-index-preallocate doubles them as the index fills"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "true")
  boolean indexPreallocate;

  @Option(
      names = "--feedback",
      negatable = true,
      fallbackValue = "true",
      description =
          "Engine feedback: when a finished request's num_cached_tokens shows that its engine"
              + " served fewer prompt blocks from its cache than routing predicted, the index"
              + " stops counting on that engine's older entries, and on any engine's entries as"
              + " old as the missing block, until an engine serves a block that old; --no-feedback"
              + " keeps them, as Megatron (default: ${DEFAULT-VALUE}).",
      defaultValue = "false")
  boolean feedback;

  @Option(
      names = "--prefill-rate",
      paramLabel = "TOKENS_PER_S",
      description =
          "least_work only: the engines' prefill rate in tokens per second, at which it drains"
              + " the prefill work it sent each engine; measure your engines' and set it"
              + " (default: ${DEFAULT-VALUE}, the simulator's default engine).",
      defaultValue = "25000")
  double prefillRate;

  /**
   * The routing configuration under {@code release}'s rule, or a usage error naming the bad flag;
   * {@code whose} says where the release came from, for the error (e.g. {@code --engine-wire
   * 0.18}).
   */
  RouterConfig toConfig(MegatronRelease release, String whose) {
    return toConfig(release, whose, Policy.LONGEST_PREFIX);
  }

  /**
   * The same, with {@code parity} as the policy when {@code --policy} is not given (round_robin for
   * engines of Megatron core_v0.16, whose coordinator routes round robin only).
   */
  RouterConfig toConfig(MegatronRelease release, String whose, Policy parity) {
    var parsed = mixee.commandLine().getParseResult();
    boolean policyGiven = parsed.hasMatchedOption("--policy");
    Policy policy = policyGiven ? this.policy : parity;
    if (!prefixCaching && policyGiven && policy.usesPrefix()) {
      throw usage(
          "--no-prefix-caching contradicts --policy "
              + policy.cliName()
              + " (prefix routing needs prefix caching)");
    }
    if (!policy.usesPrefix() && parsed.hasMatchedOption("--alpha")) {
      throw usage("--alpha has no effect with --policy " + policy.cliName());
    }
    if (!release.offers(policy)) {
      throw usage(
          "--policy "
              + policy.cliName()
              + " is not a policy of "
              + whose
              + " (its policies: "
              + release.policyNames()
              + ")");
    }
    if (feedback) {
      checkFeedback(release, whose);
    }
    if (policy != Policy.LEAST_WORK && parsed.hasMatchedOption("--prefill-rate")) {
      throw usage("--prefill-rate has no effect with --policy " + policy.cliName());
    }
    try {
      return RouterConfig.builder()
          .release(release)
          .policy(policy)
          .alpha(alpha)
          .maxRequests(maxRequests)
          .blockSize(blockSize)
          .prefixCaching(prefixCaching)
          .ttl(ttl)
          .indexCapacity(indexCapacity)
          .preallocateIndex(indexPreallocate)
          .feedback(feedback)
          .prefillTokensPerSecond(prefillRate)
          .build();
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  /** Refuses --feedback where it can change nothing: no prefix routing, no num_cached_tokens. */
  private void checkFeedback(MegatronRelease release, String whose) {
    if (!prefixCaching) {
      throw usage("--feedback has no effect with --no-prefix-caching");
    }
    if (!policy.usesPrefix()) {
      throw usage("--feedback has no effect with --policy " + policy.cliName());
    }
    if (release == MegatronRelease.V0_18) {
      throw usage(
          "--feedback has no effect with " + whose + ": its records carry no num_cached_tokens");
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(mixee.commandLine(), message);
  }
}
