package io.dpcoord.sim;

import org.zeromq.SocketType;
import org.zeromq.ZMQ;

/** Creates the DEALER sockets of simulated engines and clients, all set up the same way. */
final class Dealers {
  /*
   * Design notes. jeromq 0.6.0 sometimes stalls a new TCP connection's handshake: the connecting
   * side never reads the peer's greeting, although the bytes sit in its receive queue (measured
   * here: about 3 connections in 100 between two contexts in one JVM, with the message queued
   * for the peer never delivered, however long one waits). A handshake interval makes ZMQ drop a
   * connection whose handshake has not finished in time and reconnect; messages queued meanwhile
   * stay queued and go out on the new connection (measured: 0 lost in 300, the stalled ones
   * delivered after the interval). One second is far above a loopback or LAN handshake (well
   * under a millisecond), so it never cuts a healthy one.
   */

  /** How long a handshake may take before the connection is dropped and retried. */
  static final int HANDSHAKE_MILLIS = 1000;

  private Dealers() {}

  /**
   * A DEALER without high-water marks (nothing is dropped or blocked by a queue limit), with the
   * handshake interval above, connected to {@code endpoint}.
   *
   * @param identity the ZMQ identity, or null to let ZMQ choose one
   * @param curve the CURVE keys, or null for a plain connection
   * @throws IllegalArgumentException if the endpoint cannot be connected to (malformed, say)
   */
  static ZMQ.Socket connect(
      ZMQ.Context context, String endpoint, byte[] identity, int linger, CurveClient curve) {
    ZMQ.Socket socket = context.socket(SocketType.DEALER);
    try {
      if (identity != null) {
        socket.setIdentity(identity);
      }
      socket.setSndHWM(0);
      socket.setRcvHWM(0);
      socket.setLinger(linger);
      socket.setHandshakeIvl(HANDSHAKE_MILLIS);
      if (curve != null) {
        curve.applyTo(socket);
      }
      socket.connect(endpoint);
      return socket;
    } catch (RuntimeException e) {
      socket.setLinger(0);
      socket.close();
      throw new IllegalArgumentException("cannot connect to '" + endpoint + "': " + e, e);
    }
  }
}
