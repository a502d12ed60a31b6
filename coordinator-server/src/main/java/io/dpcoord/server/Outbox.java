package io.dpcoord.server;

import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.ClientReplyPartial;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.Records;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;
import zmq.ZError;

/**
 * What the coordinator sends, without ever blocking: frames to engines, and the replies and FAILED
 * answers that go to clients. A send that fails means its peer is gone; for a client, the loop is
 * told ({@code clientGone}) so that it forgets the client.
 */
final class Outbox {
  private final ZMQ.Socket socket;
  private final MessageCodec codec = new MessageCodec();
  private final Dialect engineDialect;
  private final PendingRequests pending;
  private final LoopMetrics metrics;
  private final DoubleSupplier unixSeconds;
  private final RateLimitedLog warnings;
  private final Consumer<Peer> clientGone;
  private final Map<Peer, ArrayDeque<byte[]>> backlogs = new HashMap<>();

  Outbox(
      ZMQ.Socket socket,
      Dialect engineDialect,
      PendingRequests pending,
      LoopMetrics metrics,
      DoubleSupplier unixSeconds,
      RateLimitedLog warnings,
      Consumer<Peer> clientGone) {
    this.socket = socket;
    this.engineDialect = engineDialect;
    this.pending = pending;
    this.metrics = metrics;
    this.unixSeconds = unixSeconds;
    this.warnings = warnings;
    this.clientGone = clientGone;
  }

  /** The engines' dialect. */
  Dialect engineDialect() {
    return engineDialect;
  }

  /**
   * Encodes a message for the engines, in their dialect (an engine's copy of a request, a
   * translated control signal).
   *
   * @throws IllegalArgumentException if their dialect cannot carry it
   */
  byte[] engineFrame(Message message) {
    return codec.encode(engineDialect, message);
  }

  /**
   * Sends a frame to an engine, in order; false if it is gone. A send that finds the engine's queue
   * full (EAGAIN) means it is gone unless {@code mayBeBehind}: the engine could have that many
   * messages unread (a dead connection that is not yet reaped also answers EAGAIN). Then the frame
   * waits here instead, bounded by the pending requests, for {@link #flushBacklogs()}.
   */
  boolean toEngine(Peer engine, byte[] frame, boolean mayBeBehind) {
    ArrayDeque<byte[]> backlog = backlogs.get(engine);
    if (backlog != null) {
      backlog.add(frame);
      return true;
    }
    if (sendFrame(engine, frame)) {
      return true;
    }
    if (!mayBeBehind || socket.errno() != ZError.EAGAIN) {
      return false;
    }
    warnings.warn(
        "backlog:" + engine,
        "engine " + engine + " is not reading: holding its messages until it does");
    backlogs.computeIfAbsent(engine, e -> new ArrayDeque<>()).add(frame);
    return true;
  }

  /** Sends what waits for each engine, as far as it reads; nothing to do (or allocate) if none. */
  void flushBacklogs() {
    if (backlogs.isEmpty()) {
      return;
    }
    for (Iterator<Map.Entry<Peer, ArrayDeque<byte[]>>> it = backlogs.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<Peer, ArrayDeque<byte[]>> e = it.next();
      ArrayDeque<byte[]> backlog = e.getValue();
      while (!backlog.isEmpty() && sendFrame(e.getKey(), backlog.peek())) {
        backlog.poll();
      }
      if (backlog.isEmpty()) {
        it.remove();
      }
    }
  }

  /** Drops what waits for an engine that is gone. */
  void forgetEngine(Peer engine) {
    backlogs.remove(engine);
  }

  /** Sends a message to a client in its dialect; false (and the client is forgotten) if gone. */
  boolean toClient(Peer to, Message message) {
    boolean sent = sendFrame(to, codec.encode(pending.dialectOf(to), message));
    if (!sent && pending.isClient(to)) {
      metrics.clientsReleased.inc();
      warnings.warn(
          "client-gone",
          "client "
              + to
              + " is gone, or has not read the last "
              + socket.getSndHWM()
              + " messages (--max-queued-messages); its state was released");
      clientGone.accept(to);
    }
    return sent;
  }

  /**
   * Sends one frame without blocking. False when the peer is gone: EHOSTUNREACH for an identity the
   * socket no longer knows, EAGAIN for a connection that dropped but is not yet reaped (with no
   * high-water mark, nothing else makes a send wait).
   */
  boolean sendFrame(Peer to, byte[] frame) {
    try {
      return socket.send(to.id(), ZMQ.SNDMORE | ZMQ.DONTWAIT) && socket.send(frame, ZMQ.DONTWAIT);
    } catch (ZMQException e) {
      if (e.getErrorCode() == zmq.ZError.EHOSTUNREACH) {
        return false;
      }
      throw e;
    }
  }

  /** Forwards an engine's terminal record, byte for byte, to the request's client. */
  void reply(PendingRequest r, RawValue record) {
    if (pending.isClient(r.client)
        && toClient(r.client, new ClientReply(r.clientRequestId, record))) {
      metrics.completed.inc();
    }
  }

  /**
   * Forwards an engine's partial record, byte for byte, to the request's client; a client of
   * Megatron 0.18, which has no partial replies, gets only the final one.
   */
  void partial(PendingRequest r, RawValue record) {
    if (pending.isClient(r.client) && pending.dialectOf(r.client) == Dialect.V0_19) {
      toClient(r.client, new ClientReplyPartial(r.clientRequestId, record));
    }
  }

  /**
   * Answers a request that is no longer pending FAILED, with a record Megatron's client accepts.
   */
  void fail(PendingRequest r, String reason) {
    fail(r, reason, true);
  }

  /**
   * Answers a request FAILED; without {@code echo}, the record's prompt and sampling_params are nil
   * (a minimal record: no copy of a huge prompt, nothing that can run out of memory twice).
   */
  void fail(PendingRequest r, String reason, boolean echo) {
    metrics.failed.inc();
    if (pending.isClient(r.client)) {
      RawValue record =
          Records.failed(
              r.requestId,
              echo ? r.prompt : RawValue.nil(),
              echo ? r.samplingParams : RawValue.nil(),
              unixSeconds.getAsDouble(),
              reason);
      toClient(r.client, new ClientReply(r.clientRequestId, record));
    }
  }
}
