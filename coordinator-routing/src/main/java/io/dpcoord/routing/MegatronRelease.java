package io.dpcoord.routing;

import java.util.List;
import java.util.StringJoiner;

/**
 * Whose routing rule the router follows: Megatron-LM core_v0.18.2's (also core_v0.17.1's) or the
 * current one's. The score, the tie-breaks and the block hashes are the same in both; they differ
 * in the fallback, in the rank indexes and in what removing and re-registering an engine does (see
 * docs/design/routing.md, "Megatron 0.18 routing").
 */
public enum MegatronRelease {
  /**
   * core_v0.18.2: a round-robin fallback over the engines in registration order; rank indexes that
   * never change; a removed engine's pending count and index entries kept, and taken up again if it
   * comes back. Policies: longest_prefix, first_prefix_block, round_robin.
   */
  V0_18("0.18", Policy.LONGEST_PREFIX, Policy.FIRST_PREFIX_BLOCK, Policy.ROUND_ROBIN),
  /**
   * The current rule (the default): a least-loaded fallback; a removed engine forgotten, the ranks
   * above it renumbered. Policies: longest_prefix, first_prefix_block, load_balanced.
   */
  V0_19("0.19", Policy.LONGEST_PREFIX, Policy.FIRST_PREFIX_BLOCK, Policy.LOAD_BALANCED);

  private final String cliName;
  private final List<Policy> policies;

  MegatronRelease(String cliName, Policy... policies) {
    this.cliName = cliName;
    this.policies = List.of(policies);
  }

  /** The release's name on a command line: {@code 0.18} or {@code 0.19}. */
  public String cliName() {
    return cliName;
  }

  /**
   * Whether {@code policy} can be used with this release's rule: one of its own policies, or (with
   * 0.19) a policy beyond Megatron's.
   */
  public boolean offers(Policy policy) {
    return policies.contains(policy) || (this == V0_19 && !policy.isMegatron());
  }

  /**
   * The policies {@link #offers} accepts, by command-line name, e.g. {@code longest_prefix, ...}.
   */
  public String policyNames() {
    StringJoiner names = new StringJoiner(", ");
    for (Policy p : Policy.inListingOrder()) {
      if (offers(p)) {
        names.add(p.cliName());
      }
    }
    return names.toString();
  }

  /**
   * Parses a release name, {@code 0.18} or {@code 0.19}.
   *
   * @throws IllegalArgumentException naming the bad value and the choices
   */
  public static MegatronRelease parse(String s) {
    if (s != null) {
      String name = s.trim();
      for (MegatronRelease r : values()) {
        if (r.cliName.equals(name)) {
          return r;
        }
      }
    }
    throw new IllegalArgumentException(
        "unknown Megatron release '" + s + "' (choices: 0.18, 0.19)");
  }
}
