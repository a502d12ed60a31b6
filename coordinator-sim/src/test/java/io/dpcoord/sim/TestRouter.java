package io.dpcoord.sim;

import static org.assertj.core.api.Assertions.fail;

import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RawValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.value.Value;
import org.zeromq.SocketType;
import org.zeromq.ZMQ;

/**
 * A bare ROUTER on 127.0.0.1 with a port chosen at run time, standing in for the coordinator. Peers
 * that drop their connection show up as a message whose payload is {@link #GONE}.
 */
final class TestRouter implements AutoCloseable {
  /** The payload the router delivers when a peer's connection drops. */
  static final byte[] GONE = {(byte) 0xc1, 0x00};

  static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** One message: who sent it and its single payload frame. */
  record Received(byte[] identity, byte[] payload) {
    String identityText() {
      return new String(identity, StandardCharsets.UTF_8);
    }

    boolean gone() {
      return Arrays.equals(payload, GONE);
    }

    Message decode() {
      try {
        return new MessageCodec().decode(Direction.TO_COORDINATOR, payload);
      } catch (ProtocolException e) {
        throw new AssertionError("undecodable payload: " + e.getMessage(), e);
      }
    }
  }

  private final ZMQ.Context context = ZMQ.context(1);
  private final ZMQ.Socket socket;
  private final String endpoint;
  private final MessageCodec codec = new MessageCodec();

  TestRouter() {
    socket = context.socket(SocketType.ROUTER);
    socket.setLinger(0);
    socket.setRouterMandatory(true);
    // as the coordinator does: a peer that reconnects with its identity takes it over
    socket.setRouterHandover(true);
    socket.setSndHWM(0);
    socket.setRcvHWM(0);
    socket.base().setSocketOpt(zmq.ZMQ.ZMQ_DISCONNECT_MSG, GONE);
    socket.bind("tcp://127.0.0.1:*");
    endpoint = socket.getLastEndpoint();
  }

  String endpoint() {
    return endpoint;
  }

  /** The next message, failing the test if none arrives within {@link #TIMEOUT}. */
  Received receive() {
    Received r = poll(TIMEOUT);
    if (r == null) {
      fail("no message within " + TIMEOUT);
    }
    return r;
  }

  /**
   * The next message that is not a dropped connection: a DEALER may drop a connection whose
   * handshake stalled and reconnect (see {@code Dealers}).
   */
  Received receiveLive() {
    Received r = receive();
    while (r.gone()) {
      r = receive();
    }
    return r;
  }

  /** The next message, or null if none arrives within {@code timeout}. */
  Received poll(Duration timeout) {
    socket.setReceiveTimeOut((int) timeout.toMillis());
    byte[] identity = socket.recv(0);
    if (identity == null) {
      return null;
    }
    byte[] payload = socket.hasReceiveMore() ? socket.recv(0) : new byte[0];
    while (socket.hasReceiveMore()) {
      socket.recv(0);
    }
    return new Received(identity, payload);
  }

  /** Sends one payload frame to {@code identity}. */
  void send(byte[] identity, byte[] payload) {
    if (!socket.send(identity, ZMQ.SNDMORE) || !socket.send(payload, 0)) {
      fail("send failed: errno " + socket.errno());
    }
  }

  /** Sends a message to {@code identity}. */
  void send(byte[] identity, Message message) {
    send(identity, codec.encode(message));
  }

  /** Sends raw frames as one multi-part message to {@code identity}. */
  void sendParts(byte[] identity, byte[]... parts) {
    socket.send(identity, ZMQ.SNDMORE);
    for (int i = 0; i < parts.length; i++) {
      socket.send(parts[i], i < parts.length - 1 ? ZMQ.SNDMORE : 0);
    }
  }

  @Override
  public void close() {
    socket.close();
    context.close();
  }

  // ---------------------------------------------------------------- msgpack helpers

  /** A msgpack map built from alternating keys and values (String, Integer, Long, Boolean). */
  static RawValue map(Object... keysAndValues) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packMapHeader(keysAndValues.length / 2);
      for (Object o : keysAndValues) {
        if (o instanceof String s) {
          p.packString(s);
        } else if (o instanceof Integer i) {
          p.packInt(i);
        } else if (o instanceof Long l) {
          p.packLong(l);
        } else if (o instanceof Boolean b) {
          p.packBoolean(b);
        } else if (o == null) {
          p.packNil();
        } else {
          throw new IllegalArgumentException("unsupported value " + o);
        }
      }
      return RawValue.of(p.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (ProtocolException e) {
      throw new AssertionError(e);
    }
  }

  /** Raw msgpack bytes of an array of small ints, e.g. {@code [99]}. */
  static byte[] intArray(long... values) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packArrayHeader(values.length);
      for (long v : values) {
        p.packLong(v);
      }
      return p.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A record map as string keys to msgpack values. */
  static Map<String, Value> fields(RawValue record) {
    try {
      Value v = MessagePack.newDefaultUnpacker(record.toByteArray()).unpackValue();
      Map<String, Value> out = new LinkedHashMap<>();
      for (Map.Entry<Value, Value> e : v.asMapValue().map().entrySet()) {
        out.put(e.getKey().asStringValue().asString(), e.getValue());
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Polls {@code condition} until it holds, failing the test after {@link #TIMEOUT}. */
  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what);
      }
      Thread.onSpinWait();
      java.util.concurrent.locks.LockSupport.parkNanos(200_000);
    }
  }
}
