package io.dpcoord.sim.simulate;

/**
 * One request of a simulated workload.
 *
 * @param arrivalNanos when it reaches the coordinator, in virtual nanoseconds from the start
 * @param inputTokens prompt length in tokens
 * @param outputTokens tokens to generate (at least 1)
 * @param blocks the hashes of the prompt's complete blocks of {@link Workload#blockSize()} tokens,
 *     prefix-aware (equal hashes at position i mean equal prompts up to the end of block i); the
 *     partial last block, if any, is not listed (engines cache only full blocks)
 */
public record SimRequest(long arrivalNanos, int inputTokens, int outputTokens, long[] blocks) {
  public SimRequest {
    if (arrivalNanos < 0 || inputTokens < 1 || outputTokens < 1 || blocks == null) {
      throw new IllegalArgumentException(
          "bad request: arrival "
              + arrivalNanos
              + ", input "
              + inputTokens
              + ", output "
              + outputTokens);
    }
  }
}
