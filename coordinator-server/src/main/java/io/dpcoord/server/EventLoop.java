package io.dpcoord.server;

import io.dpcoord.metrics.CoordinatorMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.AbortRequest;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.ClientReplyPartial;
import io.dpcoord.protocol.ConnectAck;
import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.EngineReply;
import io.dpcoord.protocol.EngineReplyPartial;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.protocol.EngineSubmitWithKv;
import io.dpcoord.protocol.Header;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.Records;
import io.dpcoord.protocol.Registration;
import io.dpcoord.protocol.ReplyRecord;
import io.dpcoord.protocol.SetGenerationEpoch;
import io.dpcoord.protocol.SubmitRequest;
import io.dpcoord.protocol.SubmitRequestWithKv;
import io.dpcoord.routing.BlockHasher;
import io.dpcoord.routing.Decision;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.routing.Tokenizer;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * The coordinator's single-threaded event loop: one thread owns the ROUTER socket and all state.
 *
 * <p>Design notes. Each iteration receives one message ({@code [identity, payload]}), decodes it
 * with {@link MessageCodec} and dispatches it through a handler table built once, keyed by header.
 * Nothing a peer sends can stop the loop: invalid frames are counted and dropped, a handler that
 * throws is counted as an internal error, and the loop goes on. Sends never block: they use
 * DONTWAIT and a failed send (EHOSTUNREACH, or EAGAIN from a pipe whose peer is gone) means the
 * peer is gone. An engine that goes away (DISCONNECT, a dropped connection, an unreachable send, or
 * a re-registration after a restart) is removed from routing and every request pending on it is
 * answered FAILED by the coordinator, so each accepted request gets exactly one terminal reply.
 * Routing decisions come from {@link Router}; metrics are recorded once per event through handles
 * resolved in the constructor.
 */
final class EventLoop {
  private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);

  /**
   * The payload the ROUTER delivers (ZMQ_DISCONNECT_MSG) when a peer's connection drops: 0xc1, the
   * one byte msgpack never uses, so no valid message looks like it, then 16 random bytes drawn when
   * the process starts, so that no peer can forge its own (or anyone's) farewell.
   */
  static final byte[] DISCONNECT_NOTE = disconnectNote();

  private static byte[] disconnectNote() {
    byte[] note = new byte[17];
    new SecureRandom().nextBytes(note);
    note[0] = (byte) 0xc1;
    return note;
  }

  /** SUBMITs held while the coordinator waits for its start-up engines. */
  private static final int MAX_STARTUP_BACKLOG = 100_000;

  private enum Role {
    CLIENT,
    ENGINE
  }

  @FunctionalInterface
  private interface Handler {
    void handle(Peer from, Message message, byte[] frame, long receivedNanos);
  }

  private record Route(Role role, Handler handler) {}

  private final ZMQ.Socket socket;
  private final CoordinatorConfig config;
  private final RouterConfig routingConfig;
  private final Router routing;
  private final BlockHasher hasher;
  private final Tokenizer tokenizer;
  private final MessageCodec codec = new MessageCodec();
  private final LongSupplier nanoTime;
  private final ScheduleWriter schedule;
  private final CoordinatorStatus status;
  private final RateLimitedLog warnings;
  private final Map<Header, Route> routes = new EnumMap<>(Header.class);

  private final Map<Peer, Map<Long, Long>> clients = new HashMap<>();
  private final Map<Peer, Integer> engines = new HashMap<>();
  private final Map<Integer, Peer> peerOfEngine = new HashMap<>();
  private final Set<Peer> formerEngines = new HashSet<>();
  private final Set<Peer> startupEngines = new LinkedHashSet<>();
  private final ArrayDeque<Held> startupBacklog = new ArrayDeque<>();
  private final Map<Long, PendingRequest> requests = new HashMap<>();

  private boolean started;
  private boolean shutdownRequested;
  private ControlState state = ControlState.RUNNING;
  private long nextRequestId;
  private SetGenerationEpoch lastEpoch;
  private long[] hashBuffer = new long[64];
  private long lastEvictedTotal;
  private long lastFlushNanos;

  private final CoordinatorMetrics.Counter cacheHit;
  private final CoordinatorMetrics.Counter cacheMiss;
  private final CoordinatorMetrics.Counter staleDetected;
  private final CoordinatorMetrics.Counter invalidMessage;
  private final CoordinatorMetrics.Counter internalError;
  private final CoordinatorMetrics.Counter unknownSender;
  private final CoordinatorMetrics.Counter engineUnreachable;
  private final CoordinatorMetrics.Counter allEnginesExhausted;
  private final CoordinatorMetrics.Histogram routingLatency;
  private final CoordinatorMetrics.Histogram processingLatency;
  private final CoordinatorMetrics.Gauge activeEngines;
  private final CoordinatorMetrics.Gauge inFlight;
  private final CoordinatorMetrics.Counter submitted;
  private final CoordinatorMetrics.Counter completed;
  private final CoordinatorMetrics.Counter failed;
  private final CoordinatorMetrics.Gauge knownClients;
  private final CoordinatorMetrics.Gauge indexEntries;
  private final CoordinatorMetrics.Counter indexEvicted;
  private final CoordinatorMetrics.Histogram prefixMatchRatio;

  EventLoop(
      ZMQ.Socket socket,
      CoordinatorConfig config,
      ScheduleWriter schedule,
      CoordinatorStatus status,
      LongSupplier nanoTime) {
    this.socket = socket;
    this.config = config;
    this.routingConfig = config.routing();
    this.routing = new Router(routingConfig);
    this.hasher = new BlockHasher(routingConfig.blockSize());
    this.tokenizer = config.tokenizer();
    this.schedule = schedule;
    this.status = status;
    this.nanoTime = nanoTime;
    this.warnings = new RateLimitedLog(LOG, TimeUnit.SECONDS.toNanos(1), nanoTime);

    CoordinatorMetrics m = config.metrics();
    cacheHit = m.counter(Metric.ROUTING_CACHE_HIT_TOTAL);
    cacheMiss = m.counter(Metric.ROUTING_CACHE_MISS_TOTAL);
    staleDetected = m.counter(Metric.ROUTING_STALE_DETECTED_TOTAL);
    invalidMessage = m.counter(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL);
    internalError = m.counter(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL);
    unknownSender = m.counter(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL);
    engineUnreachable = m.counter(Metric.COORDINATOR_ENGINE_UNREACHABLE_TOTAL);
    allEnginesExhausted = m.counter(Metric.COORDINATOR_ALL_ENGINES_EXHAUSTED_TOTAL);
    routingLatency = m.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS);
    processingLatency = m.histogram(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS);
    activeEngines = m.gauge(Metric.COORDINATOR_ACTIVE_ENGINES);
    inFlight = m.gauge(Metric.COORDINATOR_REQUESTS_IN_FLIGHT);
    submitted = m.counter(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL);
    completed = m.counter(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL);
    failed = m.counter(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL);
    knownClients = m.gauge(Metric.COORDINATOR_KNOWN_CLIENTS);
    indexEntries = m.gauge(Metric.ROUTING_INDEX_ENTRIES);
    indexEvicted = m.counter(Metric.ROUTING_INDEX_EVICTED_TOTAL);
    prefixMatchRatio = m.histogram(Metric.ROUTING_PREFIX_MATCH_RATIO);

    on(Header.CONNECT, Role.CLIENT, (from, msg, frame, t) -> connect(from));
    on(Header.SUBMIT_REQUEST, Role.CLIENT, (from, msg, frame, t) -> submit(from, msg, t));
    on(Header.SUBMIT_REQUEST_WITH_KV, Role.CLIENT, (from, msg, frame, t) -> submit(from, msg, t));
    on(Header.ABORT_REQUEST, Role.CLIENT, (from, msg, frame, t) -> abort(from, msg));
    on(Header.RELEASE_KV, Role.CLIENT, (from, msg, frame, t) -> broadcast(frame));
    for (Header signal :
        List.of(
            Header.PAUSE,
            Header.UNPAUSE,
            Header.SUSPEND,
            Header.RESUME,
            Header.SET_GENERATION_EPOCH,
            Header.STOP,
            Header.START_CUDA_PROFILER,
            Header.STOP_CUDA_PROFILER)) {
      on(signal, Role.CLIENT, (from, msg, frame, t) -> control(msg, frame));
    }
    on(Header.SHUTDOWN, Role.CLIENT, (from, msg, frame, t) -> shutdownRequested = true);
    on(Header.ENGINE_REPLY, Role.ENGINE, (from, msg, frame, t) -> reply(from, (EngineReply) msg));
    on(
        Header.ENGINE_REPLY_PARTIAL,
        Role.ENGINE,
        (from, msg, frame, t) -> partial(from, (EngineReplyPartial) msg));
    on(Header.DISCONNECT, Role.ENGINE, (from, msg, frame, t) -> removeEngine(from, "disconnected"));

    started = config.expectedEngines() == 0;
    publishEngineCount();
    status.started(started);
  }

  private void on(Header header, Role role, Handler handler) {
    if (routes.put(header, new Route(role, handler)) != null) {
      throw new IllegalStateException("two handlers for " + header);
    }
  }

  /** Runs until a SHUTDOWN arrives or {@code stop} returns true; then answers what is pending. */
  void run(BooleanSupplier stop) {
    try {
      while (!shutdownRequested && !stop.getAsBoolean()) {
        byte[] identity = socket.recv(0); // returns null after the receive timeout
        if (identity == null) {
          housekeeping();
          continue;
        }
        List<byte[]> frames = receiveRest();
        long t0 = nanoTime.getAsLong();
        try {
          handle(new Peer(identity), frames, t0);
        } catch (RuntimeException e) {
          internalError.inc();
          LOG.error("internal error while handling a message from {}", new Peer(identity), e);
        }
        processingLatency.recordNanos(nanoTime.getAsLong() - t0);
        if (t0 - lastFlushNanos > TimeUnit.SECONDS.toNanos(1)) {
          housekeeping();
        }
      }
    } finally {
      failEverything("coordinator shutting down");
      closeSchedule();
    }
  }

  private List<byte[]> receiveRest() {
    List<byte[]> frames = new ArrayList<>(1);
    while (socket.hasReceiveMore()) {
      frames.add(socket.recv(0));
    }
    return frames;
  }

  private void handle(Peer from, List<byte[]> frames, long receivedNanos) {
    if (frames.size() != 1) {
      invalid(
          from, "a message of " + (frames.size() + 1) + " frames (expected identity + payload)");
      return;
    }
    byte[] frame = frames.get(0);
    if (Arrays.equals(frame, DISCONNECT_NOTE)) {
      peerGone(from);
      return;
    }
    Message message;
    try {
      message = codec.decode(Direction.TO_COORDINATOR, frame);
    } catch (ProtocolException e) {
      invalid(from, e.getMessage());
      return;
    }
    if (message instanceof Registration) {
      register(from);
      return;
    }
    Route route = routes.get(message.header());
    if (route == null) {
      invalid(from, "no handler for " + message.header());
      return;
    }
    boolean allowed =
        route.role == Role.ENGINE
            ? isEngine(from)
            : clients.containsKey(from) || (message.header() == Header.CONNECT && !isEngine(from));
    if (!allowed) {
      unknownSender.inc();
      warnings.warn(
          "sender:" + message.header(),
          "dropped "
              + message.header()
              + " from "
              + from
              + ": not a "
              + (route.role == Role.ENGINE ? "registered engine" : "connected client"));
      return;
    }
    route.handler.handle(from, message, frame, receivedNanos);
  }

  private void invalid(Peer from, String reason) {
    invalidMessage.inc();
    warnings.warn("invalid", "dropped invalid message from " + from + ": " + reason);
  }

  private boolean isEngine(Peer p) {
    return engines.containsKey(p) || formerEngines.contains(p) || startupEngines.contains(p);
  }

  // ---------------------------------------------------------------- clients

  private void connect(Peer from) {
    // Megatron ignores a repeated CONNECT; answering again lets a reconnecting client proceed.
    clients.computeIfAbsent(from, p -> new HashMap<>());
    knownClients.set(clients.size());
    send(from, new ConnectAck());
  }

  private void submit(Peer from, Message message, long receivedNanos) {
    PendingRequest request;
    EngineBound bound;
    if (message instanceof SubmitRequest s) {
      request = accept(from, s.clientRequestId(), s.prompt(), s.samplingParams(), receivedNanos);
      RawValue media = s.multiModalData() == null ? RawValue.nil() : s.multiModalData();
      byte[] frame =
          codec.encode(new EngineSubmit(request.requestId, s.prompt(), s.samplingParams(), media));
      bound = new EngineBound(frame, s.prompt(), media.isNil());
    } else {
      SubmitRequestWithKv s = (SubmitRequestWithKv) message;
      request = accept(from, s.clientRequestId(), s.prompt(), s.samplingParams(), receivedNanos);
      byte[] frame =
          codec.encode(
              new EngineSubmitWithKv(
                  request.requestId, s.prompt(), s.samplingParams(), s.kvMeta(), s.srcBlockIds()));
      bound = new EngineBound(frame, s.prompt(), false);
    }
    if (!started) {
      if (startupBacklog.size() >= MAX_STARTUP_BACKLOG) {
        unpend(request);
        fail(request, "the coordinator is still waiting for its start-up engines");
      } else {
        startupBacklog.add(new Held(request, bound));
      }
      return;
    }
    dispatch(request, bound);
  }

  /** The frame to send to an engine and what routing may use of it. */
  private record EngineBound(byte[] frame, Prompt prompt, boolean prefixEligible) {}

  /** A request accepted while the coordinator waits for its start-up engines. */
  private record Held(PendingRequest request, EngineBound bound) {}

  /**
   * Accepts a request: from here on it is pending (in flight, abortable) until its one terminal
   * reply, whether it is routed at once or held for the start-up engines.
   */
  private PendingRequest accept(
      Peer from, long clientRequestId, Prompt prompt, RawValue samplingParams, long receivedNanos) {
    PendingRequest request =
        new PendingRequest(
            nextRequestId++, from, clientRequestId, prompt.raw(), samplingParams, receivedNanos);
    requests.put(request.requestId, request);
    clients.get(from).put(clientRequestId, request.requestId);
    submitted.inc();
    publishInFlight();
    return request;
  }

  /** Forgets a pending request (before its terminal reply is sent). */
  private void unpend(PendingRequest request) {
    requests.remove(request.requestId);
    forgetClientId(request);
  }

  /** Routes a request and sends it, retrying on the next best engine while sends fail. */
  private void dispatch(PendingRequest request, EngineBound bound) {
    int hashes = bound.prefixEligible ? hash(bound.prompt) : 0;
    boolean stale = false;
    while (routing.activeEngines() > 0) {
      Decision decision = routing.route(hashBuffer, hashes, bound.prefixEligible);
      stale |= decision.staleFound();
      Peer engine = peerOfEngine.get(decision.engine());
      if (!sendFrame(engine, bound.frame)) {
        engineUnreachable.inc();
        removeEngine(engine, "unreachable");
        continue;
      }
      routing.commit(decision, hashBuffer, hashes);
      request.engine = decision.engine();
      recordDecision(request, decision, stale, hashes);
      if (request.abortRequested) {
        abort(request); // the client aborted it while it was held for the start-up engines
      }
      return;
    }
    allEnginesExhausted.inc();
    unpend(request);
    fail(request, "no engine is available");
  }

  private void recordDecision(
      PendingRequest request, Decision decision, boolean stale, int hashes) {
    routingLatency.recordNanos(nanoTime.getAsLong() - request.receivedNanos);
    if (decision.prefixApplied()) {
      (decision.hit() ? cacheHit : cacheMiss).inc();
      prefixMatchRatio.observe(decision.matchFraction());
    }
    if (stale) {
      staleDetected.inc();
    }
    long evicted = routing.evictedTotal();
    if (evicted != lastEvictedTotal) {
      indexEvicted.inc(evicted - lastEvictedTotal);
      lastEvictedTotal = evicted;
    }
    indexEntries.set(routing.indexSize());
    if (schedule != null) {
      int used = routingConfig.policy() == Policy.FIRST_PREFIX_BLOCK ? Math.min(1, hashes) : hashes;
      try {
        schedule.record(request.requestId, decision.rank(), used);
      } catch (IOException e) {
        warnings.warn("schedule", "cannot write the schedule: " + e.getMessage());
      }
    }
  }

  /** Hashes the prompt's complete blocks into {@link #hashBuffer}; returns how many there are. */
  private int hash(Prompt prompt) {
    if (!routingConfig.prefixCaching() || routingConfig.policy() == Policy.LOAD_BALANCED) {
      return 0;
    }
    long[] tokens = prompt.isText() ? tokenizer.tokenize(prompt.text()) : prompt.tokens();
    int length = tokens.length;
    if (routingConfig.policy() == Policy.FIRST_PREFIX_BLOCK) {
      length = Math.min(length, hasher.blockSize()); // only the first block is ever used
    }
    int blocks = length / hasher.blockSize();
    if (hashBuffer.length < blocks) {
      hashBuffer = new long[Math.max(blocks, hashBuffer.length * 2)];
    }
    return hasher.hash(tokens, length, hashBuffer);
  }

  private void abort(Peer from, Message message) {
    long clientRequestId = ((AbortRequest) message).requestId();
    Long requestId = clients.get(from).get(clientRequestId);
    PendingRequest request = requestId == null ? null : requests.get(requestId);
    if (request == null) {
      return; // unknown or already answered: a no-op, as in Megatron
    }
    if (request.engine < 0) {
      request.abortRequested = true; // held for the start-up engines: abort once it is routed
      return;
    }
    abort(request);
  }

  /** Forwards an abort to the engine serving the request, as [23, rid]. */
  private void abort(PendingRequest request) {
    Peer engine = peerOfEngine.get(request.engine);
    if (engine != null && !send(engine, new AbortRequest(request.requestId))) {
      engineUnreachable.inc();
      removeEngine(engine, "unreachable");
    }
  }

  private void control(Message message, byte[] frame) {
    Header signal = message.header();
    if (ControlState.governs(signal)) {
      switch (state.outcome(signal)) {
        case IGNORE:
          return;
        case REJECT:
          invalidMessage.inc();
          warnings.warn("control:" + signal, "rejected " + signal + " in state " + state);
          return;
        case APPLY:
          state = state.after(signal);
          status.controlState(state);
          if (message instanceof SetGenerationEpoch epoch && !epoch.equals(lastEpoch)) {
            lastEpoch = epoch; // the same epoch again means the same weights
            routing.newEpoch();
          }
          break;
      }
    }
    broadcast(frame);
  }

  /** Sends a frame as it is to every active engine, removing the ones that are gone. */
  private void broadcast(byte[] frame) {
    List<Peer> gone = null;
    for (Peer engine : engines.keySet()) {
      if (!sendFrame(engine, frame)) {
        engineUnreachable.inc();
        if (gone == null) {
          gone = new ArrayList<>();
        }
        gone.add(engine);
      }
    }
    if (gone != null) {
      gone.forEach(engine -> removeEngine(engine, "unreachable"));
    }
  }

  // ---------------------------------------------------------------- engines

  private void register(Peer from) {
    if (clients.containsKey(from)) {
      unknownSender.inc();
      warnings.warn("register-client", "ignored an engine registration from client " + from);
      return;
    }
    if (!started) {
      startupEngines.add(from);
      formerEngines.remove(from);
      LOG.info(
          "engine {} registered ({}/{})", from, startupEngines.size(), config.expectedEngines());
      if (startupEngines.size() == config.expectedEngines()) {
        finishStartup();
      }
      return;
    }
    Integer previous = engines.get(from);
    int engine = routing.register(from.id());
    if (previous != null) {
      peerOfEngine.remove(previous);
      failPendingOn(previous, "engine " + from + " restarted with the request pending");
      LOG.warn("engine {} re-registered (restarted): its cache entries are stale", from);
    } else {
      LOG.info("engine {} registered late as rank {}", from, routing.rankOf(engine));
    }
    engines.put(from, engine);
    peerOfEngine.put(engine, from);
    formerEngines.remove(from);
    publishEngineCount();
  }

  private void finishStartup() {
    List<Peer> peers = new ArrayList<>(startupEngines);
    List<byte[]> identities = new ArrayList<>(peers.size());
    peers.forEach(p -> identities.add(p.id()));
    int[] ids = routing.registerInitial(identities);
    for (int i = 0; i < ids.length; i++) {
      engines.put(peers.get(i), ids[i]);
      peerOfEngine.put(ids[i], peers.get(i));
    }
    startupEngines.clear();
    started = true;
    publishEngineCount();
    status.started(true);
    LOG.info("all {} start-up engines registered; serving", ids.length);
    for (Held held; (held = startupBacklog.poll()) != null; ) {
      dispatch(held.request, held.bound);
    }
  }

  /**
   * A peer's connection dropped: an engine leaves routing, a client is forgotten.
   *
   * <p>The note carries the identity its connection had when the note is read. When a restarted
   * engine reconnects with the same identity while the old connection is being torn down, the
   * socket hands the identity over and renames the old connection, so a note naming an engine
   * always concerns its current connection (checked: 100 immediate reconnects, no note for an
   * identity ever arrived after that identity's next registration).
   */
  private void peerGone(Peer from) {
    if (engines.containsKey(from) || startupEngines.contains(from)) {
      removeEngine(from, "disconnected");
      return;
    }
    LOG.debug("client {} disconnected", from);
    forgetClient(from);
  }

  /** Forgets a client that went away and spares the engines its unanswerable requests. */
  private void forgetClient(Peer client) {
    Map<Long, Long> ids = clients.remove(client);
    if (ids == null) {
      return;
    }
    knownClients.set(clients.size());
    for (Long requestId : ids.values()) {
      PendingRequest request = requests.get(requestId);
      Peer engine = request == null ? null : peerOfEngine.get(request.engine);
      if (engine != null) {
        send(engine, new AbortRequest(requestId));
      }
    }
  }

  private void removeEngine(Peer engine, String why) {
    Integer id = engines.remove(engine);
    if (id == null) {
      if (startupEngines.remove(engine)) {
        formerEngines.add(engine);
        LOG.warn("start-up engine {} {} before serving", engine, why);
      }
      return;
    }
    routing.remove(id);
    peerOfEngine.remove(id);
    formerEngines.add(engine);
    LOG.warn("engine {} {}: removed from routing ({} engines left)", engine, why, engines.size());
    failPendingOn(id, "engine " + engine + " " + why + " with the request pending");
    publishEngineCount();
  }

  private void failPendingOn(int engine, String reason) {
    List<PendingRequest> lost = new ArrayList<>();
    for (PendingRequest request : requests.values()) {
      if (request.engine == engine) {
        lost.add(request);
      }
    }
    for (PendingRequest request : lost) {
      unpend(request);
      fail(request, reason);
    }
  }

  private void reply(Peer from, EngineReply reply) {
    countInvalidRecords(from, reply.invalidRecords());
    for (ReplyRecord record : reply.records()) {
      PendingRequest request = requests.remove(record.requestId());
      if (request == null) {
        unexpectedReply(from, record.requestId());
        continue;
      }
      forgetClientId(request);
      routing.complete(request.engine);
      if (clients.containsKey(request.client)
          && send(request.client, new ClientReply(request.clientRequestId, record.raw()))) {
        completed.inc();
      }
    }
    publishInFlight();
  }

  private void partial(Peer from, EngineReplyPartial reply) {
    countInvalidRecords(from, reply.invalidRecords());
    for (ReplyRecord record : reply.records()) {
      PendingRequest request = requests.get(record.requestId());
      if (request == null) {
        unexpectedReply(from, record.requestId());
      } else if (clients.containsKey(request.client)) {
        send(request.client, new ClientReplyPartial(request.clientRequestId, record.raw()));
      }
    }
  }

  private void countInvalidRecords(Peer from, int count) {
    if (count > 0) {
      invalidMessage.inc(count);
      warnings.warn(
          "record", "dropped " + count + " reply record(s) from " + from + ": no int request_id");
    }
  }

  private void unexpectedReply(Peer from, long requestId) {
    invalidMessage.inc();
    warnings.warn(
        "late-reply",
        "dropped a reply from " + from + " for request " + requestId + ": not pending");
  }

  // ---------------------------------------------------------------- answers

  /** Answers a request FAILED on the engine's behalf (a record Megatron's client accepts). */
  private void fail(PendingRequest request, String reason) {
    failed.inc();
    publishInFlight();
    if (!clients.containsKey(request.client)) {
      return;
    }
    RawValue record =
        Records.failed(
            request.requestId,
            request.prompt,
            request.samplingParams,
            config.unixSeconds().getAsDouble(),
            reason);
    send(request.client, new ClientReply(request.clientRequestId, record));
  }

  private void forgetClientId(PendingRequest request) {
    Map<Long, Long> ids = clients.get(request.client);
    if (ids != null) {
      ids.remove(request.clientRequestId, request.requestId);
    }
  }

  private void failEverything(String reason) {
    List<PendingRequest> all = new ArrayList<>(requests.values());
    requests.clear();
    startupBacklog.clear(); // held requests are in `requests` too
    for (PendingRequest request : all) {
      fail(request, reason);
    }
    publishInFlight();
  }

  // ---------------------------------------------------------------- sending

  private boolean send(Peer to, Message message) {
    boolean sent = sendFrame(to, codec.encode(message));
    if (!sent && clients.containsKey(to)) {
      warnings.warn("client-gone", "client " + to + " is gone; its state was released");
      forgetClient(to);
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

  // ---------------------------------------------------------------- housekeeping

  private void housekeeping() {
    lastFlushNanos = nanoTime.getAsLong();
    if (schedule != null) {
      try {
        schedule.flush();
      } catch (IOException e) {
        warnings.warn("schedule", "cannot write the schedule: " + e.getMessage());
      }
    }
  }

  private void publishInFlight() {
    inFlight.set(requests.size());
    status.inFlight(requests.size());
  }

  private void publishEngineCount() {
    int count = started ? routing.activeEngines() : 0;
    activeEngines.set(count);
    status.activeEngines(count);
  }

  private void closeSchedule() {
    if (schedule != null) {
      try {
        schedule.close();
      } catch (IOException e) {
        LOG.warn("cannot write the schedule: {}", e.getMessage());
      }
    }
  }
}
