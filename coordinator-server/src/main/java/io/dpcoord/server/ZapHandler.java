package io.dpcoord.server;

import io.dpcoord.metrics.CoordinatorMetrics.Counter;
import io.dpcoord.protocol.RateLimitedLog;
import java.net.InetAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZEvent;
import org.zeromq.ZMQ;
import org.zeromq.ZMonitor;

/**
 * The ZAP handler (ZeroMQ RFC 27): ZMQ asks it, during each handshake on the coordinator's ROUTER
 * socket, whether to accept the peer. It answers from {@link AccessRules}, given the peer's address
 * and, with CurveZMQ, the public key the peer proved it holds: a peer with no right is refused
 * (status 400; the connection closes before any message), any other is accepted with its rights as
 * the ZAP User-Id, which ZMQ attaches to every message of that connection for the event loop to
 * check.
 *
 * <p>It also bounds the connections (--max-connections, --max-connections-per-address): it follows
 * the ROUTER's open connections through a socket monitor and refuses a handshake that would exceed
 * a limit, so a peer that opens connections without end costs the coordinator at most the limits'
 * worth of memory and file descriptors.
 *
 * <p>It must be bound before the ROUTER socket binds: without a handler ZMQ accepts everyone. It
 * runs on its own thread, which ends when the context closes.
 */
final class ZapHandler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ZapHandler.class);

  /** The ZAP domain the ROUTER socket sets: with NULL security ZMQ asks ZAP only when it is set. */
  static final String DOMAIN = "dpcoord";

  private static final String ENDPOINT = "inproc://zeromq.zap.01";
  private static final String MONITOR = "inproc://dpcoord.connections";

  private final ZMQ.Socket socket;
  private final ZMQ.Socket monitor;
  private final ZMQ.Poller poller;
  private final AccessRules rules;
  private final Limits limits;
  private final OpenConnections connections = new OpenConnections();
  private final Counter refused;
  private final RateLimitedLog log;
  private final Thread thread;
  private volatile boolean stopped;

  /** A handler for {@code router}, whose connections it follows from now on. */
  ZapHandler(
      ZContext context, ZMQ.Socket router, AccessRules rules, Limits limits, Counter refused) {
    this.rules = rules;
    this.limits = limits;
    this.refused = refused;
    this.log = new RateLimitedLog(LOG::warn, TimeUnit.SECONDS.toNanos(1), System::nanoTime);
    this.socket = context.createSocket(SocketType.REP);
    socket.setLinger(0);
    socket.bind(ENDPOINT);
    router.monitor(MONITOR, ZMQ.EVENT_ACCEPTED | ZMQ.EVENT_DISCONNECTED);
    this.monitor = context.createSocket(SocketType.PAIR);
    monitor.setLinger(0);
    monitor.setRcvHWM(0); // no event dropped in a burst of connections (drained every 100 ms)
    monitor.connect(MONITOR);
    this.poller = context.createPoller(2);
    poller.register(socket, ZMQ.Poller.POLLIN);
    poller.register(monitor, ZMQ.Poller.POLLIN);
    this.thread = new Thread(this::run, "coordinator-zap");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Stops the handler and waits for its thread, which closes its socket. */
  @Override
  public void close() {
    stopped = true;
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    try {
      while (!stopped) {
        poller.poll(100); // to see close()
        followConnections();
        List<byte[]> request = receive();
        if (request != null) {
          followConnections(); // the connection's ACCEPTED came before its handshake
          answer(request);
        }
      }
    } catch (RuntimeException e) {
      LOG.error("the ZAP handler stopped; no new connection is accepted", e);
    } finally {
      poller.close();
      monitor.close();
      socket.close(); // also forgotten by the context
    }
  }

  /** Takes in the monitor's events so far. */
  private void followConnections() {
    ZEvent e;
    while ((e = ZEvent.recv(monitor, ZMQ.DONTWAIT)) != null) {
      if (e.getValue() instanceof SocketChannel channel) {
        if (e.getEvent() == ZMonitor.Event.ACCEPTED) {
          connections.accepted(channel);
        } else {
          connections.closed(channel);
        }
      }
    }
  }

  private List<byte[]> receive() {
    byte[] first = socket.recv(ZMQ.DONTWAIT);
    if (first == null) {
      return null;
    }
    List<byte[]> frames = new ArrayList<>(7);
    frames.add(first);
    while (socket.hasReceiveMore()) {
      frames.add(socket.recv(0));
    }
    return frames;
  }

  /** Frames: version, request id, domain, address, identity, mechanism, credentials... */
  private void answer(List<byte[]> request) {
    byte[] requestId = request.size() > 1 ? request.get(1) : new byte[0];
    String address = request.size() > 3 ? new String(request.get(3), ZMQ.CHARSET) : "";
    byte[] key = curveKey(request);
    int rights = request.size() >= 6 ? rightsOf(address, key) : 0;
    String overLimit = rights == 0 ? null : overLimit(address);
    if (rights == 0 || overLimit != null) {
      refused.inc();
      log.warn(
          "zap:" + address + (overLimit != null),
          overLimit != null
              ? "refused a connection from " + address + ": " + overLimit
              : refusal(address, key));
      rights = 0;
    }
    socket.sendMore("1.0");
    socket.sendMore(requestId);
    socket.sendMore(rights == 0 ? "400" : "200");
    socket.sendMore(
        rights == 0 ? (overLimit != null ? "too many connections" : "address not allowed") : "OK");
    socket.sendMore(rights == 0 ? "" : AccessRules.userId(rights));
    socket.send(new byte[0]);
  }

  /**
   * Why a new connection from {@code address} is one too many, or null. The counts include the new
   * connection; connections closed without an event are forgotten before a refusal.
   */
  private String overLimit(String address) {
    InetAddress peer;
    try {
      peer = Cidr.address(address);
    } catch (IllegalArgumentException e) {
      return null; // refused by rightsOf already
    }
    if (connections.total() > limits.maxConnections()
        || connections.from(peer) > limits.maxConnectionsPerAddress()) {
      connections.forgetClosed();
    }
    if (connections.from(peer) > limits.maxConnectionsPerAddress()) {
      return connections.from(peer)
          - 1
          + " connections are open from it, the most --max-connections-per-address allows";
    }
    if (connections.total() > limits.maxConnections()) {
      return connections.total() - 1 + " connections are open, the most --max-connections allows";
    }
    return null;
  }

  /** The public key of a CURVE request (mechanism frame 5, key frame 6), else null. */
  private static byte[] curveKey(List<byte[]> request) {
    return request.size() > 6 && "CURVE".equals(new String(request.get(5), ZMQ.CHARSET))
        ? request.get(6)
        : null;
  }

  private String refusal(String address, byte[] key) {
    String lists =
        rules.describe(AccessRules.ENGINE)
            + ", "
            + rules.describe(AccessRules.CLIENT)
            + (key == null ? "" : ", " + rules.describe(AccessRules.CONTROL));
    if (key == null) {
      return "refused a connection from " + address + ": the address is in none of " + lists;
    }
    String z85 = key.length == 32 ? ZMQ.Curve.z85Encode(key) : "of " + key.length + " bytes";
    return "refused a connection from "
        + address
        + " with CURVE key "
        + z85
        + (rules.keyRightsOf(key) == 0
            ? ": the key is in none of "
            : ": the key is listed, but not for this address: ")
        + lists;
  }

  /** The peer's rights; 0 unless it may connect as an engine or a client. */
  private int rightsOf(String address, byte[] key) {
    boolean curve = rules.usesCurve();
    if (curve && (key == null || key.length != 32)) {
      return 0;
    }
    try {
      InetAddress peer = Cidr.address(address);
      int rights = curve ? rules.rightsOf(peer, key) : rules.rightsOf(peer);
      return (rights & (AccessRules.ENGINE | AccessRules.CLIENT)) == 0 ? 0 : rights;
    } catch (IllegalArgumentException e) {
      return 0;
    }
  }
}
