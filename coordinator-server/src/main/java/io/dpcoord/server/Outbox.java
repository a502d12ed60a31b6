package io.dpcoord.server;

import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.ClientReplyPartial;
import io.dpcoord.protocol.CoreV015Request;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.Records;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
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
 *
 * <p>Sends are held while the loop has more messages ready to read, and go out together when it has
 * none, or once {@link #HOLD_MAX} wait after a message ({@link #release}, called by the loop
 * between messages only): jeromq's I/O thread then writes a burst in one wake-up instead of waking
 * for each frame (docs/design/server.md, "Held sends"). A held send that fails is handled as a send
 * that failed at once: a client is forgotten; an engine is removed as unreachable, and the requests
 * it never got are routed again ({@code engineLost}).
 */
final class Outbox {
  /** After a message, this many held sends are released without waiting for the burst's end. */
  static final int HOLD_MAX = 32;

  private static final int TO_CLIENT = 1;
  private static final int REPLY = TO_CLIENT | 2; // a terminal reply: counted completed once sent
  private static final int MAY_BE_BEHIND = 4;
  private static final int SUBMIT = 8; // an engine's copy of the held request
  private static final int ABORT = 16; // an abort of the held request

  private final ZMQ.Socket socket;
  private final MessageCodec codec = new MessageCodec();
  private final Dialect engineDialect;
  private final PendingRequests pending;
  private final LoopMetrics metrics;
  private final DoubleSupplier unixSeconds;
  private final RateLimitedLog warnings;
  private final Map<Peer, ArrayDeque<byte[]>> backlogs = new HashMap<>();
  private Consumer<Peer> clientGone;
  private Consumer<Peer> engineLost;
  private Consumer<PendingRequest> submitSent;
  // the held sends, in order: the peer (null once voided), the frame, the request it is about
  // (grown, past HOLD_MAX, only by a message that sends more, such as a broadcast)
  private Peer[] heldTo = new Peer[2 * HOLD_MAX];
  private byte[][] heldFrames = new byte[2 * HOLD_MAX][];
  private PendingRequest[] heldAbout = new PendingRequest[2 * HOLD_MAX];
  private EngineBound[] heldBounds = new EngineBound[2 * HOLD_MAX];
  private int[] heldFlags = new int[2 * HOLD_MAX];
  private int held;
  private boolean releasing;

  Outbox(
      ZMQ.Socket socket,
      Dialect engineDialect,
      PendingRequests pending,
      LoopMetrics metrics,
      DoubleSupplier unixSeconds,
      RateLimitedLog warnings) {
    this.socket = socket;
    this.engineDialect = engineDialect;
    this.pending = pending;
    this.metrics = metrics;
    this.unixSeconds = unixSeconds;
    this.warnings = warnings;
  }

  /**
   * Who is told (the conductor) of a client that a send could not reach, so that it forgets it; of
   * an engine that a held send could not reach: it is gone, and {@link #forgetEngine} gives back
   * what was held for it; and of a request whose SUBMIT left.
   */
  void listen(
      Consumer<Peer> clientGone, Consumer<Peer> engineLost, Consumer<PendingRequest> submitSent) {
    this.clientGone = clientGone;
    this.engineLost = engineLost;
    this.submitSent = submitSent;
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
   * Holds a frame for an engine (see above). {@code about} is the request whose SUBMIT ({@code
   * submit}) or abort the frame is, else null.
   */
  void toEngine(
      Peer engine, byte[] frame, boolean mayBeBehind, PendingRequest about, boolean submit) {
    int flags = (mayBeBehind ? MAY_BE_BEHIND : 0) | (about == null ? 0 : submit ? SUBMIT : ABORT);
    hold(engine, frame, about, submit ? about.bound : null, flags);
  }

  /**
   * Sends a frame to an engine now, in order; false if it is gone. A send that finds the engine's
   * queue full (EAGAIN) means it is gone unless {@code mayBeBehind}: the engine could have that
   * many messages unread (a dead connection that is not yet reaped also answers EAGAIN). Then the
   * frame waits here instead, bounded by the pending requests, for {@link #flushBacklogs()}.
   */
  private boolean sendToEngine(Peer engine, byte[] frame, boolean mayBeBehind) {
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

  /**
   * Drops what waits for an engine that is gone, held or in its backlog, and returns the requests
   * whose SUBMIT was held for it, in order, each with the {@code bound} it had; a request whose
   * abort was held too is marked {@code abortRequested}.
   */
  List<PendingRequest> forgetEngine(Peer engine) {
    backlogs.remove(engine);
    List<PendingRequest> unsent = List.of();
    for (int i = 0; i < held; i++) {
      if (!engine.equals(heldTo[i])) {
        continue;
      }
      heldTo[i] = null;
      PendingRequest r = heldAbout[i];
      if ((heldFlags[i] & SUBMIT) != 0) {
        if (unsent.isEmpty()) {
          unsent = new ArrayList<>();
        }
        r.bound = heldBounds[i];
        unsent.add(r);
      } else if ((heldFlags[i] & ABORT) != 0 && unsent.contains(r)) {
        r.abortRequested = true;
      }
    }
    return unsent;
  }

  /** Whether sends are held, waiting for {@link #release}. */
  boolean holding() {
    return held > 0;
  }

  /** Whether {@link #HOLD_MAX} or more sends are held. */
  boolean full() {
    return held >= HOLD_MAX;
  }

  /**
   * Sends what is held, in order, and what handling a failed send holds meanwhile (FAILED answers,
   * aborts); a send that fails is handled as one that failed at once. Only between messages, never
   * while a request is being routed: a lost engine's requests are queued to be routed again.
   */
  void release() {
    if (releasing) {
      return; // the release under way sends it
    }
    releasing = true;
    try {
      for (int i = 0; i < held; i++) {
        Peer to = heldTo[i];
        if (to == null) {
          continue; // its engine was forgotten, or lost earlier in this release
        }
        int flags = heldFlags[i];
        if ((flags & TO_CLIENT) != 0) {
          if (sendToClient(to, heldFrames[i]) && flags == REPLY) {
            metrics.completed.inc();
          }
        } else if (!sendToEngine(to, heldFrames[i], (flags & MAY_BE_BEHIND) != 0)) {
          engineLost.accept(to); // forgets this send and the engine's later ones
        } else if ((flags & SUBMIT) != 0) {
          submitSent.accept(heldAbout[i]);
        }
      }
    } finally {
      Arrays.fill(heldTo, 0, held, null);
      Arrays.fill(heldFrames, 0, held, null);
      Arrays.fill(heldAbout, 0, held, null);
      Arrays.fill(heldBounds, 0, held, null);
      held = 0;
      releasing = false;
    }
  }

  private void hold(Peer to, byte[] frame, PendingRequest about, EngineBound bound, int flags) {
    if (held == heldTo.length) {
      int n = 2 * held;
      heldTo = Arrays.copyOf(heldTo, n);
      heldFrames = Arrays.copyOf(heldFrames, n);
      heldAbout = Arrays.copyOf(heldAbout, n);
      heldBounds = Arrays.copyOf(heldBounds, n);
      heldFlags = Arrays.copyOf(heldFlags, n);
    }
    heldTo[held] = to;
    heldFrames[held] = frame;
    heldAbout[held] = about;
    heldBounds[held] = bound;
    heldFlags[held] = flags;
    held++;
  }

  /** Sends a message to a client in its dialect (held, see above). */
  void toClient(Peer to, Message message) {
    toClient(to, message, false);
  }

  private void toClient(Peer to, Message message, boolean completes) {
    hold(
        to,
        codec.encode(pending.dialectOf(to), message),
        null,
        null,
        completes ? REPLY : TO_CLIENT);
  }

  /** Sends a frame to a client now; false (and the client is forgotten) if it is gone. */
  private boolean sendToClient(Peer to, byte[] frame) {
    boolean sent = sendFrame(to, frame);
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
  private boolean sendFrame(Peer to, byte[] frame) {
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
    if (pending.isClient(r.client)) {
      toClient(r.client, new ClientReply(r.clientRequestId, record), true);
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
   * (a minimal record: no copy of a huge prompt, nothing that can run out of memory twice). A
   * core_v0.16 client gets it inside a record of its release ({@link Records#inRecord}), a
   * core_v0.15 client with its release's 22 keys ({@link CoreV015Request#failed}).
   */
  void fail(PendingRequest r, String reason, boolean echo) {
    metrics.failed.inc();
    if (pending.isClient(r.client)) {
      RawValue params = echo ? r.samplingParams : RawValue.nil();
      double now = unixSeconds.getAsDouble();
      Dialect client = pending.dialectOf(r.client);
      if (client.buildsRecords()) { // core_v0.15: the keys its DynamicInferenceRequest takes
        toClient(
            r.client,
            new ClientReply(
                r.clientRequestId,
                CoreV015Request.failed(
                    r.requestId,
                    echo ? r.prompt : RawValue.nil(),
                    echo && r.coreV015 != null ? r.coreV015.promptTokens() : null,
                    params,
                    now,
                    reason)));
        return;
      }
      RawValue record =
          Records.failed(r.requestId, echo ? r.prompt : RawValue.nil(), params, now, reason);
      if (client.nestsRecords()) {
        record = Records.inRecord(record); // what a core_v0.16 client deserializes
      }
      toClient(r.client, new ClientReply(r.clientRequestId, record));
    }
  }
}
