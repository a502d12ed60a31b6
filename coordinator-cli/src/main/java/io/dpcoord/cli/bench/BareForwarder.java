package io.dpcoord.cli.bench;

import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.EngineReply;
import io.dpcoord.protocol.EngineReplyPartial;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.ReplyRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.agrona.collections.Long2ObjectHashMap;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.core.buffer.ArrayBufferInput;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * The load benchmark's floor: a bare ROUTER forwarder that speaks just enough of the wire protocol
 * (docs/spec/PROTOCOL.md) for simulated engines and the load generator to work through it, and
 * nothing more. A benchmark tool, not a product.
 *
 * <ul>
 *   <li>an empty frame registers its sender as an engine;
 *   <li>{@code [0]} CONNECT is answered {@code [1]};
 *   <li>{@code [20, cid, prompt, sampling_params(, mmd)]} gets the next request id {@code rid} and
 *       goes to the engine with the fewest pending requests (ties: the first registered) as {@code
 *       [20, rid, prompt, sampling_params, mmd]}, the fields after {@code cid} copied byte for
 *       byte;
 *   <li>each record of {@code [21, [record, ...]]} goes to its client as {@code [21, cid, record]}
 *       (and of {@code [22, [...]]} as {@code [22, cid, record]}), found by the record's {@code
 *       request_id}, the record copied byte for byte.
 * </ul>
 *
 * <p>No validation beyond what reading those fields needs (a frame it cannot read ends the loop
 * with a stack trace), no routing state, no metrics, no control signals, no FAILED answers; engines
 * that leave are not noticed. Same socket options as the coordinator's ROUTER (mandatory routing,
 * no high-water marks), one jeromq I/O thread, one loop thread named {@value #THREAD}.
 */
public final class BareForwarder implements AutoCloseable {
  /** The loop thread's name. */
  public static final String THREAD = "forwarder-loop";

  private static final int POLL_MILLIS = 50;
  private static final int SUBMIT = 20;
  private static final int REPLY = 21;
  private static final int PARTIAL = 22;
  private static final byte[] CONNECT_ACK = {(byte) 0x91, 1};

  private final ZContext context = new ZContext(1);
  private final ZMQ.Socket socket;
  private final String endpoint;
  private final Thread thread;
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile boolean stop;
  private volatile int engineCount;
  private volatile long dropped;

  // loop-thread state
  private final List<Engine> engines = new ArrayList<>();
  private final Long2ObjectHashMap<Pending> pending = new Long2ObjectHashMap<>();
  private final ArrayBufferInput input = new ArrayBufferInput(new byte[0]);
  private final MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(new byte[0]);
  private final MessageBufferPacker packer = MessagePack.newDefaultBufferPacker();
  private final MessageCodec codec = new MessageCodec();
  private long nextRid;

  private static final class Engine {
    final byte[] id;
    int pending;

    Engine(byte[] id) {
      this.id = id;
    }
  }

  private record Pending(byte[] client, long cid, Engine engine) {}

  private BareForwarder() {
    socket = context.createSocket(SocketType.ROUTER);
    socket.setRouterMandatory(true);
    socket.setSndHWM(0);
    socket.setRcvHWM(0);
    socket.setLinger(0);
    socket.setReceiveTimeOut(POLL_MILLIS);
    socket.bind("tcp://127.0.0.1:*");
    endpoint = socket.getLastEndpoint();
    thread = new Thread(this::run, THREAD);
  }

  /** Binds to a free port on 127.0.0.1 and starts forwarding. */
  public static BareForwarder start() {
    BareForwarder f = new BareForwarder();
    f.thread.start();
    return f;
  }

  /** The bound endpoint, {@code tcp://127.0.0.1:<port>}. */
  public String endpoint() {
    return endpoint;
  }

  /** Waits until {@code n} engines have registered; false on timeout. */
  public boolean awaitEngines(int n, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (engineCount < n) {
      if (System.nanoTime() > deadline || ended.getCount() == 0) {
        return false;
      }
      Thread.sleep(5); // polling a count with a deadline, not synchronisation by sleeping
    }
    return true;
  }

  /** Messages dropped because their peer was gone (or could not take them at once). */
  public long dropped() {
    return dropped;
  }

  /** Stops the loop and closes the socket (waits at most 5 s). */
  @Override
  public void close() {
    stop = true;
    try {
      ended.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    try {
      while (!stop) {
        byte[] from = socket.recv(0);
        if (from == null) {
          continue; // the receive timeout: look at the stop flag
        }
        byte[] frame = socket.recv(0);
        if (frame.length == 0) {
          register(from);
        } else {
          handle(from, frame);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      context.close();
      ended.countDown();
    }
  }

  private void register(byte[] id) {
    for (Engine e : engines) {
      if (Arrays.equals(e.id, id)) {
        return;
      }
    }
    engines.add(new Engine(id));
    engineCount = engines.size();
  }

  private void handle(byte[] from, byte[] frame) throws IOException {
    input.reset(frame);
    unpacker.reset(input);
    int fields = unpacker.unpackArrayHeader();
    int header = unpacker.unpackInt();
    switch (header) {
      case 0 -> send(from, CONNECT_ACK);
      case SUBMIT -> submit(from, frame, fields);
      case REPLY, PARTIAL -> reply(frame, header);
      default -> {
        // DISCONNECT, control signals and the rest: not needed by the benchmark
      }
    }
  }

  private void submit(byte[] client, byte[] frame, int fields) throws IOException {
    long cid = unpacker.unpackLong();
    int rest = (int) unpacker.getTotalReadBytes();
    Engine to = engines.get(0);
    for (Engine e : engines) {
      if (e.pending < to.pending) {
        to = e;
      }
    }
    long rid = nextRid++;
    pending.put(rid, new Pending(client, cid, to));
    to.pending++;
    packer.clear();
    packer.packArrayHeader(5).packInt(SUBMIT).packLong(rid);
    packer.writePayload(frame, rest, frame.length - rest);
    if (fields == 4) {
      packer.packNil(); // no multi_modal_data: the engine's copy always has the field
    }
    send(to.id, packer.toByteArray());
  }

  /**
   * Relays each record of an ENGINE_REPLY or ENGINE_REPLY_PARTIAL. The records are split by the
   * protocol module's decoder: the coordinator's own walk, which skips runs of token ids in bulk.
   * With msgpack-core's skipValue (one call per value) instead, the forwarder's loop took 175 µs of
   * CPU per request at 8k-token prompts, whose records carry the prompt's tokens twice; with the
   * decoder, 89 and 105 µs in two later runs (docs/PERFORMANCE.md, load benchmark).
   */
  private void reply(byte[] frame, int header) throws IOException {
    Message m;
    try {
      m = codec.decode(Direction.TO_COORDINATOR, frame);
    } catch (ProtocolException e) {
      throw new IllegalStateException("an engine sent a reply the forwarder cannot read", e);
    }
    List<ReplyRecord> records =
        m instanceof EngineReply r ? r.records() : ((EngineReplyPartial) m).records();
    for (ReplyRecord record : records) {
      Pending p =
          header == REPLY ? pending.remove(record.requestId()) : pending.get(record.requestId());
      if (p == null) {
        continue;
      }
      if (header == REPLY) {
        p.engine.pending--;
      }
      packer.clear();
      packer.packArrayHeader(3).packInt(header).packLong(p.cid);
      record.raw().writeTo(packer);
      send(p.client, packer.toByteArray());
    }
  }

  private void send(byte[] to, byte[] frame) {
    boolean sent;
    try {
      sent = socket.send(to, ZMQ.SNDMORE | ZMQ.DONTWAIT) && socket.send(frame, ZMQ.DONTWAIT);
    } catch (ZMQException e) {
      if (e.getErrorCode() != zmq.ZError.EHOSTUNREACH) {
        throw e;
      }
      sent = false;
    }
    if (!sent) {
      dropped++; // a peer that left (EHOSTUNREACH) or whose connection is going (EAGAIN)
    }
  }
}
