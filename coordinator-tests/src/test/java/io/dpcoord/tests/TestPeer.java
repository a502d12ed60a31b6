package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.sim.CurveClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.zeromq.SocketType;
import org.zeromq.ZMQ;

/**
 * A DEALER connected to the coordinator, set up as Megatron's peers set theirs up (no high-water
 * marks), on a context of its own so that closing it is complete when {@link #close()} returns.
 */
abstract class TestPeer implements AutoCloseable {
  /** How long a receive waits before the test fails. */
  static final Duration RECEIVE_TIMEOUT = Duration.ofSeconds(10);

  /*
   * jeromq 0.6.0 now and then stalls a new connection's handshake between two contexts of one
   * JVM; a handshake interval makes it drop such a connection and retry, keeping what was queued
   * (the simulated engines do the same, see coordinator-sim's Dealers).
   */
  private static final int HANDSHAKE_MILLIS = 1000;

  private final ZMQ.Context context = ZMQ.context(1);
  private final ZMQ.Socket socket;
  private boolean closed;

  TestPeer(String endpoint, byte[] identity) {
    this(endpoint, identity, null);
  }

  /** A peer that connects with CurveZMQ when {@code curve} is not null. */
  TestPeer(String endpoint, byte[] identity, CurveClient curve) {
    socket = context.socket(SocketType.DEALER);
    if (curve != null) {
      curve.applyTo(socket);
    }
    if (identity != null) {
      socket.setIdentity(identity);
    }
    socket.setSndHWM(0);
    socket.setRcvHWM(0);
    socket.setLinger(0);
    socket.setHandshakeIvl(HANDSHAKE_MILLIS);
    socket.connect(endpoint);
  }

  /** Sends one single-frame message. */
  final void send(byte[] payload) {
    assertThat(socket.send(payload, 0)).as("send of %s", Pack.hex(payload)).isTrue();
  }

  /** Sends one message of several frames. */
  final void sendFrames(byte[]... frames) {
    for (int i = 0; i < frames.length; i++) {
      boolean last = i == frames.length - 1;
      assertThat(socket.send(frames[i], last ? 0 : ZMQ.SNDMORE)).as("send of frame %s", i).isTrue();
    }
  }

  /** The next message's single frame, or null if none arrives within {@code timeout}. */
  final byte[] poll(Duration timeout) {
    socket.setReceiveTimeOut((int) Math.max(1, timeout.toMillis()));
    byte[] frame = socket.recv(0);
    if (frame != null && socket.hasReceiveMore()) {
      List<byte[]> rest = new ArrayList<>();
      while (socket.hasReceiveMore()) {
        rest.add(socket.recv(0));
      }
      throw new AssertionError("expected one frame, got " + (rest.size() + 1));
    }
    return frame;
  }

  /** The next message's single frame; fails if none arrives within {@link #RECEIVE_TIMEOUT}. */
  final byte[] receiveFrame() {
    byte[] frame = poll(RECEIVE_TIMEOUT);
    if (frame == null) {
      throw new AssertionError(this + ": no message within " + RECEIVE_TIMEOUT);
    }
    return frame;
  }

  /** Fails unless the next message is exactly {@code expected}. */
  final void expectFrame(byte[] expected) {
    byte[] got = receiveFrame();
    assertThat(Pack.describe(got)).as("%s received", this).isEqualTo(Pack.describe(expected));
  }

  /**
   * Closes the socket at once (linger 0: what is queued is dropped, nothing more is sent) and
   * returns when the connection is closed. Idempotent.
   */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      socket.setLinger(0);
      socket.close();
      context.term();
    }
  }
}
