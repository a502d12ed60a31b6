package io.dpcoord.server;

/**
 * What one peer, or all of them, may make the coordinator hold (docs/SECURITY.md, "Admission and
 * resource limits"). A request over a limit is answered FAILED at once, naming the limit.
 *
 * @param maxPending requests pending at once, all clients together
 * @param maxPendingPerClient requests pending at once for one client
 * @param maxClients clients connected at once; a CONNECT beyond is not answered
 * @param maxQueuedMessages messages queued for one peer that it has not read (ZMQ_SNDHWM): a client
 *     that falls this far behind is released (its requests aborted); an engine's excess waits in
 *     the coordinator, bounded by {@code maxPending}
 * @param maxMessageBytes the largest message accepted (ZMQ_MAXMSGSIZE): a peer that sends a larger
 *     one is disconnected by ZMQ
 * @param maxPromptTokens the most tokens a token prompt may have
 * @param maxConnections connections open at once, all peers together: a handshake beyond is refused
 *     (the connection closes before any message)
 * @param maxConnectionsPerAddress connections open at once from one IP address
 */
public record Limits(
    int maxPending,
    int maxPendingPerClient,
    int maxClients,
    int maxQueuedMessages,
    long maxMessageBytes,
    int maxPromptTokens,
    int maxConnections,
    int maxConnectionsPerAddress) {

  /** The defaults of {@code serve}. */
  public static final Limits DEFAULT =
      new Limits(100_000, 100_000, 1_024, 10_000, 64L << 20, 1 << 20, 4_096, 256);

  /** Checks every limit is positive. */
  public Limits {
    positive(maxPending, "--max-pending");
    positive(maxPendingPerClient, "--max-pending-per-client");
    positive(maxClients, "--max-clients");
    positive(maxQueuedMessages, "--max-queued-messages");
    positive(maxMessageBytes, "--max-message-bytes");
    positive(maxPromptTokens, "--max-prompt-tokens");
    positive(maxConnections, "--max-connections");
    positive(maxConnectionsPerAddress, "--max-connections-per-address");
  }

  private static void positive(long value, String option) {
    if (value <= 0) {
      throw new IllegalArgumentException(option + " must be > 0, got " + value);
    }
  }
}
