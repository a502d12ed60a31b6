package io.dpcoord.sim.simulate;

/**
 * How a modelled engine's prefix cache chooses the block to evict when it is full.
 *
 * <p>Both evict the least recently used block; they differ in the order a request touches its
 * blocks. {@link #LRU} touches them in prompt order, so a prompt's first block is its least recent
 * and goes first, leaving the rest of the prompt cached but unusable (a block is usable only after
 * every block before it). {@link #LINEAGE} touches them deepest first, so a block is always more
 * recent than every cached block that extends it: the least recent block is then always a leaf, and
 * evicting it is exactly leaf-first LRU, as vLLM's free-block queue (tail blocks first) and
 * SGLang's radix cache (least recently used leaf) evict.
 */
public enum Eviction {
  LRU("lru"),
  LINEAGE("lineage");

  private final String cliName;

  Eviction(String cliName) {
    this.cliName = cliName;
  }

  public String cliName() {
    return cliName;
  }

  /**
   * Parses {@code lru} or {@code lineage}.
   *
   * @throws IllegalArgumentException naming the value and the choices
   */
  public static Eviction parse(String s) {
    for (Eviction e : values()) {
      if (e.cliName.equals(s == null ? null : s.trim())) {
        return e;
      }
    }
    throw new IllegalArgumentException("unknown eviction '" + s + "' (choices: lru, lineage)");
  }
}
