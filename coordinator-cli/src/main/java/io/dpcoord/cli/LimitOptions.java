package io.dpcoord.cli;

import io.dpcoord.server.Limits;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** serve's admission and resource limits (docs/SECURITY.md, "Admission and resource limits"). */
final class LimitOptions {
  private static final Limits D = Limits.DEFAULT;

  @Option(
      names = "--max-pending",
      paramLabel = "N",
      description =
          "Requests pending at once, all clients together; a request over it is answered FAILED"
              + " at once, naming the limit (default: ${DEFAULT-VALUE}).")
  int maxPending = D.maxPending();

  @Option(
      names = "--max-pending-per-client",
      paramLabel = "N",
      description = "Requests pending at once for one client (default: ${DEFAULT-VALUE}).")
  int maxPendingPerClient = D.maxPendingPerClient();

  @Option(
      names = "--max-clients",
      paramLabel = "N",
      description =
          "Clients connected at once; a CONNECT beyond it is not answered (default: ${DEFAULT-VALUE}).")
  int maxClients = D.maxClients();

  @Option(
      names = "--max-queued-messages",
      paramLabel = "N",
      description =
          "Messages waiting for one peer to read them; a client that falls this far behind is"
              + " released and its requests aborted (default: ${DEFAULT-VALUE}).")
  int maxQueuedMessages = D.maxQueuedMessages();

  @Option(
      names = "--max-message-bytes",
      paramLabel = "SIZE",
      converter = SizeConverter.class,
      description =
          "The largest message accepted, e.g. 64m; ZMQ disconnects a peer that sends a larger"
              + " one (default: 64m).")
  long maxMessageBytes = D.maxMessageBytes();

  @Option(
      names = "--max-prompt-tokens",
      paramLabel = "N",
      description =
          "The most tokens a token prompt may have; a longer one is answered FAILED at once,"
              + " naming the limit (default: ${DEFAULT-VALUE}).")
  int maxPromptTokens = D.maxPromptTokens();

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      description =
          "Connections open at once, engines and clients together; a new one beyond it is refused"
              + " during its handshake (default: ${DEFAULT-VALUE}).")
  int maxConnections = D.maxConnections();

  @Option(
      names = "--max-connections-per-address",
      paramLabel = "N",
      description = "Connections open at once from one IP address (default: ${DEFAULT-VALUE}).")
  int maxConnectionsPerAddress = D.maxConnectionsPerAddress();

  /**
   * The limits.
   *
   * @throws IllegalArgumentException naming the option that is not positive
   */
  Limits toLimits() {
    return new Limits(
        maxPending,
        maxPendingPerClient,
        maxClients,
        maxQueuedMessages,
        maxMessageBytes,
        maxPromptTokens,
        maxConnections,
        maxConnectionsPerAddress);
  }

  /** A byte count: digits, optionally followed by k, m or g (powers of 1024). */
  static final class SizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      String s = value.strip().toLowerCase(Locale.ROOT);
      int shift = s.endsWith("k") ? 10 : s.endsWith("m") ? 20 : s.endsWith("g") ? 30 : 0;
      try {
        long n = Long.parseLong(shift == 0 ? s : s.substring(0, s.length() - 1));
        if (n < 0 || n > (Long.MAX_VALUE >> shift)) {
          throw new NumberFormatException();
        }
        return n << shift;
      } catch (NumberFormatException e) {
        throw new TypeConversionException(
            "'" + value + "' is not a size (bytes, or a number with k, m or g)");
      }
    }
  }
}
