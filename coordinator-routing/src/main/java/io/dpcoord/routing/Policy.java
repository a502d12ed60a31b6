package io.dpcoord.routing;

import java.util.Locale;

/** How the router weighs prefix-cache affinity when it picks an engine. */
public enum Policy {
  /** The engine with the fewest pending requests; ties go to the lowest rank index. */
  LOAD_BALANCED("load_balanced"),
  /** Prefix routing on the first block hash only. */
  FIRST_PREFIX_BLOCK("first_prefix_block"),
  /** Prefix routing on all block hashes. */
  LONGEST_PREFIX("longest_prefix");

  private final String cliName;

  Policy(String cliName) {
    this.cliName = cliName;
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
