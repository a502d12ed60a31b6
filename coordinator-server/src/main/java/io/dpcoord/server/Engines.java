package io.dpcoord.server;

import io.dpcoord.metrics.EngineLoad;
import io.dpcoord.routing.Router;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines: the start-up gate, who is registered, under which engine id, and in which rank order
 * (through {@link Router}, which knows ids and ranks but not identities).
 *
 * <p>Each peer that ever registered has one {@link Engine} here, in one of three states: waiting
 * (registered before the start-up engines were all there), active (routable, with an engine id),
 * gone (left, died or was unreachable; its late replies are still an engine's, not a stranger's).
 * This is the coordinator's one table of engine identities; everything about an engine's membership
 * changes here and nowhere else.
 */
final class Engines {
  private static final Logger LOG = LoggerFactory.getLogger(Engines.class);
  private static final String DROPPED_HINT =
      "; its connection dropped (the process died, it missed heartbeats, or it sent a message over"
          + " --max-message-bytes): it rejoins if it speaks again";

  private enum State {
    WAITING,
    ACTIVE,
    GONE
  }

  private static final class Engine {
    final Peer peer;
    State state;
    int id = -1;
    long served; // terminal replies since it last became active
    boolean dropped; // gone because its connection dropped: it may speak again on a new one

    Engine(Peer peer) {
      this.peer = peer;
    }
  }

  private final Router router;
  private final int expected;
  // in order of first registration: Megatron 0.18's round-robin order of the start-up engines
  private final Map<Peer, Engine> byPeer = new LinkedHashMap<>();
  private Engine[] ofId = new Engine[8];
  private int waiting;
  private boolean started;

  /** Engines routed by {@code router}; serving starts once {@code expected} have registered. */
  Engines(Router router, int expected) {
    this.router = router;
    this.expected = expected;
    this.started = expected == 0;
  }

  /** Whether the start-up engines are all there (always, when none are expected). */
  boolean started() {
    return started;
  }

  /** Whether {@code peer} ever registered as an engine (waiting, active or gone). */
  boolean isEngine(Peer peer) {
    return byPeer.containsKey(peer);
  }

  /** The active engine id of {@code peer}, or -1. */
  int idOf(Peer peer) {
    Engine e = byPeer.get(peer);
    return e != null && e.state == State.ACTIVE ? e.id : -1;
  }

  /** The peer of an active engine id, or null. */
  Peer peerOf(int id) {
    return id >= 0 && id < ofId.length && ofId[id] != null ? ofId[id].peer : null;
  }

  /** Routable engines: none before start-up is over. */
  int activeCount() {
    return started ? router.activeEngines() : 0;
  }

  /** The active engines in rank order. */
  List<Peer> active() {
    List<Peer> peers = new ArrayList<>();
    for (int id : router.activeEnginesInRankOrder()) {
      peers.add(ofId[id].peer);
    }
    return peers;
  }

  /**
   * Registers {@code from}. Before start-up is over it waits (the last expected one fixes the rank
   * order and starts serving); after, a new engine is ranked last, a returning one rejoins ({@link
   * Router#rejoin}: under Megatron 0.19 a new engine, under 0.18 its old id and rank), and an
   * active one is a restart ({@link Router#replace}).
   *
   * @return the id the engine had before if this registration is a restart (its requests are lost
   *     with the old process), else -1
   */
  int register(Peer from) {
    Engine e = byPeer.computeIfAbsent(from, Engine::new);
    if (!started) {
      if (e.state != State.WAITING) {
        e.state = State.WAITING;
        waiting++;
      }
      LOG.info("engine {} registered ({}/{})", from, waiting, expected);
      if (waiting == expected) {
        finishStartup();
      }
      return -1;
    }
    if (e.state == State.ACTIVE) {
      int old = e.id;
      ofId[old] = null;
      activate(e, router.replace(old));
      LOG.warn("engine {} re-registered (restarted): its cache entries are stale", from);
      return old;
    }
    activate(e, e.id >= 0 ? router.rejoin(e.id) : router.register());
    LOG.info("engine {} registered late as rank {}", from, router.rankOf(e.id));
    return -1;
  }

  private void finishStartup() {
    List<Engine> initial = new ArrayList<>();
    List<byte[]> identities = new ArrayList<>();
    for (Engine e : byPeer.values()) {
      if (e.state == State.WAITING) {
        initial.add(e);
        identities.add(e.peer.id());
      }
    }
    int[] ids = router.registerInitial(identities);
    for (int i = 0; i < ids.length; i++) {
      activate(initial.get(i), ids[i]);
    }
    waiting = 0;
    started = true;
    StringJoiner order = new StringJoiner(", ");
    active().forEach(p -> order.add(p.toString()));
    LOG.info("all {} start-up engines registered; serving; rank order: {}", ids.length, order);
  }

  /**
   * Makes {@code peer} routable again if it is gone because its connection dropped (not because it
   * said DISCONNECT or could not be reached) and now speaks on a new connection: the engine process
   * lived on and its DEALER reconnected, which Megatron's engines do on their own, but they
   * register only once, at start-up. It rejoins as a registration after start-up does ({@link
   * #register}).
   *
   * @return whether it rejoined
   */
  boolean rejoinIfReconnected(Peer peer) {
    Engine e = byPeer.get(peer);
    if (e == null || e.state != State.GONE || !e.dropped || e.id < 0) {
      return false;
    }
    activate(e, router.rejoin(e.id));
    LOG.warn(
        "engine {} speaks again on a new connection: routable again as rank {} ({} engines)",
        peer,
        router.rankOf(e.id),
        router.activeEngines());
    return true;
  }

  private void activate(Engine e, int id) {
    e.state = State.ACTIVE;
    e.dropped = false;
    e.id = id;
    e.served = 0;
    if (id >= ofId.length) {
      ofId = Arrays.copyOf(ofId, Math.max(id + 1, ofId.length * 2));
    }
    ofId[id] = e;
  }

  /** Counts a terminal reply from the active engine {@code id} (a no-op for any other id). */
  void served(int id) {
    if (id >= 0 && id < ofId.length && ofId[id] != null) {
      ofId[id].served++;
    }
  }

  /** The active engines in rank order, with their pending requests and replies served. */
  List<EngineLoad> loads() {
    List<EngineLoad> loads = new ArrayList<>();
    if (started) {
      for (int id : router.activeEnginesInRankOrder()) {
        Engine e = ofId[id];
        loads.add(
            new EngineLoad(router.rankOf(id), e.peer.toString(), router.pending(id), e.served));
      }
    }
    return List.copyOf(loads);
  }

  /**
   * Takes {@code peer} out of routing because it {@code why} (disconnected, unreachable, ...).
   * {@code dropped}: its connection dropped, so it may come back ({@link #rejoinIfReconnected}).
   *
   * @return its engine id if it was active (its pending requests must be answered), else -1
   */
  int remove(Peer peer, String why, boolean dropped) {
    Engine e = byPeer.get(peer);
    if (e == null || e.state == State.GONE) {
      return -1;
    }
    e.dropped = dropped;
    if (e.state == State.WAITING) {
      e.state = State.GONE;
      waiting--;
      LOG.warn("start-up engine {} {} before serving", peer, why);
      return -1;
    }
    int id = e.id;
    int pending = router.pending(id);
    router.remove(id);
    ofId[id] = null;
    e.state = State.GONE;
    LOG.warn(
        "engine {} {}: removed from routing with {} requests pending ({} engines left){}",
        peer,
        why,
        pending,
        router.activeEngines(),
        dropped ? DROPPED_HINT : "");
    return id;
  }
}
