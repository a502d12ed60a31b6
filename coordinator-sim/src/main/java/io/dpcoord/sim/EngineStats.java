package io.dpcoord.sim;

/**
 * A snapshot of a {@link SimulatedEngine}'s counters.
 *
 * @param accepted requests taken in (SUBMIT_REQUEST and SUBMIT_REQUEST_WITH_KV)
 * @param served requests answered COMPLETED
 * @param aborted requests answered FAILED because of an ABORT_REQUEST
 * @param cachedBlocksHit prompt blocks found in the prefix cache
 * @param blocksLookedUp prompt blocks looked up in the prefix cache
 * @param partialsSent ENGINE_REPLY_PARTIAL records sent
 * @param invalidFrames frames dropped: malformed, unknown or unexpected header, bad fields
 * @param sendFailures replies that could not be queued on the socket
 * @param inProgress requests accepted and not yet answered
 */
public record EngineStats(
    long accepted,
    long served,
    long aborted,
    long cachedBlocksHit,
    long blocksLookedUp,
    long partialsSent,
    long invalidFrames,
    long sendFailures,
    long inProgress) {

  /** The fraction of looked-up blocks that were cached, 0 when none were looked up. */
  public double cacheHitRate() {
    return blocksLookedUp == 0 ? 0.0 : (double) cachedBlocksHit / blocksLookedUp;
  }
}
