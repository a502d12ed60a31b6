package io.dpcoord.tests;

import org.zeromq.SocketType;
import org.zeromq.ZEvent;
import org.zeromq.ZMQ;
import org.zeromq.ZMonitor;

/**
 * Proves that the coordinator's I/O thread has caught up with a connection that was closed: new
 * connections complete their ZMTP greeting only once that thread has read and answered them.
 *
 * <p>The coordinator's context has one I/O thread. A connection closed (and its context terminated)
 * before the probe connects has its end of stream waiting on the coordinator's side before the
 * probe's first byte; the thread handles it on its next turn, and telling the coordinator's socket
 * that the peer's pipe is gone takes it one more turn. A greeting needs at least two turns (accept,
 * then the answer to the probe's signature), so after two probes in a row the socket has been told,
 * even while the event loop itself is held and has not looked yet.
 */
final class IoThreadProbe {
  private IoThreadProbe() {}

  /** Completes two greetings with the coordinator, one after the other. */
  static void awaitCaughtUp(String endpoint) {
    greet(endpoint);
    greet(endpoint);
  }

  private static void greet(String endpoint) {
    try (ZMQ.Context context = ZMQ.context(1)) {
      ZMQ.Socket probe = context.socket(SocketType.DEALER);
      ZMQ.Socket events = context.socket(SocketType.PAIR);
      try {
        probe.setLinger(0);
        events.setLinger(0);
        String monitor = "inproc://probe-monitor";
        probe.monitor(monitor, ZMQ.EVENT_HANDSHAKE_PROTOCOL);
        events.connect(monitor);
        events.setReceiveTimeOut((int) Await.DEADLINE.toMillis());
        probe.setHandshakeIvl(1000);
        probe.connect(endpoint);
        ZEvent event = ZEvent.recv(events);
        if (event == null || event.getEvent() != ZMonitor.Event.HANDSHAKE_PROTOCOL) {
          throw new AssertionError("the probe's greeting did not complete: " + event);
        }
      } finally {
        probe.close();
        events.close();
      }
    }
  }
}
