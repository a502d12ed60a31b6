package io.dpcoord.routing;

import java.util.Locale;

/** How the router weighs prefix-cache affinity when it picks an engine. */
public enum Policy {
  /**
   * The engine with the fewest pending requests; ties go to the lowest rank index. A policy of
   * {@link MegatronRelease#V0_19} only.
   */
  LOAD_BALANCED("load_balanced") {
    @Override
    public int hashesUsed(int blocks) {
      return 0;
    }
  },
  /** Prefix routing on the first block hash only. */
  FIRST_PREFIX_BLOCK("first_prefix_block") {
    @Override
    public int hashesUsed(int blocks) {
      return Math.min(1, blocks);
    }
  },
  /** Prefix routing on all block hashes. */
  LONGEST_PREFIX("longest_prefix") {
    @Override
    public int hashesUsed(int blocks) {
      return blocks;
    }
  },
  /**
   * Megatron 0.18's round-robin over the engines in registration order, whatever the prompt; a
   * policy of {@link MegatronRelease#V0_18} only. With prefix caching on, a commit still records
   * all the request's block hashes, as 0.18 does (it never reads them under this policy).
   */
  ROUND_ROBIN("round_robin") {
    @Override
    public int hashesUsed(int blocks) {
      return 0;
    }

    @Override
    public int hashesRecorded(int blocks) {
      return blocks;
    }
  };

  private final String cliName;

  Policy(String cliName) {
    this.cliName = cliName;
  }

  /**
   * How many of a request's leading block hashes this policy routes on, given that the request has
   * {@code blocks} complete blocks: all of them, the first one, or none (routing by load only).
   */
  public abstract int hashesUsed(int blocks);

  /**
   * How many of a request's leading block hashes a commit records when prefix caching is on, given
   * that the request has {@code blocks} complete blocks: the ones the decision is made on, except
   * under {@link #ROUND_ROBIN}, which records all of them and routes on none.
   */
  public int hashesRecorded(int blocks) {
    return hashesUsed(blocks);
  }

  /** Whether the policy routes on prefixes at all (false: by load only). */
  public boolean usesPrefix() {
    return hashesUsed(1) > 0;
  }

  /** The policy's name on a command line, e.g. {@code longest_prefix}. */
  public String cliName() {
    return cliName;
  }

  /**
   * Parses a policy name such as {@code longest_prefix} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the bad value and the choices
   */
  public static Policy parse(String s) {
    if (s != null) {
      String name = s.trim().toLowerCase(Locale.ROOT);
      for (Policy p : values()) {
        if (p.cliName.equals(name)) {
          return p;
        }
      }
    }
    throw new IllegalArgumentException(
        "unknown routing policy '"
            + s
            + "' (choices: longest_prefix, first_prefix_block, load_balanced, round_robin)");
  }
}
