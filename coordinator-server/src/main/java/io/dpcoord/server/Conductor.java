package io.dpcoord.server;

import io.dpcoord.protocol.AbortRequest;
import io.dpcoord.protocol.ConnectAck;
import io.dpcoord.protocol.ControlAck;
import io.dpcoord.protocol.CoreV015Request;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.EngineReply;
import io.dpcoord.protocol.EngineReplyPartial;
import io.dpcoord.protocol.EngineStep;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.protocol.EngineSubmitWithKv;
import io.dpcoord.protocol.Header;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.ReplyRecord;
import io.dpcoord.protocol.SetGenerationEpoch;
import io.dpcoord.protocol.SubmitRequest;
import io.dpcoord.protocol.SubmitRequestWithKv;
import io.dpcoord.routing.Decision;
import io.dpcoord.routing.Router;
import io.dpcoord.tokenizers.TextTokenizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the coordinator does with each message: one handler per message, named for it, called by
 * {@link EventLoop} once it has decoded the message and checked its sender.
 *
 * <p>The handlers change state only through its owners: {@link Engines} (membership, the start-up
 * gate), {@link PendingRequests} (accepted requests, connected clients) and {@link Router} (ranks,
 * loads, the prefix index); they send through {@link Outbox}. Every accepted request gets exactly
 * one terminal reply: its engine's, or a FAILED record when its engine goes away, no engine is
 * left, routing it failed, or the coordinator stops. (The split follows Aeron's driver: an adapter
 * decodes and calls {@code conductor.onXxx}.)
 */
final class Conductor {
  private static final Logger LOG = LoggerFactory.getLogger(Conductor.class);

  /** Requests that may wait to be routed (for the start-up engines, or for their hashes). */
  private static final int MAX_WAITING = 100_000;

  private final RequestRouting routing;
  private final ReplyText replyText;
  private final Engines engines;
  private final PendingRequests pending;
  private final LoopMetrics metrics;
  private final Outbox outbox;
  private final CoordinatorStatus status;
  private final RateLimitedLog warnings;
  private final Limits limits;
  private final LongSupplier nanoTime;
  private final long requestTimeoutNanos;
  private final String timeoutReason;
  private final TimedOutRequests timedOut;
  private PendingRequest handling; // accepted by the message being handled

  private ControlState state = ControlState.RUNNING;
  private SetGenerationEpoch lastEpoch;
  private boolean shutdownRequested;
  // core_v0.16 engines: by PAUSE_ACK and STOP_ACK, those that acknowledged since the last relay,
  // and those that got the signal acknowledged (none sent yet: every active engine)
  private final Map<Header, Set<Peer>> acks =
      new EnumMap<>(Map.of(Header.PAUSE_ACK, new HashSet<>(), Header.STOP_ACK, new HashSet<>()));
  private final Map<Header, Set<Peer>> signalled = new EnumMap<>(Header.class);
  // the engines run core_v0.19.0 (CoordinatorConfig.engineCoreV0190)
  private final boolean coreV0190;
  // core_v0.15 engines take token prompts only: text is tokenized with it (null: none configured)
  private final TextTokenizer tokenizer;

  Conductor(
      CoordinatorConfig config,
      Engines engines,
      PendingRequests pending,
      Router router,
      TokenizerWorkers workers,
      LoopMetrics metrics,
      Outbox outbox,
      ScheduleWriter schedule,
      CoordinatorStatus status,
      RateLimitedLog warnings,
      LongSupplier nanoTime) {
    this.routing =
        new RequestRouting(config, router, workers, metrics, schedule, warnings, nanoTime);
    this.replyText =
        new ReplyText(config.detokenize() ? config.tokenizer() : null, workers, metrics, warnings);
    this.engines = engines;
    this.pending = pending;
    this.metrics = metrics;
    this.outbox = outbox;
    outbox.listen(this::forgetClient, this::heldSendFailed, routing::recordSent);
    this.status = status;
    this.warnings = warnings;
    this.limits = config.limits();
    this.coreV0190 = config.engineCoreV0190();
    this.tokenizer = config.tokenizer();
    this.nanoTime = nanoTime;
    Duration timeout = config.requestTimeout();
    this.requestTimeoutNanos = timeout.toNanos();
    this.timeoutReason =
        "no reply within the request timeout of "
            + (timeout.toMillis() % 1000 == 0
                ? timeout.toSeconds() + " s"
                : timeout.toMillis() + " ms")
            + " (serve --request-timeout)";
    this.timedOut = timeout.isZero() ? null : new TimedOutRequests();
    publishEngineCount();
    status.started(engines.started());
  }

  /** Whether a client asked the coordinator to shut down. */
  boolean shutdownRequested() {
    return shutdownRequested;
  }

  // ---------------------------------------------------------------- clients

  void onConnect(Inbound in) {
    if (outbox.engineDialect().nestsRecords() && in.dialect() != outbox.engineDialect()) {
      metrics.invalidMessage.inc();
      warnings.warn(
          "connect:" + in.dialect(),
          "did not answer the CONNECT of "
              + in.from()
              + ": it is a Megatron "
              + in.dialect().cliName()
              + " client's, and the engines run core_v0.16 (--engine-wire 0.16), whose records"
              + " only core_v0.16 clients read; they connect with [1]");
      return;
    }
    if (!pending.isClient(in.from()) && pending.clients() >= limits.maxClients()) {
      metrics.limitRejected.inc();
      warnings.warn(
          "limit:clients",
          "did not answer the CONNECT of "
              + in.from()
              + ": "
              + pending.clients()
              + " clients are connected, the most --max-clients allows");
      return;
    }
    // Megatron ignores a repeated CONNECT; answering again lets a reconnecting client proceed.
    pending.connect(in.from(), in.dialect());
    metrics.knownClients.set(pending.clients());
    outbox.toClient(in.from(), new ConnectAck());
  }

  void onSubmit(Inbound in) {
    SubmitRequest s = (SubmitRequest) in.message();
    PendingRequest r = accept(in, s.clientRequestId(), s.prompt(), s.samplingParams());
    if (overLimit(r, s.prompt())) {
      return;
    }
    if (outbox.engineDialect().buildsRecords()) {
      submitToCoreV015(r, s);
      return;
    }
    RawValue media = s.multiModalData() == null ? RawValue.nil() : s.multiModalData();
    if (!media.isNil() && enginesLackMainsRequests()) {
      answerFailed(
          r, "the engines run Megatron " + engineRelease() + ", which cannot take multimodal data");
      return;
    }
    // main's form (multi_modal_data nil when there is none) or core_v0.19.0's three fields
    byte[] frame =
        outbox.engineFrame(
            new EngineSubmit(
                r.requestId, s.prompt(), s.samplingParams(), coreV0190 ? null : media));
    admit(r, new EngineBound(frame, s.prompt(), media.isNil()));
  }

  /**
   * A SUBMIT for core_v0.15 engines, which take the prompt as tokens. A text prompt is tokenized on
   * a worker (that release's coordinator does it on its loop), and its SUBMIT written when its turn
   * to be routed comes, in arrival order ({@link #tokenizedForCoreV015}). The request's steps are
   * gathered into its record ({@link CoreV015Request}) until its engine says it finished.
   */
  private void submitToCoreV015(PendingRequest r, SubmitRequest s) {
    Prompt prompt = s.prompt();
    if (!prompt.isText()) {
      admit(r, boundForCoreV015(r, prompt, prompt.tokens()));
    } else if (tokenizer == null) {
      answerFailed(
          r,
          "the engines run Megatron core_v0.15, which takes token prompts only, and serve has no"
              + " --tokenizer to tokenize text");
    } else {
      admit(r, new EngineBound(null, prompt, true)); // its SUBMIT once tokenized
    }
  }

  /** The SUBMIT of a core_v0.15 request whose prompt's tokens are {@code tokens}. */
  private EngineBound boundForCoreV015(PendingRequest r, Prompt prompt, long[] tokens) {
    r.coreV015 = new CoreV015Request(r.requestId, prompt, tokens);
    Prompt asTokens = Prompt.ofTokens(tokens); // as its coordinator packs the list again
    byte[] frame =
        outbox.engineFrame(new EngineSubmit(r.requestId, asTokens, r.samplingParams, null));
    return new EngineBound(frame, asTokens, true);
  }

  /**
   * A core_v0.15 text request whose turn to be routed came: its SUBMIT from the tokens a worker
   * found (true), or, when the tokenizer could not read the text, answered FAILED (false).
   */
  private boolean tokenizedForCoreV015(PendingRequest r) {
    if (r.textTokens == null) {
      answerFailed(r, "the tokenizer cannot read the prompt: " + r.untokenizable);
      return false;
    }
    r.bound = boundForCoreV015(r, r.bound.prompt(), r.textTokens);
    r.textTokens = null;
    return true;
  }

  void onSubmitWithKv(Inbound in) {
    SubmitRequestWithKv s = (SubmitRequestWithKv) in.message();
    PendingRequest r = accept(in, s.clientRequestId(), s.prompt(), s.samplingParams());
    if (overLimit(r, s.prompt())) {
      return;
    }
    if (enginesLackMainsRequests()) {
      answerFailed(
          r,
          "the engines run Megatron " + engineRelease() + ", which has no SUBMIT_REQUEST_WITH_KV");
      return;
    }
    byte[] frame =
        outbox.engineFrame(
            new EngineSubmitWithKv(
                r.requestId, s.prompt(), s.samplingParams(), s.kvMeta(), s.srcBlockIds()));
    admit(r, new EngineBound(frame, s.prompt(), false));
  }

  /** From here on the request is pending (in flight, abortable) until its one terminal reply. */
  private PendingRequest accept(
      Inbound in, long clientRequestId, Prompt prompt, RawValue samplingParams) {
    PendingRequest r =
        pending.accept(
            in.from(), clientRequestId, prompt.raw(), samplingParams, in.receivedNanos());
    metrics.submitted.inc();
    publishInFlight();
    handling = r;
    return r;
  }

  /**
   * Answers a just-accepted request FAILED at once, naming the limit, when it is over one: its
   * prompt's tokens, the pending requests of all clients or of its own.
   */
  private boolean overLimit(PendingRequest r, Prompt prompt) {
    String limit;
    if (prompt.overLimitTokens() > 0) {
      limit =
          "the prompt has "
              + prompt.overLimitTokens()
              + " tokens, more than --max-prompt-tokens "
              + limits.maxPromptTokens();
    } else if (pending.size() > limits.maxPending()) {
      limit = limits.maxPending() + " requests are pending, the most --max-pending allows";
    } else if (pending.pendingOf(r.client) > limits.maxPendingPerClient()) {
      limit =
          "the client has "
              + limits.maxPendingPerClient()
              + " requests pending, the most --max-pending-per-client allows";
    } else {
      return false;
    }
    metrics.limitRejected.inc();
    warnings.warn(
        "limit:" + limit.substring(limit.indexOf("--")),
        "answered request " + r.clientRequestId + " of " + r.client + " FAILED: " + limit);
    answerFailed(r, limit, prompt.overLimitTokens() == 0);
    return true;
  }

  /**
   * The loop failed with an {@link Error} while handling a message: the request that message
   * brought, if still pending and not yet sent, is answered FAILED with a minimal record.
   */
  void failHandling(Throwable error) {
    PendingRequest r = handling;
    handling = null;
    if (r != null && pending.get(r.requestId) == r && r.engine == PendingRequests.UNROUTED) {
      answerFailed(r, "the coordinator could not handle the request: " + error, false);
    }
  }

  /** Sends what waits for the engines, as far as they read. */
  void flushBacklogs() {
    outbox.flushBacklogs();
  }

  /** The message being handled was handled; many held sends go out now (Outbox#HOLD_MAX). */
  void handled() {
    handling = null;
    if (outbox.full()) {
      releaseSends();
    }
  }

  /** Whether sends are held until the loop has read every message that is ready (Outbox). */
  boolean holdingSends() {
    return outbox.holding();
  }

  /**
   * Sends what is held: the loop has no message ready. The requests of an engine found gone by it
   * are routed again now.
   */
  void releaseSends() {
    outbox.release();
    routeReady();
  }

  /**
   * Queues an accepted request for routing: it is routed once the start-up engines are all there,
   * its hashes are computed and every request before it is routed (RequestRouting).
   */
  private void admit(PendingRequest r, EngineBound bound) {
    if (routing.waiting() >= MAX_WAITING) {
      answerFailed(
          r,
          engines.started()
              ? "too many requests are waiting to be routed"
              : "the coordinator is still waiting for its start-up engines");
      return;
    }
    r.bound = bound;
    routing.enqueue(r, this::routeReady);
    routeReady();
  }

  /** Routes the waiting requests that can be routed now, in arrival order. */
  private void routeReady() {
    for (PendingRequest r; (r = routing.next(engines.started(), pending)) != null; ) {
      dispatch(r);
    }
  }

  /** Routes a request and sends it; if routing throws, the request is answered FAILED. */
  private void dispatch(PendingRequest r) {
    try {
      route(r);
    } catch (RuntimeException e) {
      metrics.internalError.inc();
      LOG.error("internal error while routing request {} from {}", r.requestId, r.client, e);
      if (pending.get(r.requestId) == r) {
        answerFailed(r, "internal error in the coordinator while routing the request: " + e);
      }
    }
  }

  /**
   * Chooses an engine and holds the request's SUBMIT for it (Outbox); if that send fails, the
   * engine is removed and the request routed again (takeBackHeld).
   */
  private void route(PendingRequest r) {
    int count = routing.hash(r);
    if (r.bound.frame() == null && !tokenizedForCoreV015(r)) {
      return;
    }
    if (engines.activeCount() == 0) {
      metrics.allEnginesExhausted.inc();
      answerFailed(r, "no engine is available");
      return;
    }
    Decision decision = routing.choose(r, count);
    toEngine(engines.peerOf(decision.engine()), r.bound.frame(), r, true);
    routing.sent(r, decision, count);
    pending.routed(r, decision.engine());
    if (r.abortRequested) {
      forwardAbort(r); // the client aborted it while it waited to be routed
    }
  }

  void onClientAbort(Inbound in) {
    long clientRequestId = ((AbortRequest) in.message()).requestId();
    PendingRequest r = pending.ofClient(in.from(), clientRequestId);
    if (r == null) {
      return; // unknown or already answered: a no-op, as in Megatron
    }
    if (r.engine == PendingRequests.UNROUTED) {
      r.abortRequested = true; // waiting to be routed: abort once it is
    } else {
      forwardAbort(r); // a no-op once its engine has answered (FINISHING)
    }
  }

  /**
   * Sends {@code [ABORT_REQUEST, request_id]} to the engine serving the request. Megatron 0.18
   * engines have no abort: the request then runs to its end and is answered as usual.
   */
  private void forwardAbort(PendingRequest r) {
    Peer engine = engines.peerOf(r.engine);
    if (engine == null) {
      return;
    }
    if (enginesLackMainsRequests()) {
      warnings.warn(
          "abort-" + engineRelease(),
          "request "
              + r.requestId
              + ": the engines run Megatron "
              + engineRelease()
              + ", which cannot abort;"
              + " it runs to its end and is answered as usual");
    } else {
      abortOn(engine, r);
    }
  }

  /** Tells {@code engine} to abort {@code r}. */
  private void abortOn(Peer engine, PendingRequest r) {
    toEngine(engine, outbox.engineFrame(new AbortRequest(r.requestId)), r, false);
  }

  /**
   * Holds a frame for an engine (Outbox), which may be behind when the send finds its queue full:
   * that can be only if it has about {@code --max-queued-messages} unread, and every unread message
   * is a request pending on it or that request's abort; with fewer pending, a full queue means a
   * dead connection, and the request goes to another engine, as before the limit.
   */
  private void toEngine(Peer engine, byte[] frame, PendingRequest about, boolean submit) {
    long bound = 2L * pending.countOn(engines.idOf(engine)) + 64; // + control signals
    outbox.toEngine(engine, frame, bound >= limits.maxQueuedMessages(), about, submit);
  }

  /** A held send to {@code engine} failed (Outbox): it is gone, as when a send fails at once. */
  private void heldSendFailed(Peer engine) {
    if (engines.idOf(engine) >= 0) {
      unreachable(engine);
    } else {
      outbox.forgetEngine(engine); // removed already, and its requests with it
    }
  }

  /**
   * Whether the engines lack what main added to requests: multimodal data, aborts and KV handoff
   * (0.18 and core_v0.19.0 engines).
   */
  private boolean enginesLackMainsRequests() {
    return coreV0190 || oldEngines();
  }

  /** The engines' release, as messages name it. */
  private String engineRelease() {
    return coreV0190 ? "core_v0.19.0" : outbox.engineDialect().cliName();
  }

  /** Whether the engines speak a dialect older than main's (0.16 or 0.18). */
  private boolean oldEngines() {
    return !outbox.engineDialect().isMain();
  }

  /**
   * A control signal (or SET_GENERATION_EPOCH): applied to the state machine, then broadcast.
   * core_v0.15 and core_v0.16 engines get every signal, as that release's coordinator, which has no
   * state machine, sends them; a PAUSE or STOP starts the count of their acknowledgements anew
   * (onControlAck).
   */
  void onControl(Inbound in) {
    Header signal = in.message().header();
    if (outbox.engineDialect().nestsRecords()) {
      Header ack =
          signal == Header.STOP
              ? Header.STOP_ACK
              : signal == Header.PAUSE || signal == Header.UNPAUSE ? Header.PAUSE_ACK : null;
      if (ack != null) {
        acks.get(ack).clear();
        signalled.put(ack, new HashSet<>(engines.active()));
      }
    } else if (!outbox.engineDialect().buildsRecords() && ControlState.governs(signal)) {
      switch (state.outcome(signal)) {
        case IGNORE:
          return;
        case REJECT:
          metrics.invalidMessage.inc();
          warnings.warn("control:" + signal, "rejected " + signal + " in state " + state);
          return;
        case APPLY:
          state = state.after(signal);
          status.controlState(state);
          if (in.message() instanceof SetGenerationEpoch epoch && !epoch.equals(lastEpoch)) {
            lastEpoch = epoch; // the same epoch again means the same weights
            routing.newEpoch();
          }
          break;
      }
    }
    broadcast(in);
  }

  /**
   * A core_v0.16 engine acknowledges PAUSE or STOP. Once every active engine has, the coordinator
   * sends {@code [ack, identity of this engine]} to every client and {@code [ack]} to every engine,
   * as that release's coordinator does; after the STOP acknowledgements it ends. A repeated
   * acknowledgement is dropped and counted (that coordinator fails an assertion on it).
   */
  void onControlAck(Inbound in) {
    Header ack = in.message().header();
    if (!acks.get(ack).add(in.from())) {
      metrics.invalidMessage.inc();
      warnings.warn(
          "ack:" + ack, "dropped a repeated " + ack + " from " + in.from() + " (already counted)");
      return;
    }
    relayAcksIfComplete(ack, in.from());
  }

  /**
   * Relays an acknowledgement once every active engine that got its signal has sent it
   * (onControlAck), naming {@code last}; the count then starts anew. An engine that registered
   * after the signal never got it, so it is not waited for.
   */
  private void relayAcksIfComplete(Header ack, Peer last) {
    Set<Peer> acked = acks.get(ack);
    Set<Peer> got = signalled.get(ack);
    List<Peer> active = engines.active();
    if (acked.isEmpty() || active.isEmpty()) {
      return;
    }
    for (Peer engine : active) {
      if ((got == null || got.contains(engine)) && !acked.contains(engine)) {
        return;
      }
    }
    acked.clear();
    for (Peer client : List.copyOf(pending.clientPeers())) {
      outbox.toClient(client, new ControlAck(ack, last.id()));
    }
    byte[] frame = outbox.engineFrame(new ControlAck(ack));
    for (Peer engine : active) {
      toEngine(engine, frame, null, false);
    }
    if (ack == Header.STOP_ACK) {
      LOG.info("every engine acknowledged STOP: the coordinator ends, as Megatron core_v0.16's");
      shutdownRequested = true;
    }
  }

  void onReleaseKv(Inbound in) {
    broadcast(in);
  }

  /**
   * Sends a client's message to every active engine, removing the ones that are gone: the frame as
   * it is when client and engines speak the same dialect, else re-encoded in the engines' (a signal
   * their release lacks, a profiler signal or RELEASE_KV to 0.18 engines, is dropped).
   */
  private void broadcast(Inbound in) {
    Dialect engineDialect = outbox.engineDialect();
    byte[] frame = in.frame();
    Header h = in.message().header();
    // core_v0.19.0 has main's numbering but no RELEASE_KV (no KV handoff)
    if (!engineDialect.carries(h) || coreV0190 && h == Header.RELEASE_KV) {
      warnings.warn(
          "broadcast:" + h,
          "dropped "
              + h
              + " from "
              + in.from()
              + ": the engines run Megatron "
              + engineRelease()
              + ", which has no such message");
      return;
    }
    if (in.dialect() != engineDialect) {
      frame = outbox.engineFrame(in.message());
    }
    for (Peer engine : engines.active()) {
      toEngine(engine, frame, null, false);
    }
  }

  void onShutdown(Inbound in) {
    shutdownRequested = true;
  }

  /**
   * A peer's connection dropped: an engine leaves routing, a client is forgotten. The note names
   * the identity's current connection (docs/design/server.md).
   */
  void onPeerGone(Peer from) {
    if (engines.isEngine(from)) {
      removeEngine(from, "disconnected", true);
      routeReady();
    } else {
      forgetClient(from);
    }
  }

  /**
   * Forgets a client that went away and spares the engines its unanswerable requests: those sent
   * are aborted now, those still waiting to be routed once they are sent (as a client's own abort).
   */
  void forgetClient(Peer client) {
    for (PendingRequest r : pending.forgetClient(client)) {
      if (r.engine == PendingRequests.UNROUTED) {
        r.abortRequested = true;
        continue;
      }
      Peer engine = engines.peerOf(r.engine);
      if (engine != null && !enginesLackMainsRequests()) {
        toEngine(engine, outbox.engineFrame(new AbortRequest(r.requestId)), r, false);
      }
    }
    metrics.knownClients.set(pending.clients());
  }

  // ---------------------------------------------------------------- engines

  void onRegister(Inbound in) {
    boolean wasStarted = engines.started();
    int replaced = engines.register(in.from());
    forgetAcks(in.from()); // a new incarnation got no signal and acknowledged none
    if (replaced >= 0) {
      takeBackHeld(in.from(), replaced);
      failAll(
          pending.removeAllOn(replaced),
          "engine " + in.from() + " restarted with the request pending");
    }
    publishEngineCount();
    if (!wasStarted && engines.started()) {
      status.started(true);
      routeReady();
    }
  }

  void onEngineDisconnect(Inbound in) {
    removeEngine(in.from(), "disconnected", false);
    routeReady();
  }

  /**
   * Drops what the outbox held for an engine; the requests it never got wait to be routed again.
   */
  private void takeBackHeld(Peer engine, int id) {
    List<PendingRequest> again = new ArrayList<>();
    for (PendingRequest r : outbox.forgetEngine(engine)) {
      if (id >= 0 && pending.get(r.requestId) == r && r.engine == id) {
        pending.unrouted(r);
        again.add(r);
      }
    }
    routing.requeue(again);
  }

  /** A send to {@code engine} failed: it is gone. */
  private void unreachable(Peer engine) {
    metrics.engineUnreachable.inc();
    removeEngine(engine, "unreachable", false);
  }

  /**
   * Removes an engine; its requests fail, but for those whose SUBMIT it never got (held, Outbox):
   * they wait to be routed again, first in line (routeReady, not called here: this may run while a
   * request is being routed).
   */
  private void removeEngine(Peer engine, String why, boolean dropped) {
    takeBackHeld(engine, engines.idOf(engine));
    int id = engines.remove(engine, why, dropped);
    if (id >= 0) {
      failAll(
          pending.removeAllOn(id), "engine " + engine + " " + why + " with the request pending");
      publishEngineCount();
      // the engines left may all have acknowledged already (core_v0.16)
      forgetAcks(engine);
      for (Map.Entry<Header, Set<Peer>> e : acks.entrySet()) {
        if (!e.getValue().isEmpty()) {
          relayAcksIfComplete(e.getKey(), e.getValue().iterator().next());
        }
      }
    }
  }

  /** Takes {@code engine} out of the acknowledgements' counts (core_v0.16). */
  private void forgetAcks(Peer engine) {
    acks.values().forEach(s -> s.remove(engine));
    signalled.values().forEach(s -> s.remove(engine));
  }

  /** An engine whose connection dropped speaks on a new one: it is routable again. */
  private void rejoinIfReconnected(Peer engine) {
    if (engines.rejoinIfReconnected(engine)) {
      publishEngineCount();
    }
  }

  void onEngineReply(Inbound in) {
    rejoinIfReconnected(in.from());
    EngineReply reply = (EngineReply) in.message();
    countInvalidRecords(in.from(), reply.invalidRecords());
    for (ReplyRecord record : reply.records()) {
      PendingRequest r = answered(in.from(), record.requestId(), true);
      if (r != null) {
        complete(r, record.raw(), record.cachedTokens());
      }
    }
    publishInFlight();
  }

  /**
   * A core_v0.15 engine's step: each request's token and log probabilities are added to it, as that
   * release's coordinator does; the finished ones (but the one in chunked prefill) are answered
   * with the record built from their steps. An entry for a request not pending on this engine is
   * dropped and counted (that coordinator fails on an unknown id).
   */
  void onEngineStep(Inbound in) {
    rejoinIfReconnected(in.from());
    EngineStep step = (EngineStep) in.message();
    long chunked = step.chunkedPrefillId();
    for (int i = 0, n = step.entries(); i < n; i++) {
      long id = step.requestIds()[i];
      PendingRequest r = answered(in.from(), id, false); // routed: its record has begun
      if (r != null) {
        r.coreV015.step(
            step.tokens()[i], step.logProbsAt(i), id == chunked, step.materializeOnlyLast());
      }
    }
    for (long id : step.finishedIds()) {
      PendingRequest r = id == chunked ? null : answered(in.from(), id, true);
      if (r != null) {
        // with a tokenizer its record is built, with its text, on a worker (ReplyText.fill)
        RawValue record =
            replyText.rewrites(pending.dialectOf(r.client)) ? null : r.coreV015.record();
        complete(r, record, ReplyRecord.CACHED_TOKENS_UNKNOWN);
      }
    }
    publishInFlight();
  }

  /**
   * Answers {@code r} with its engine's terminal {@code record}, whose text is filled first when
   * the client's release needs it (ReplyText; null: a core_v0.15 record, built there from {@code
   * r.coreV015}); its engine served {@code cachedTokens} from cache.
   */
  private void complete(PendingRequest r, RawValue record, long cachedTokens) {
    routing.completed(r, cachedTokens);
    engines.served(r.engine);
    Dialect client = pending.dialectOf(r.client);
    if (replyText.rewrites(client)) {
      pending.finishing(r, record);
      replyText.fill(r, client, this::finish);
    } else {
      pending.remove(r);
      outbox.reply(r, record);
    }
  }

  /** Sends a finished request's record, with its generated_text, unless it was answered already. */
  private void finish(PendingRequest r) {
    if (pending.get(r.requestId) == r) {
      pending.remove(r);
      publishInFlight();
      outbox.reply(r, r.finished);
    }
  }

  void onEngineReplyPartial(Inbound in) {
    rejoinIfReconnected(in.from());
    EngineReplyPartial reply = (EngineReplyPartial) in.message();
    countInvalidRecords(in.from(), reply.invalidRecords());
    for (ReplyRecord record : reply.records()) {
      PendingRequest r = answered(in.from(), record.requestId(), false);
      if (r != null) {
        outbox.partial(r, record.raw());
      }
    }
  }

  /**
   * The pending request that {@code engine} may reply for under {@code requestId}, or null (the
   * reply is dropped and counted) when the request is not pending or was sent to another engine.
   * {@code last}: the reply is terminal.
   */
  private PendingRequest answered(Peer engine, long requestId, boolean last) {
    PendingRequest r = pending.get(requestId);
    int id = engines.idOf(engine);
    if (r != null && id >= 0 && r.engine == id) {
      return r;
    }
    if (r == null && timedOut != null && timedOut.late(requestId, last)) {
      metrics.lateReplies.inc();
      warnings.warn(
          "timed-out-reply",
          "dropped a reply from "
              + engine
              + " for request "
              + requestId
              + ": it was answered FAILED after the request timeout");
      return null;
    }
    metrics.invalidMessage.inc();
    warnings.warn(
        r == null ? "late-reply" : "foreign-reply",
        "dropped a reply from "
            + engine
            + " for request "
            + requestId
            + (r == null ? ": not pending" : ": it was sent to another engine"));
    return null;
  }

  private void countInvalidRecords(Peer from, int count) {
    if (count > 0) {
      metrics.invalidMessage.inc(count);
      warnings.warn(
          "record", "dropped " + count + " reply record(s) from " + from + ": no int request_id");
    }
  }

  // ---------------------------------------------------------------- answers and housekeeping

  /** Forgets a pending request and answers it FAILED on its engine's behalf. */
  private void answerFailed(PendingRequest r, String reason) {
    answerFailed(r, reason, true);
  }

  /** The same; without {@code echo}, with a minimal record (Outbox#fail). */
  private void answerFailed(PendingRequest r, String reason, boolean echo) {
    pending.remove(r);
    publishInFlight();
    outbox.fail(r, reason, echo);
  }

  private void failAll(List<PendingRequest> lost, String reason) {
    publishInFlight();
    for (PendingRequest r : lost) {
      outbox.fail(r, reason);
    }
  }

  /**
   * The coordinator is stopping: a request whose engine has answered gets that record (its text
   * filled here), everything else still pending is answered FAILED.
   */
  void stop() {
    List<PendingRequest> left = pending.removeAll();
    publishInFlight();
    for (PendingRequest r : left) {
      if (outbox.full()) {
        outbox.release();
      }
      try {
        if (r.engine == PendingRequests.FINISHING) {
          outbox.reply(r, replyText.fillNow(r, pending.dialectOf(r.client)));
        } else {
          outbox.fail(r, "coordinator shutting down");
        }
      } catch (RuntimeException | OutOfMemoryError e) {
        outbox.fail(r, "coordinator shutting down", false); // a minimal record cannot fail so
      }
    }
    outbox.release();
    routing.close();
  }

  /**
   * Periodic work off the message path: the schedule reaches the disk, the engine table JMX; with a
   * request timeout, the requests that waited longer are answered FAILED.
   */
  void housekeeping() {
    outbox.flushBacklogs();
    routing.flush();
    status.engines(engines.loads());
    if (timedOut != null) {
      timeOut(pending.receivedBefore(nanoTime.getAsLong() - requestTimeoutNanos));
    }
  }

  /**
   * Answers requests that waited past the request timeout FAILED. A routed one stops counting in
   * its engine's load, and its engine is told to abort it (Megatron 0.18 engines cannot: theirs
   * runs to its end); whatever its engine still sends for it is a late reply.
   */
  private void timeOut(List<PendingRequest> expired) {
    if (!expired.isEmpty()) {
      warnings.warn(
          "request-timeout", expired.size() + " request(s) answered FAILED: " + timeoutReason);
    }
    for (PendingRequest r : expired) {
      if (pending.get(r.requestId) != r) {
        continue; // answered meanwhile: its engine was removed
      }
      metrics.timedOut.inc();
      Peer engine = engines.peerOf(r.engine);
      if (engine != null) {
        routing.completed(r, ReplyRecord.CACHED_TOKENS_UNKNOWN);
        timedOut.add(r.requestId);
      }
      answerFailed(r, timeoutReason);
      if (engine != null && !enginesLackMainsRequests()) {
        abortOn(engine, r);
      }
    }
  }

  private void publishInFlight() {
    metrics.inFlight.set(pending.size());
    status.inFlight(pending.size());
  }

  private void publishEngineCount() {
    int count = engines.activeCount();
    metrics.activeEngines.set(count);
    status.activeEngines(count);
    status.engines(engines.loads());
  }
}
