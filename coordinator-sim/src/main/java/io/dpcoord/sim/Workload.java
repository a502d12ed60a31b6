package io.dpcoord.sim;

import java.util.SplittableRandom;

/**
 * The load generator's prompts: {@code K} shared system prompts of {@code S} tokens, each request
 * one of them (chosen at random) followed by a unique random suffix of {@code U} tokens.
 *
 * <p>Seeded: the same arguments give the same sequence of prompts. Token ids are in [1, {@value
 * #VOCABULARY}). Not thread-safe.
 */
public final class Workload {
  /** Token ids are below this. */
  public static final int VOCABULARY = 32_000;

  private final long[][] systemPrompts;
  private final int suffixTokens;
  private final SplittableRandom random;

  /**
   * A workload of {@code systemPrompts} shared prompts of {@code systemTokens} tokens and suffixes
   * of {@code suffixTokens} tokens.
   *
   * @throws IllegalArgumentException if a count is negative, there is no system prompt, or a prompt
   *     would be empty
   */
  public Workload(int systemPrompts, int systemTokens, int suffixTokens, long seed) {
    if (systemPrompts < 1) {
      throw new IllegalArgumentException("system prompts must be >= 1, got " + systemPrompts);
    }
    if (systemTokens < 0 || suffixTokens < 0) {
      throw new IllegalArgumentException(
          "token counts must be >= 0, got system " + systemTokens + " and suffix " + suffixTokens);
    }
    if ((long) systemTokens + suffixTokens < 1) {
      throw new IllegalArgumentException("a prompt needs at least one token");
    }
    if ((long) systemTokens + suffixTokens > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "prompts of " + ((long) systemTokens + suffixTokens) + " tokens are too long");
    }
    this.random = new SplittableRandom(seed);
    this.suffixTokens = suffixTokens;
    this.systemPrompts = new long[systemPrompts][];
    for (int i = 0; i < systemPrompts; i++) {
      this.systemPrompts[i] = tokens(systemTokens);
    }
  }

  /** The next prompt: a random system prompt followed by a fresh random suffix. */
  public long[] next() {
    long[] system = systemPrompts[random.nextInt(systemPrompts.length)];
    long[] prompt = new long[system.length + suffixTokens];
    System.arraycopy(system, 0, prompt, 0, system.length);
    for (int i = system.length; i < prompt.length; i++) {
      prompt[i] = 1 + random.nextInt(VOCABULARY - 1);
    }
    return prompt;
  }

  /** The shared system prompts' count. */
  public int systemPrompts() {
    return systemPrompts.length;
  }

  private long[] tokens(int n) {
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = 1 + random.nextInt(VOCABULARY - 1);
    }
    return out;
  }
}
