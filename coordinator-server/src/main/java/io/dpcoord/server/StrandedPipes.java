package io.dpcoord.server;

import java.lang.reflect.Field;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZMQ;
import zmq.SocketBase;
import zmq.pipe.Pipe;
import zmq.socket.reqrep.Router;

/**
 * Releases the ROUTER's pipes that jeromq 0.6.0 strands (docs/design/server.md, "Connections that
 * fail after the greeting"). With {@code ZMQ_DISCONNECT_MSG} set, a connection that fails after its
 * ZMTP greeting but before it is identified (a handshake refused by ZAP, a wrong CURVE key, a peer
 * that leaves mid-handshake) puts the disconnect note into its pipe, where the ROUTER reads it as
 * the peer's identity: a duplicate after the first, so the pipe stays unidentified, is never read
 * again, and keeps its session and buffers (about 3 KiB) for ever. {@link #release} reads what ends
 * such a pipe, its delimiter, so that its termination completes.
 *
 * <p>Reaches the ROUTER's private set of unidentified pipes by reflection; if a later jeromq lacks
 * it, the coordinator logs that once and runs without the release. Loop thread only.
 */
final class StrandedPipes {
  private static final Logger LOG = LoggerFactory.getLogger(StrandedPipes.class);

  private final Set<Pipe> unidentified;
  private final Collection<Pipe> attached;

  StrandedPipes(ZMQ.Socket router) {
    SocketBase base = router.base();
    this.unidentified = field(base, Router.class, "anonymousPipes");
    this.attached = field(base, SocketBase.class, "pipes");
  }

  @SuppressWarnings("unchecked")
  private static <T> T field(SocketBase base, Class<?> owner, String name) {
    try {
      Field f = owner.getDeclaredField(name);
      f.setAccessible(true);
      return (T) f.get(base);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn(
          "cannot reach jeromq's {}.{} ({}): connections that fail after their greeting keep"
              + " their memory",
          owner.getSimpleName(),
          name,
          e.toString());
      return null;
    }
  }

  /**
   * Completes the termination of every unidentified pipe whose next item is its delimiter. {@link
   * Pipe#checkRead} consumes nothing else: a pipe still waiting for its peer's identity is left as
   * it is.
   */
  void release() {
    if (unidentified != null && !unidentified.isEmpty()) {
      for (Pipe p : List.copyOf(unidentified)) {
        p.checkRead();
      }
    }
  }

  /** Pipes attached to the ROUTER (one per connection, identified or not), or -1 if unknown. */
  int attached() {
    return attached == null ? -1 : attached.size();
  }
}
