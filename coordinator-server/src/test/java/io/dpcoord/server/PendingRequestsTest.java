package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.RawValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PendingRequestsTest {
  private final PendingRequests pending = new PendingRequests();
  private final Peer alice = peer("alice");
  private final Peer bob = peer("bob");

  private static Peer peer(String name) {
    return new Peer(name.getBytes(StandardCharsets.US_ASCII));
  }

  private PendingRequest accept(Peer client, long clientRequestId) {
    return pending.accept(client, clientRequestId, RawValue.nil(), RawValue.nil(), 0);
  }

  @Test
  void acceptedRequestsAreFoundByIdAndByClientUntilRemoved() {
    assertThat(pending.connect(alice, Dialect.V0_19)).isTrue();
    assertThat(pending.connect(alice, Dialect.V0_19)).isFalse();
    PendingRequest r = accept(alice, 7);

    assertThat(r.engine).isEqualTo(PendingRequests.UNROUTED);
    assertThat(pending.get(r.requestId)).isSameAs(r);
    assertThat(pending.ofClient(alice, 7)).isSameAs(r);
    assertThat(pending.size()).isEqualTo(1);
    assertThat(pending.unroutedCount()).isEqualTo(1);

    pending.routed(r, 3);
    assertThat(pending.unroutedCount()).isZero();
    pending.remove(r);
    pending.remove(r); // a second remove changes nothing

    assertThat(pending.get(r.requestId)).isNull();
    assertThat(pending.ofClient(alice, 7)).isNull();
    assertThat(pending.size()).isZero();
    assertThat(pending.removeAllOn(3)).isEmpty();
  }

  @Test
  void aPromptIsGivenForItsRepliesOnlyWhileItsRequestIsOnAnEngine() {
    pending.connect(alice, Dialect.V0_19);
    RawValue prompt = RawValue.ofString("hello");
    PendingRequest r = pending.accept(alice, 1, prompt, RawValue.nil(), 0);

    assertThat(pending.forwardedPrompt(r.requestId)).as("not sent yet").isNull();
    pending.routed(r, 2);
    assertThat(pending.forwardedPrompt(r.requestId)).isSameAs(prompt);
    assertThat(pending.forwardedPrompt(r.requestId + 1)).as("no such request").isNull();
    pending.finishing(r, RawValue.nil());
    assertThat(pending.forwardedPrompt(r.requestId)).as("answered, being detokenized").isNull();
    pending.remove(r);
    assertThat(pending.forwardedPrompt(r.requestId)).isNull();
  }

  @Test
  void aRequestLetsGoOfTheHashesItKeptForFeedbackWhenItEndsHoweverItEnds() {
    pending.connect(alice, Dialect.V0_19);
    PendingRequest answered = accept(alice, 1);
    PendingRequest lostWithItsEngine = accept(alice, 2);
    PendingRequest leftAtShutdown = accept(alice, 3);
    pending.routed(answered, 4);
    pending.routed(lostWithItsEngine, 4);
    pending.routed(leftAtShutdown, 5);
    for (PendingRequest r : List.of(answered, lostWithItsEngine, leftAtShutdown)) {
      r.committedHashes = new long[] {11, 12};
    }

    pending.remove(answered);
    assertThat(lostWithItsEngine.committedHashes).isNotNull();
    pending.removeAllOn(4);
    assertThat(leftAtShutdown.committedHashes).isNotNull();
    pending.removeAll();

    assertThat(answered.committedHashes).isNull();
    assertThat(lostWithItsEngine.committedHashes).isNull();
    assertThat(leftAtShutdown.committedHashes).isNull();
  }

  @Test
  void aClientKeepsTheDialectOfItsFirstConnectUntilItIsForgotten() {
    assertThat(pending.connect(alice, Dialect.V0_18)).isTrue();
    assertThat(pending.connect(alice, Dialect.V0_19)).isFalse();
    assertThat(pending.dialectOf(alice)).isEqualTo(Dialect.V0_18);
    assertThat(pending.dialectOf(bob)).as("not a client").isEqualTo(Dialect.V0_19);
    pending.forgetClient(alice);
    assertThat(pending.isClient(alice)).isFalse();
    assertThat(pending.dialectOf(alice)).isEqualTo(Dialect.V0_19);
    assertThat(pending.connect(alice, Dialect.V0_19)).isTrue();
    assertThat(pending.dialectOf(alice)).isEqualTo(Dialect.V0_19);
  }

  @Test
  void aReusedClientRequestIdNamesTheNewestAndRemovingTheOldKeepsIt() {
    pending.connect(alice, Dialect.V0_19);
    PendingRequest first = accept(alice, 1);
    PendingRequest second = accept(alice, 1);

    assertThat(pending.ofClient(alice, 1)).isSameAs(second);
    pending.remove(first);
    assertThat(pending.ofClient(alice, 1)).isSameAs(second);
  }

  @Test
  void aRequestTakenBackFromItsEngineKeepsItsPlaceInArrivalOrderWhenRoutedAgain() {
    pending.connect(alice, Dialect.V0_19);
    PendingRequest[] rs = new PendingRequest[4];
    for (int i = 0; i < rs.length; i++) {
      rs[i] = pending.accept(alice, i, RawValue.nil(), RawValue.nil(), 100 + i);
    }
    PendingRequest r0 = rs[0];
    PendingRequest r1 = rs[1];
    PendingRequest r2 = rs[2];
    PendingRequest r3 = rs[3];
    pending.routed(r0, 0);
    pending.routed(r1, 1);
    pending.routed(r2, 1);

    pending.unrouted(r0); // its engine never got it (a held send that failed)
    assertThat(pending.countOn(0)).isZero();
    assertThat(pending.unroutedCount()).isEqualTo(2);
    assertThat(pending.receivedBefore(Long.MAX_VALUE)).containsExactly(r0, r3, r1, r2);
    pending.routed(r0, 1);
    pending.routed(r3, 1);

    assertThat(pending.receivedBefore(r2.receivedNanos)).containsExactly(r0, r1);
    assertThat(pending.removeAllOn(1)).containsExactly(r0, r1, r2, r3);
  }

  @Test
  void failingAnEngineTakesExactlyItsRequestsInArrivalOrder() {
    pending.connect(alice, Dialect.V0_19);
    pending.connect(bob, Dialect.V0_19);
    PendingRequest a0 = accept(alice, 0);
    PendingRequest b0 = accept(bob, 0);
    PendingRequest a1 = accept(alice, 1);
    PendingRequest held = accept(bob, 1);
    pending.routed(a1, 0);
    pending.routed(b0, 1);
    pending.routed(a0, 0);

    assertThat(pending.removeAllOn(0)).containsExactly(a0, a1);

    assertThat(pending.size()).isEqualTo(2);
    assertThat(pending.get(b0.requestId)).isSameAs(b0);
    assertThat(pending.unroutedCount()).isEqualTo(1);
    assertThat(pending.ofClient(alice, 0)).isNull();
    assertThat(pending.removeAll()).containsExactly(b0, held);
    assertThat(pending.size()).isZero();
  }

  @Test
  void aRequestWhoseEngineAnsweredIsNoLongerThatEnginesButStillPending() {
    pending.connect(alice, Dialect.V0_19);
    PendingRequest r = accept(alice, 1);
    pending.routed(r, 4);
    RawValue record = RawValue.ofString("record");

    pending.finishing(r, record);

    assertThat(r.finished).isSameAs(record);
    assertThat(pending.removeAllOn(4)).isEmpty();
    assertThat(pending.get(r.requestId)).isSameAs(r);
    assertThat(pending.removeAll()).containsExactly(r);
  }

  @Test
  void aForgottenClientsRequestsStayPendingForTheirEngines() {
    pending.connect(alice, Dialect.V0_19);
    PendingRequest r = accept(alice, 5);
    pending.routed(r, 2);

    assertThat(pending.forgetClient(alice)).containsExactly(r);

    assertThat(pending.isClient(alice)).isFalse();
    assertThat(pending.clients()).isZero();
    assertThat(pending.get(r.requestId)).isSameAs(r);
    assertThat(pending.forgetClient(alice)).isEmpty();
    assertThat(pending.removeAllOn(2)).containsExactly(r);
  }

  /** Random operations against a model of plain maps: the three indexes always agree with it. */
  @Test
  void indexesStayInStepWithASimpleModel() {
    SplittableRandom rnd = new SplittableRandom(11);
    Map<Long, Integer> engineOf = new HashMap<>(); // request id -> engine (-1: unrouted)
    List<PendingRequest> live = new ArrayList<>();
    pending.connect(alice, Dialect.V0_19);
    for (int step = 0; step < 20_000; step++) {
      int op = rnd.nextInt(10);
      if (op < 4 || live.isEmpty()) {
        PendingRequest r = accept(alice, step);
        live.add(r);
        engineOf.put(r.requestId, PendingRequests.UNROUTED);
      } else if (op < 7) {
        PendingRequest r = live.get(rnd.nextInt(live.size()));
        if (r.engine == PendingRequests.UNROUTED) {
          int engine = rnd.nextInt(5);
          pending.routed(r, engine);
          engineOf.put(r.requestId, engine);
        }
      } else if (op < 9) {
        PendingRequest r = live.remove(rnd.nextInt(live.size()));
        pending.remove(r);
        engineOf.remove(r.requestId);
      } else {
        int engine = rnd.nextInt(5);
        List<PendingRequest> lost = pending.removeAllOn(engine);
        assertThat(lost).allMatch(r -> engineOf.get(r.requestId) == engine);
        assertThat(lost).hasSize((int) engineOf.values().stream().filter(e -> e == engine).count());
        lost.forEach(r -> engineOf.remove(r.requestId));
        live.removeAll(lost);
      }
      assertThat(pending.size()).isEqualTo(engineOf.size());
    }
    for (PendingRequest r : live) {
      assertThat(pending.get(r.requestId)).isSameAs(r);
      assertThat(pending.ofClient(alice, r.clientRequestId)).isSameAs(r);
    }
    assertThat(pending.unroutedCount())
        .isEqualTo((int) engineOf.values().stream().filter(e -> e < 0).count());
  }

  @Test
  void requestsReceivedBeforeACutoffAreFoundOnEveryListButTheFinishingOne() {
    pending.connect(alice, Dialect.V0_19);
    List<PendingRequest> all = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      all.add(pending.accept(alice, i, RawValue.nil(), RawValue.nil(), 100L * i));
    }
    // arrival order on each list: 0, 3, 6 to engine 0; 1, 4, 7 to engine 2; 2 finishing; 5 left
    for (int i : new int[] {0, 1, 2, 3, 4, 6, 7}) {
      pending.routed(all.get(i), i % 3 == 0 ? 0 : 2);
    }
    pending.finishing(all.get(2), RawValue.nil());

    assertThat(pending.receivedBefore(0)).isEmpty();
    assertThat(pending.receivedBefore(450))
        .containsExactlyInAnyOrder(all.get(0), all.get(3), all.get(1), all.get(4));
    assertThat(pending.receivedBefore(10_000))
        .containsExactlyInAnyOrder(
            all.get(0), all.get(3), all.get(6), all.get(1), all.get(4), all.get(7), all.get(5));
    assertThat(pending.size()).as("they stay pending").isEqualTo(8);
  }
}
