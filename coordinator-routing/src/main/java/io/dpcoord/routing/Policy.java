package io.dpcoord.routing;

import java.util.Locale;

/** How the router weighs prefix-cache affinity when it picks an engine. */
public enum Policy {
  /** The engine with the fewest pending requests; ties go to the lowest rank index. */
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
            + "' (choices: longest_prefix, first_prefix_block, load_balanced)");
  }
}
