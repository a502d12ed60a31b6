package io.dpcoord.server;

import io.dpcoord.protocol.AbortRequest;
import io.dpcoord.protocol.Connect;
import io.dpcoord.protocol.ControlAck;
import io.dpcoord.protocol.ControlSignal;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.Disconnect;
import io.dpcoord.protocol.EngineReply;
import io.dpcoord.protocol.EngineReplyPartial;
import io.dpcoord.protocol.EngineStep;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.Registration;
import io.dpcoord.protocol.ReleaseKv;
import io.dpcoord.protocol.SetGenerationEpoch;
import io.dpcoord.protocol.Shutdown;
import io.dpcoord.protocol.SubmitRequest;
import io.dpcoord.protocol.SubmitRequestWithKv;
import io.dpcoord.routing.Router;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import zmq.Msg;
import zmq.io.Metadata;

/**
 * The coordinator's single-threaded event loop: one thread owns the ROUTER socket and all state.
 *
 * <p>Design notes. Each iteration receives one message ({@code [identity, payload]}), decodes it
 * with {@link MessageCodec}, checks that its sender may send it ({@link #isPermitted}) and calls
 * the {@link Conductor} handler named for it, found in a table built once. Nothing a peer sends can
 * stop the loop: invalid frames are counted and dropped, a handler that throws is counted as an
 * internal error, and the loop goes on. When it stops (SHUTDOWN, or {@code stop}), everything still
 * pending is answered FAILED.
 */
final class EventLoop {
  private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);

  /**
   * The payload the ROUTER delivers (ZMQ_DISCONNECT_MSG) when a peer's connection drops: 0xc1, the
   * one byte msgpack never uses, so no valid message looks like it, then 16 random bytes drawn when
   * the process starts, so that no peer can forge its own (or anyone's) farewell.
   */
  static final byte[] DISCONNECT_NOTE = unforgeableNote();

  /** 0xc1 then 16 random bytes: a payload no peer can send by chance or by design. */
  static byte[] unforgeableNote() {
    byte[] note = new byte[17];
    new SecureRandom().nextBytes(note);
    note[0] = (byte) 0xc1;
    return note;
  }

  /** Who may send a message, and what a peer that may not is told in the log. */
  private enum Sender {
    /** A client that has connected. */
    CLIENT("not a connected client"),
    /** Any peer but an engine (a client's handshake). */
    NOT_ENGINE("an engine cannot connect as a client"),
    /** A peer that registered as an engine. */
    ENGINE("not a registered engine"),
    /** Any peer but a connected client (an engine's registration). */
    NOT_CLIENT("a connected client cannot register as an engine");

    final String refusal;

    Sender(String refusal) {
      this.refusal = refusal;
    }
  }

  /**
   * A message type's handler, who may send it, and the rights ({@link AccessRules}) its sender's
   * connection needs.
   */
  private record Route(Sender sender, int rights, Consumer<Inbound> handler) {}

  /**
   * Megatron 0.18's CONNECT, {@code [1]}: in 0.19's numbering a CONNECT_ACK, which no client sends.
   */
  private static final byte[] OLD_CONNECT = {(byte) 0x91, 0x01};

  /** Megatron core_v0.15's headers 2 to 6 (its CONNECT 0 and ACK 1 are main's). */
  private static final String[] CORE_V0_15 = {
    "SUBMIT_REQUEST", "ENGINE_REPLY", "PAUSE", "UNPAUSE", "STOP"
  };

  private static final Connect CONNECT = new Connect();

  private final ZMQ.Socket socket;
  private final StrandedPipes strandedPipes;
  private volatile int attachedPipes = -1;
  private final TokenizerWorkers workers;
  private final Dialect engineDialect;
  private final MessageCodec codec;
  private final Engines engines;
  private final PendingRequests pending = new PendingRequests();
  private final LoopMetrics metrics;
  private final Conductor conductor;
  private final RateLimitedLog warnings;
  private final LongSupplier nanoTime;
  private final Map<Class<? extends Message>, Route> routes = new HashMap<>();
  private final AccessRules access;
  private final Map<String, Integer> rightsByUserId = new HashMap<>();
  private Metadata metadata; // of the message being handled
  private long lastHousekeepingNanos;

  EventLoop(
      ZContext context,
      ZMQ.Socket socket,
      CoordinatorConfig config,
      ScheduleWriter schedule,
      CoordinatorStatus status,
      LongSupplier nanoTime) {
    this.socket = socket;
    this.strandedPipes = new StrandedPipes(socket);
    this.workers = new TokenizerWorkers(context, socket, config.tokenizerThreads());
    this.engineDialect = config.engineDialect();
    this.nanoTime = nanoTime;
    this.access = config.access();
    this.codec = new MessageCodec(config.limits().maxPromptTokens());
    this.warnings = new RateLimitedLog(LOG::warn, TimeUnit.SECONDS.toNanos(1), nanoTime);
    this.metrics = new LoopMetrics(config.metrics());
    codec.recognisePrompts(pending::forwardedPrompt);
    Router router = new Router(config.routing());
    this.engines = new Engines(router, config.expectedEngines());
    Outbox outbox =
        new Outbox(
            socket, config.engineDialect(), pending, metrics, config.unixSeconds(), warnings);
    this.conductor =
        new Conductor(
            config, engines, pending, router, workers, metrics, outbox, schedule, status, warnings,
            nanoTime);

    if (engineDialect.buildsRecords() && config.tokenizer() == null) {
      LOG.warn(
          "the engines run Megatron core_v0.15 and serve has no --tokenizer: text prompts will be"
              + " answered FAILED (its engines take token prompts only) and records will carry"
              + " no generated_text (its coordinator always detokenizes)");
    }
    int client = AccessRules.CLIENT;
    int control = AccessRules.CLIENT | AccessRules.CONTROL;
    int engine = AccessRules.ENGINE;
    on(Connect.class, Sender.NOT_ENGINE, client, conductor::onConnect);
    on(SubmitRequest.class, Sender.CLIENT, client, conductor::onSubmit);
    on(SubmitRequestWithKv.class, Sender.CLIENT, client, conductor::onSubmitWithKv);
    on(AbortRequest.class, Sender.CLIENT, client, conductor::onClientAbort);
    on(ReleaseKv.class, Sender.CLIENT, client, conductor::onReleaseKv);
    on(ControlSignal.class, Sender.CLIENT, control, conductor::onControl);
    on(SetGenerationEpoch.class, Sender.CLIENT, control, conductor::onControl);
    on(Shutdown.class, Sender.CLIENT, control, conductor::onShutdown);
    on(Registration.class, Sender.NOT_CLIENT, engine, this::onRegister);
    on(Disconnect.class, Sender.ENGINE, engine, conductor::onEngineDisconnect);
    on(EngineReply.class, Sender.ENGINE, engine, conductor::onEngineReply);
    on(EngineReplyPartial.class, Sender.ENGINE, engine, conductor::onEngineReplyPartial);
    on(EngineStep.class, Sender.ENGINE, engine, conductor::onEngineStep);
    on(ControlAck.class, Sender.ENGINE, engine, conductor::onControlAck);
  }

  private void on(
      Class<? extends Message> type, Sender sender, int rights, Consumer<Inbound> handler) {
    if (routes.put(type, new Route(sender, rights, handler)) != null) {
      throw new IllegalStateException("two handlers for " + type.getSimpleName());
    }
  }

  /** Runs until a SHUTDOWN arrives or {@code stop} returns true; then answers what is pending. */
  void run(BooleanSupplier stop) {
    try {
      while (!conductor.shutdownRequested() && !stop.getAsBoolean()) {
        byte[] identity;
        if (conductor.holdingSends()) {
          identity = socket.recv(ZMQ.DONTWAIT); // null when no message is ready
          if (identity == null) {
            conductor.releaseSends(); // the burst is over (Outbox)
            continue;
          }
        } else {
          identity = socket.recv(0); // returns null after the receive timeout
        }
        if (identity == null) {
          housekeeping();
          continue;
        }
        Peer from = new Peer(identity);
        List<byte[]> frames = receiveRest();
        long t0 = nanoTime.getAsLong();
        try {
          handle(from, frames, t0);
        } catch (RuntimeException e) {
          metrics.internalError.inc();
          LOG.error("internal error while handling a message from {}", from, e);
        } catch (OutOfMemoryError | StackOverflowError e) {
          frames = null; // the message may be what filled the heap: let it go first
          metrics.internalError.inc();
          conductor.failHandling(e);
          LOG.error("{} while handling a message from {}; serving on", e, from);
        }
        conductor.handled();
        conductor.flushBacklogs();
        metrics.processingLatency.recordNanos(nanoTime.getAsLong() - t0);
        if (t0 - lastHousekeepingNanos > TimeUnit.SECONDS.toNanos(1)) {
          housekeeping();
        }
      }
    } finally {
      workers.close();
      conductor.stop();
    }
  }

  /** The frames after the identity; {@link #metadata} becomes the connection's (ZAP rights). */
  private List<byte[]> receiveRest() {
    List<byte[]> frames = new ArrayList<>(1);
    metadata = null;
    while (socket.hasReceiveMore()) {
      Msg msg = socket.base().recv(0);
      if (msg == null) {
        break; // the context is closing
      }
      if (metadata == null) {
        metadata = msg.getMetadata();
      }
      frames.add(msg.data());
    }
    return frames;
  }

  private void handle(Peer from, List<byte[]> frames, long receivedNanos) {
    if (frames.size() != 1) {
      invalid(
          from,
          "a message of "
              + (frames.size() + 1)
              + " frames (expected identity + payload)"
              + splitMessage(frames));
      return;
    }
    byte[] frame = frames.get(0);
    if (Arrays.equals(frame, TokenizerWorkers.WAKE_NOTE)) {
      workers.runCompleted();
      return;
    }
    if (Arrays.equals(frame, DISCONNECT_NOTE)) {
      conductor.onPeerGone(from);
      return;
    }
    boolean engine = engines.isEngine(from);
    // core_v0.15's clients connect as main's do ([0]); with its engines, every peer speaks it
    Dialect dialect =
        engine || engineDialect.buildsRecords() ? engineDialect : pending.dialectOf(from);
    Message message;
    if (!engine
        && !pending.isClient(from)
        && !engineDialect.buildsRecords()
        && Arrays.equals(frame, OLD_CONNECT)) {
      // a client of Megatron 0.17/0.18 says hello, or of core_v0.16 when the engines run it
      dialect = engineDialect == Dialect.V0_16 ? Dialect.V0_16 : Dialect.V0_18;
      message = CONNECT;
    } else {
      try {
        message = codec.decode(dialect, Direction.TO_COORDINATOR, frame);
      } catch (ProtocolException e) {
        invalid(
            from, e.getMessage() + (engine ? otherDialect(frame) : olderClient(dialect, frame)));
        return;
      }
    }
    Route route = routes.get(message.getClass());
    String name = message.header() == null ? "a registration" : message.header().toString();
    if (route == null) {
      invalid(from, "no handler for " + name);
    } else if (!isPermitted(route.sender, from)) {
      metrics.unknownSender.inc();
      warnings.warn(
          "sender:" + name, "dropped " + name + " from " + from + ": " + route.sender.refusal);
    } else if (!hasRights(route.rights, from, name)) {
      return;
    } else {
      route.handler.accept(new Inbound(from, dialect, message, frame, receivedNanos));
    }
  }

  /**
   * Whether the connection of the message being handled has {@code needed}; if not, the message is
   * counted and logged under the first right it lacks.
   */
  private boolean hasRights(int needed, Peer from, String name) {
    int missing = needed & ~rights();
    if (missing == 0) {
      return true;
    }
    int right = Integer.lowestOneBit(missing);
    (right == AccessRules.ENGINE
            ? metrics.refusedEngine
            : right == AccessRules.CLIENT ? metrics.refusedClient : metrics.refusedControl)
        .inc();
    refuse(from, name, "not in " + access.describe(right));
    return false;
  }

  /** The rights the ZAP handler gave the connection of the message being handled. */
  private int rights() {
    if (!access.checksPeers()) {
      return AccessRules.ALL;
    }
    String userId = metadata == null ? null : metadata.get(Metadata.USER_ID);
    return userId == null ? 0 : rightsByUserId.computeIfAbsent(userId, AccessRules::parseRights);
  }

  private void refuse(Peer from, String name, String rule) {
    String address = metadata == null ? null : metadata.get(Metadata.PEER_ADDRESS);
    warnings.warn(
        "refused:" + name + ":" + address,
        "refused " + name + " from " + from + " at " + address + ": " + rule);
  }

  /** A registration: refused when the identity does not match the engine identity pattern. */
  private void onRegister(Inbound in) {
    if (access.engineIdentityAllowed(in.from().id())) {
      conductor.onRegister(in);
    } else {
      metrics.refusedEngine.inc();
      String id = in.from().toString();
      refuse(
          in.from(),
          "a registration",
          "the identity does not match --engine-identity-pattern "
              + access.engineIdentityPattern()
              + (id.startsWith("tp-coord-") && engineDialect != Dialect.V0_15
                  ? " (tp-coord-RANK is a Megatron core_v0.15 engine: serve --engine-wire 0.15)"
                  : ""));
    }
  }

  /** Whether {@code from} may send what {@code sender} allows; clients and engines never mix. */
  private boolean isPermitted(Sender sender, Peer from) {
    return switch (sender) {
      case CLIENT -> pending.isClient(from);
      case NOT_ENGINE -> !engines.isEngine(from);
      case ENGINE -> engines.isEngine(from);
      case NOT_CLIENT -> !pending.isClient(from);
    };
  }

  /**
   * When an engine's frame reads in the other release's numbering: a hint naming the flag that sets
   * the engines' dialect; else nothing.
   */
  private String otherDialect(byte[] frame) {
    // newest first: 0.16's messages that 0.18 also has read the same in both
    for (Dialect other : List.of(Dialect.V0_19, Dialect.V0_18, Dialect.V0_16, Dialect.V0_15)) {
      if (other == engineDialect) {
        continue;
      }
      try {
        Message m = codec.decode(other, Direction.TO_COORDINATOR, frame);
        return " (it reads as Megatron "
            + other.cliName()
            + "'s "
            + m.header()
            + ": start serve with --engine-wire "
            + other.cliName()
            + ")";
      } catch (ProtocolException e) {
        // not this one either
      }
    }
    return "";
  }

  /**
   * When a client's frame is a message of a Megatron release before core_v0.17, whose protocols the
   * coordinator speaks only with engines of that release (docs/COMPATIBILITY.md): a hint naming it;
   * else nothing. A core_v0.15 client's CONNECT {@code [0]} and its ACK {@code [1]} are main's, so
   * its handshake succeeds and its next message (headers 2 to 6) is the first to fail. A core_v0.16
   * client's CONNECT and SUBMIT are 0.18's; only its RESUME {@code [9]} (0.18's
   * SET_GENERATION_EPOCH, without the epoch) fails to decode.
   */
  private static String olderClient(Dialect dialect, byte[] frame) {
    // a fixarray whose first element, the header, is a positive fixint
    int header = frame.length > 1 && (frame[0] & 0xf0) == 0x90 ? frame[1] : -1;
    if (dialect == Dialect.V0_19 && header >= 2 && header <= 6) {
      return " (it reads as Megatron core_v0.15's "
          + CORE_V0_15[header - 2]
          + ": core_v0.15 clients are served with core_v0.15 engines and serve --engine-wire"
          + " 0.15, docs/COMPATIBILITY.md)";
    }
    if (dialect == Dialect.V0_18 && header == 9 && frame.length == 2) {
      return " (it reads as Megatron core_v0.16's RESUME: core_v0.16 clients are served with"
          + " core_v0.16 engines and serve --engine-wire 0.16, docs/COMPATIBILITY.md)";
    }
    return "";
  }

  /**
   * When a message of several frames starts with a msgpack array, as a header and its fields in a
   * frame of their own followed by body frames (a change to Megatron's wire proposed in August
   * 2026, not in a release): a hint that this wire is not spoken; else nothing.
   */
  private static String splitMessage(List<byte[]> frames) {
    if (frames.isEmpty()) {
      return ""; // the identity alone (a ROUTER never delivers one, but handle must not throw)
    }
    byte[] first = frames.get(0);
    int t = first.length == 0 ? 0 : first[0] & 0xff;
    boolean array = (t >= 0x90 && t <= 0x9f) || t == 0xdc || t == 0xdd;
    return array
        ? "; a header frame followed by body frames is not Megatron's wire in any release and is"
            + " not spoken here (docs/COMPATIBILITY.md)"
        : "";
  }

  private void invalid(Peer from, String reason) {
    metrics.invalidMessage.inc();
    warnings.warn("invalid", "dropped invalid message from " + from + ": " + reason);
  }

  private void housekeeping() {
    lastHousekeepingNanos = nanoTime.getAsLong();
    workers.runCompleted();
    conductor.housekeeping();
    strandedPipes.release();
    attachedPipes = strandedPipes.attached();
  }

  /** The pipes attached to the ROUTER at the last housekeeping (-1: unknown); any thread. */
  int attachedPipes() {
    return attachedPipes;
  }
}
