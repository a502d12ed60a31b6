package io.dpcoord.server;

import io.dpcoord.jeromq.SignalerFix;
import io.dpcoord.metrics.Metric;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * A running coordinator: a bound ROUTER socket and the thread of its event loop.
 *
 * <pre>{@code
 * try (Coordinator c = Coordinator.start(CoordinatorConfig.builder().expectedEngines(4).build())) {
 *   System.out.println(c.endpoint());   // tcp://127.0.0.1:<port>
 *   c.awaitTermination(Duration.ofDays(365));
 * }
 * }</pre>
 */
public final class Coordinator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);

  /** How long the loop waits for a message before doing housekeeping (and checking for stop). */
  private static final int POLL_MILLIS = 50;

  private final ZContext context;
  private final String endpoint;
  private final CoordinatorStatus status;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final Thread thread;
  private final EventLoop loop;
  private volatile boolean stopRequested;
  private volatile Throwable failure;

  private Coordinator(CoordinatorConfig config) throws IOException {
    if (!SignalerFix.isLoaded()) {
      LOG.warn(
          "jeromq's own zmq.Signaler is on the class path before coordinator-jeromq's: its I/O"
              + " thread may spin for milliseconds after a send (docs/DESIGN.md, \"jeromq's"
              + " signaler\")");
    }
    status = new CoordinatorStatus(config.expectedEngines());
    context = new ZContext(1);
    ZMQ.Socket socket = context.createSocket(SocketType.ROUTER);
    ScheduleWriter schedule = null;
    ZapHandler zap = null;
    try {
      socket.setRouterMandatory(true);
      // A restarted engine reconnects with its old identity: hand the identity to the new
      // connection instead of refusing it while the old one is being torn down. Not when peers
      // are checked: a peer of any right could take an engine's identity and its requests
      // (docs/SECURITY.md); the new connection is then refused until the old one is gone.
      socket.setRouterHandover(!config.access().checksPeers());
      // jeromq sometimes stalls a new connection's handshake (docs/design/sim.md); dropping a
      // handshake that has not finished in 5 s lets the peer reconnect instead of waiting 30 s.
      socket.setHandshakeIvl(5_000);
      // a client that reads nothing is released once this many messages wait for it (Outbox)
      socket.setSndHWM(config.limits().maxQueuedMessages());
      socket.setRcvHWM(0);
      socket.setMaxMsgSize(config.limits().maxMessageBytes());
      socket.setLinger(0);
      socket.setReceiveTimeOut(POLL_MILLIS);
      // A peer that hangs without closing its connection (a stopped process, a dead host) answers
      // no PING: once it is silent for the timeout, its connection is closed and the disconnect
      // note below removes it. libzmq and jeromq answer PINGs in their I/O threads.
      if (!config.heartbeatInterval().isZero()) {
        socket.setHeartbeatIvl((int) config.heartbeatInterval().toMillis());
        socket.setHeartbeatTimeout((int) config.heartbeatTimeout().toMillis());
      }
      socket.base().setSocketOpt(zmq.ZMQ.ZMQ_DISCONNECT_MSG, EventLoop.DISCONNECT_NOTE);
      // bound before the ROUTER: without a handler, ZMQ accepts every peer (and it bounds the
      // connections even when every peer has every right)
      zap =
          new ZapHandler(
              context,
              socket,
              config.access(),
              config.limits(),
              config.metrics().counter(Metric.COORDINATOR_REFUSED_CONNECTION_TOTAL));
      zap.start();
      socket.setZAPDomain(ZapHandler.DOMAIN);
      byte[] curveSecretKey = config.access().curveSecretKey();
      if (curveSecretKey != null) {
        socket.setCurveServer(true);
        socket.setCurveSecretKey(curveSecretKey);
      }
      endpoint = bind(socket, config.bindAddress(), config.port());
      if (config.scheduleOut() != null) {
        schedule =
            new ScheduleWriter(
                config.scheduleOut(),
                config.routing().policy().cliName(),
                config.expectedEngines());
      }
    } catch (IOException | RuntimeException e) {
      close(zap, context);
      throw e;
    }
    ZapHandler handler = zap;
    EventLoop loop = new EventLoop(context, socket, config, schedule, status, System::nanoTime);
    this.loop = loop;
    thread =
        new Thread(
            () -> {
              try {
                loop.run(() -> stopRequested);
              } catch (RuntimeException | Error e) {
                failure = e;
                LOG.error("the event loop stopped unexpectedly", e);
              } finally {
                close(handler, context);
                terminated.countDown();
              }
            },
            "coordinator-loop");
  }

  private static void close(ZapHandler zap, ZContext context) {
    if (zap != null) {
      zap.close();
    }
    context.close();
  }

  /**
   * The pipes attached to the ROUTER socket, one per connection, at the loop's last housekeeping.
   */
  int attachedPipes() {
    return loop.attachedPipes();
  }

  /** Binds the socket and starts the event loop. BindException when the port is taken. */
  public static Coordinator start(CoordinatorConfig config) throws IOException {
    Coordinator c = new Coordinator(config);
    c.thread.start();
    return c;
  }

  private static String bind(ZMQ.Socket socket, String address, int port) throws IOException {
    String requested = "tcp://" + address + ":" + (port == 0 ? "*" : Integer.toString(port));
    try {
      socket.bind(requested);
    } catch (ZMQException e) {
      if (e.getErrorCode() == zmq.ZError.EADDRINUSE) {
        throw new BindException("port " + port + " on " + address + " is already in use");
      }
      throw new IOException("cannot bind " + requested + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException | UncheckedIOException e) {
      throw new IOException("cannot bind " + requested + ": " + e.getMessage(), e);
    }
    return socket.getLastEndpoint();
  }

  /** The bound endpoint, e.g. {@code tcp://127.0.0.1:45123}. */
  public String endpoint() {
    return endpoint;
  }

  /** The bound TCP port. */
  public int port() {
    return Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
  }

  /** Live status, readable from any thread. */
  public CoordinatorStatus status() {
    return status;
  }

  /** Asks the loop to stop; pending requests are then answered FAILED. Returns immediately. */
  public void shutdown() {
    stopRequested = true;
  }

  /** Waits for the loop to finish (after {@link #shutdown()} or a SHUTDOWN message). */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** What stopped the loop unexpectedly, or null (it runs, or it stopped as asked). */
  public Throwable failure() {
    return failure;
  }

  /** True once the loop has finished and the socket is closed. */
  public boolean isTerminated() {
    return terminated.getCount() == 0;
  }

  /** Stops the loop and waits for it (at most 10 s). */
  @Override
  public void close() {
    shutdown();
    try {
      if (!awaitTermination(Duration.ofSeconds(10))) {
        LOG.warn("the event loop did not stop within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
