package io.dpcoord.server;

import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.RawValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The accepted requests without a terminal reply, and the clients that may send them.
 *
 * <p>Three indexes over one set of {@link PendingRequest}s, kept in step here and nowhere else: by
 * the coordinator's request id (engine replies), by (client, client request id) (client aborts),
 * and by engine (an engine that goes away fails exactly its own requests). The first two are
 * primitive-keyed maps (Agrona), so the per-request path does not box; the third is a doubly linked
 * list per engine id threaded through the requests themselves, so adding and removing are O(1) and
 * failing an engine's requests touches only those. Requests not routed yet (held for the start-up
 * engines, or waiting for their hashes) and requests being detokenized form two more lists.
 *
 * <p>Every list is in arrival order: requests are accepted in arrival order into the unrouted list
 * and routed in arrival order (RequestRouting's queue), each appended to its engine's list when it
 * is sent. So the requests that arrived before a given time are at the heads of the lists, and
 * {@link #receivedBefore} finds them without a scan: O(engines) plus what it removes.
 */
final class PendingRequests {
  /** The engine id of a request that has not been sent to an engine yet. */
  static final int UNROUTED = -1;

  /** The engine id of a request whose engine answered and whose record is being detokenized. */
  static final int FINISHING = -2;

  private final Long2ObjectHashMap<PendingRequest> byId = new Long2ObjectHashMap<>();
  private final Map<Peer, Client> byClient = new HashMap<>();
  private final Chain unrouted = new Chain();
  private final Chain finishing = new Chain();
  private Chain[] byEngine = new Chain[8];
  private long nextRequestId;

  /** A connected client: the dialect of its CONNECT, its pending requests by its own ids. */
  private record Client(Dialect dialect, Long2ObjectHashMap<PendingRequest> ids) {
    Client(Dialect dialect) {
      this(dialect, new Long2ObjectHashMap<>());
    }
  }

  /**
   * Records a client's handshake in {@code dialect}; false if it had already connected (a repeated
   * CONNECT keeps its first dialect).
   */
  boolean connect(Peer client, Dialect dialect) {
    return byClient.putIfAbsent(client, new Client(dialect)) == null;
  }

  /** The dialect a connected client speaks; 0.19 for a peer that is not a client. */
  Dialect dialectOf(Peer peer) {
    Client c = byClient.get(peer);
    return c == null ? Dialect.V0_19 : c.dialect;
  }

  /** Whether {@code peer} is a connected client. */
  boolean isClient(Peer peer) {
    return byClient.containsKey(peer);
  }

  /** The pending requests of {@code client} (0 for one not connected). */
  int pendingOf(Peer client) {
    Client state = byClient.get(client);
    return state == null ? 0 : state.ids.size();
  }

  /** The connected clients. */
  Set<Peer> clientPeers() {
    return Collections.unmodifiableSet(byClient.keySet());
  }

  /** Connected clients. */
  int clients() {
    return byClient.size();
  }

  /**
   * Accepts a request from a connected client under the next request id; it is unrouted until
   * {@link #routed}. A client request id that is still pending is rebound to the new request.
   */
  PendingRequest accept(
      Peer client,
      long clientRequestId,
      RawValue prompt,
      RawValue samplingParams,
      long receivedNanos) {
    PendingRequest r =
        new PendingRequest(
            nextRequestId++, client, clientRequestId, prompt, samplingParams, receivedNanos);
    byId.put(r.requestId, r);
    byClient.get(client).ids.put(clientRequestId, r);
    unrouted.add(r);
    return r;
  }

  /** Records that {@code r} was sent to {@code engine}. */
  void routed(PendingRequest r, int engine) {
    moveTo(r, engine);
    r.bound = null;
    r.hashes = null;
  }

  /**
   * Takes {@code r} back from its engine, which never got it (a held send that failed, Outbox), to
   * be routed again; {@code r.bound} is what was bound for it.
   */
  void unrouted(PendingRequest r) {
    moveTo(r, UNROUTED);
  }

  /**
   * Records that {@code r}'s engine sent its terminal record: no longer the engine's (its death
   * cannot fail it now), still pending until the record, detokenized, goes to the client.
   */
  void finishing(PendingRequest r, RawValue record) {
    moveTo(r, FINISHING);
    r.finished = record;
  }

  private void moveTo(PendingRequest r, int engine) {
    chainOf(r.engine).remove(r);
    r.engine = engine;
    chainOf(engine).add(r);
  }

  /** The pending request with this id, or null. */
  PendingRequest get(long requestId) {
    return byId.get(requestId);
  }

  /**
   * The prompt of the pending request with this id as it was forwarded to an engine, or null when
   * none is pending there: what the engine's records for it echo (MessageCodec#recognisePrompts).
   * Only a prompt that was sent is given, so it is always one the codec decoded in full (a str or
   * an array of int64s; a prompt over --max-prompt-tokens is answered at once and never sent).
   */
  RawValue forwardedPrompt(long requestId) {
    PendingRequest r = byId.get(requestId);
    return r == null || r.engine < 0 ? null : r.prompt;
  }

  /** The client's pending request with this client request id, or null. */
  PendingRequest ofClient(Peer client, long clientRequestId) {
    Client c = byClient.get(client);
    return c == null ? null : c.ids.get(clientRequestId);
  }

  /** Forgets a request: it had (or is about to get) its terminal reply. */
  void remove(PendingRequest r) {
    if (byId.remove(r.requestId) != r) {
      return; // removed already
    }
    r.committedHashes = null;
    chainOf(r.engine).remove(r);
    Client c = byClient.get(r.client);
    if (c != null && c.ids.get(r.clientRequestId) == r) {
      c.ids.remove(r.clientRequestId);
    }
  }

  /** Removes and returns the requests sent to {@code engine}, in the order they were sent. */
  List<PendingRequest> removeAllOn(int engine) {
    List<PendingRequest> lost = new ArrayList<>();
    Chain chain = engine < byEngine.length ? byEngine[engine] : null;
    if (chain != null) {
      while (chain.first != null) {
        lost.add(chain.first);
        remove(chain.first);
      }
      byEngine[engine] = null; // engine ids are never reused
    }
    return lost;
  }

  /**
   * The requests received before {@code cutoffNanos} that still wait for their engine (unrouted, or
   * sent and not answered), oldest first on each list; a request whose engine answered is not among
   * them. They stay pending.
   */
  List<PendingRequest> receivedBefore(long cutoffNanos) {
    List<PendingRequest> found = List.of();
    for (int engine = UNROUTED; engine < byEngine.length; engine++) {
      Chain chain = engine == UNROUTED ? unrouted : byEngine[engine];
      for (PendingRequest r = chain == null ? null : chain.first;
          r != null && r.receivedNanos - cutoffNanos < 0;
          r = r.next) {
        if (found.isEmpty()) {
          found = new ArrayList<>();
        }
        found.add(r);
      }
    }
    return found;
  }

  /** Removes and returns every pending request, in request-id (arrival) order. */
  List<PendingRequest> removeAll() {
    List<PendingRequest> all = new ArrayList<>(byId.values());
    all.sort(Comparator.comparingLong(r -> r.requestId));
    all.forEach(this::remove);
    return all;
  }

  /**
   * Forgets a client that went away and returns its requests, which stay pending: their engines are
   * still working on them, and their replies are dropped. Empty if it was not connected.
   */
  Collection<PendingRequest> forgetClient(Peer client) {
    Client c = byClient.remove(client);
    return c == null ? List.of() : c.ids.values();
  }

  /** Requests not routed yet. */
  int unroutedCount() {
    return unrouted.size;
  }

  /** Accepted requests without a terminal reply. */
  int size() {
    return byId.size();
  }

  /** The requests pending on engine {@code engine}. */
  int countOn(int engine) {
    return engine >= 0 && engine < byEngine.length && byEngine[engine] != null
        ? byEngine[engine].size
        : 0;
  }

  private Chain chainOf(int engine) {
    if (engine == UNROUTED) {
      return unrouted;
    }
    if (engine == FINISHING) {
      return finishing;
    }
    if (engine >= byEngine.length) {
      byEngine = Arrays.copyOf(byEngine, Math.max(engine + 1, byEngine.length * 2));
    }
    Chain chain = byEngine[engine];
    if (chain == null) {
      chain = byEngine[engine] = new Chain();
    }
    return chain;
  }

  /** A doubly linked list threaded through {@link PendingRequest#previous} and {@code next}. */
  private static final class Chain {
    PendingRequest first;
    PendingRequest last;
    int size;

    /**
     * Adds {@code r} in request-id (arrival) order: at the end but for a request routed again after
     * a held send failed (Outbox), which goes before the later ones sent since.
     */
    void add(PendingRequest r) {
      PendingRequest before = last;
      while (before != null && before.requestId > r.requestId) {
        before = before.previous;
      }
      PendingRequest after = before == null ? first : before.next;
      r.previous = before;
      r.next = after;
      if (before == null) {
        first = r;
      } else {
        before.next = r;
      }
      if (after == null) {
        last = r;
      } else {
        after.previous = r;
      }
      size++;
    }

    void remove(PendingRequest r) {
      if (r.previous == null) {
        first = r.next;
      } else {
        r.previous.next = r.next;
      }
      if (r.next == null) {
        last = r.previous;
      } else {
        r.next.previous = r.previous;
      }
      r.previous = r.next = null;
      size--;
    }
  }
}
