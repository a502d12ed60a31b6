package io.dpcoord.sim;

import io.dpcoord.protocol.Connect;
import io.dpcoord.protocol.ConnectAck;
import io.dpcoord.protocol.ControlSignal;
import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.Header;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.SetGenerationEpoch;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.zeromq.ZMQ;

/**
 * A client that sends control signals to a coordinator: it connects a DEALER, does the CONNECT
 * handshake, then sends PAUSE, UNPAUSE, ..., SET_GENERATION_EPOCH. Use it from one thread.
 */
public final class ControlClient implements AutoCloseable {
  private static final int CLOSE_LINGER_MILLIS = 1000;

  private final ZMQ.Context context;
  private final ZMQ.Socket socket;
  private final MessageCodec codec = new MessageCodec();
  private boolean closed;

  private ControlClient(ZMQ.Context context, ZMQ.Socket socket) {
    this.context = context;
    this.socket = socket;
  }

  /**
   * Connects to the coordinator at {@code endpoint} and waits for its CONNECT_ACK.
   *
   * @throws TimeoutException if no CONNECT_ACK arrives within {@code timeout}
   * @throws IllegalArgumentException if the endpoint cannot be connected to
   */
  public static ControlClient connect(String endpoint, Duration timeout) throws TimeoutException {
    return connect(endpoint, null, timeout);
  }

  /**
   * Connects as {@link #connect(String, Duration)} does, with CurveZMQ when {@code curve} is not
   * null.
   */
  public static ControlClient connect(String endpoint, CurveClient curve, Duration timeout)
      throws TimeoutException {
    ZMQ.Context context = ZMQ.context(1);
    ZMQ.Socket socket = null;
    boolean ok = false;
    try {
      socket = Dealers.connect(context, endpoint, null, CLOSE_LINGER_MILLIS, curve);
      try (ZMQ.Poller poller = context.poller(1)) {
        poller.register(socket, ZMQ.Poller.POLLIN);
        handshake(socket, poller, 0, new MessageCodec(), endpoint, timeout);
      }
      ok = true;
      return new ControlClient(context, socket);
    } finally {
      if (!ok) {
        if (socket != null) {
          socket.setLinger(0);
          socket.close();
        }
        context.close();
      }
    }
  }

  /**
   * Sends a bare control signal (PAUSE, UNPAUSE, SUSPEND, RESUME, STOP or a profiler signal).
   *
   * @throws IllegalArgumentException if {@code signal} is not one of those
   */
  public void signal(Header signal) {
    send(codec.encode(new ControlSignal(signal)));
  }

  /** Sends SET_GENERATION_EPOCH {@code [44, epoch]}. */
  public void setGenerationEpoch(long epoch) {
    send(codec.encode(new SetGenerationEpoch(epoch)));
  }

  private void send(byte[] frame) {
    if (closed) {
      throw new IllegalStateException("the control client is closed");
    }
    if (!socket.send(frame, 0)) {
      throw new IllegalStateException("cannot send a control signal: errno " + socket.errno());
    }
  }

  /** Closes the socket once what was sent has left (at most 1 s). Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      socket.close();
      context.close();
    }
  }

  /**
   * Sends CONNECT and waits for CONNECT_ACK on {@code socket} (registered at {@code index} in
   * {@code poller}); anything else that arrives meanwhile is ignored.
   *
   * @throws TimeoutException if no CONNECT_ACK arrives within {@code timeout}
   */
  static void handshake(
      ZMQ.Socket socket,
      ZMQ.Poller poller,
      int index,
      MessageCodec codec,
      String endpoint,
      Duration timeout)
      throws TimeoutException {
    if (!socket.send(codec.encode(new Connect()), 0)) {
      throw new IllegalStateException("cannot send CONNECT: errno " + socket.errno());
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new TimeoutException(
            "no CONNECT_ACK from " + endpoint + " within " + timeout.toMillis() + " ms");
      }
      poller.poll(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      if (!poller.pollin(index)) {
        continue;
      }
      byte[] frame;
      while ((frame = socket.recv(ZMQ.DONTWAIT)) != null) {
        if (isAck(codec, frame)) {
          return;
        }
      }
    }
  }

  private static boolean isAck(MessageCodec codec, byte[] frame) {
    try {
      Message m = codec.decode(Direction.TO_CLIENT, frame);
      return m instanceof ConnectAck;
    } catch (ProtocolException e) {
      return false;
    }
  }
}
