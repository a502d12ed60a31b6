package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.EngineSubmitWithKv;
import io.dpcoord.routing.RouterConfig;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every metric of METRICS.md, recorded once per event by a coordinator serving real sockets.
 *
 * <p>Prompts of 32 tokens (two blocks of 16) take the prefix route; prompts shorter than a block
 * are routed by load alone and must not touch the prefix metrics.
 */
@Timeout(30)
class MetricsTest {
  private static final long[] P = SubmitForwardingTest.tokens(32, 1);
  private static final long[] Q = SubmitForwardingTest.tokens(32, 5000);

  /** Submits {@code prompt}, lets {@code engine} complete it and waits for the reply. */
  private static long roundTrip(TestClient client, TestEngine engine, long cid, Object prompt) {
    client.submit(cid, prompt);
    long rid = engine.receiveSubmit().requestId();
    engine.complete(rid);
    assertThat(client.receiveReply().clientRequestId()).isEqualTo(cid);
    return rid;
  }

  @Test
  void catalogueHasTheMetricsCoveredHere() {
    Set<String> covered =
        Set.of(
            "routing_cache_hit_total",
            "routing_cache_miss_total",
            "routing_stale_detected_total",
            "coordinator_invalid_message_total",
            "coordinator_internal_error_total",
            "coordinator_unknown_sender_total",
            "coordinator_engine_unreachable_total",
            "coordinator_all_engines_exhausted_total",
            "coordinator_routing_latency_seconds",
            "coordinator_message_processing_latency_seconds",
            "coordinator_active_engines",
            "coordinator_requests_in_flight",
            "coordinator_requests_submitted_total",
            "coordinator_requests_completed_total",
            "coordinator_requests_failed_total",
            "coordinator_known_clients",
            "routing_index_entries",
            "routing_index_evicted_total",
            "routing_prefix_match_ratio",
            "routing_text_prompt_untokenized_total",
            "coordinator_tokenize_latency_seconds",
            "coordinator_detokenize_latency_seconds",
            "coordinator_detokenize_failed_total",
            // covered in EngineFeedbackTest
            "routing_cached_tokens_shortfall",
            "routing_cached_tokens_predicted_total",
            "routing_cached_tokens_served_total",
            "routing_index_feedback_purged_total",
            // covered in AccessControlTest
            "coordinator_refused_connection_total",
            "coordinator_refused_engine_total",
            "coordinator_refused_client_total",
            "coordinator_refused_control_total",
            // covered in LimitsTest
            "coordinator_limit_rejected_total",
            "coordinator_clients_released_total",
            // covered in HungEngineTest
            "coordinator_requests_timed_out_total",
            "coordinator_late_replies_total");
    assertThat(Arrays.stream(Metric.values()).map(Metric::metricName))
        .containsExactlyInAnyOrderElementsOf(covered);
  }

  /** A text prompt of four blocks of 16 UTF-8 bytes. */
  private static final String TEXT =
      "a text prompt of exactly sixty-four bytes, four blocks of 16 by.";

  @Test
  void aTextPromptWithoutATokenizerIsRoutedByLoadAndCounted() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine e0 = c.engine(0);
      TestClient client = c.client();
      roundTrip(client, e0, 1, TEXT);
      roundTrip(client, e0, 2, TEXT);
      roundTrip(client, e0, 3, P);
      assertThat(c.count(Metric.ROUTING_TEXT_PROMPT_UNTOKENIZED_TOTAL)).isEqualTo(2);
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL) + c.count(Metric.ROUTING_CACHE_MISS_TOTAL))
          .as("only the token prompt is prefix-routed")
          .isEqualTo(1);
      assertThat(c.observations(Metric.COORDINATOR_TOKENIZE_LATENCY_SECONDS)).isZero();
    }
  }

  @Test
  void aTextPromptIsTokenizedOffTheLoopOnceTimedAndPrefixRouted() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.tokenizer(TestCoordinator.BYTES))) {
      TestEngine e0 = c.engine(0);
      c.engine(1);
      TestClient client = c.client();
      roundTrip(client, e0, 1, TEXT); // a miss: rank 0 wins the tie
      roundTrip(client, e0, 2, TEXT); // rank 0 holds all four blocks: a hit
      assertThat(c.observations(Metric.COORDINATOR_TOKENIZE_LATENCY_SECONDS)).isEqualTo(2);
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.ROUTING_CACHE_MISS_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.ROUTING_TEXT_PROMPT_UNTOKENIZED_TOTAL)).isZero();
    }
  }

  @Test
  void eachTerminalRecordIsDetokenizedOnceTimedAndOneItCannotReadIsCounted() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.tokenizer(TestCoordinator.BYTES))) {
      TestEngine e0 = c.engine(0);
      TestClient client = c.client();
      roundTrip(client, e0, 1, P);
      client.submit(2, P);
      long rid = e0.receiveSubmit().requestId();
      byte[] unreadable =
          Pack.value(Pack.map("request_id", rid, "status", "COMPLETED", "generated_tokens", "7 8"));
      e0.reply(unreadable);
      client.expectFrame(Pack.array(21, 2, Pack.raw(unreadable))); // forwarded as it came
      assertThat(c.observations(Metric.COORDINATOR_DETOKENIZE_LATENCY_SECONDS)).isEqualTo(2);
      assertThat(c.count(Metric.COORDINATOR_DETOKENIZE_FAILED_TOTAL)).isEqualTo(1);
      // counted once the frame is sent, so the client can read it first
      c.awaitCount(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL, 2);
    }
  }

  @Test
  void cacheHitIsCountedOncePerRequestThatFindsItsPrefix() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine e0 = c.engine(0);
      c.engine(1);
      TestClient client = c.client();
      roundTrip(client, e0, 1, P); // first sight: a miss
      roundTrip(client, e0, 2, P); // rank 0 holds it: a hit
      roundTrip(client, e0, 3, P); // and again
      roundTrip(client, e0, 4, new long[] {1, 2, 3}); // no complete block: no lookup at all
      client.expectNothingMore();
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(2);
    }
  }

  @Test
  void cacheMissIsCountedOncePerPrefixRoutedRequestWithoutAFreshMatch() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine e0 = c.engine(0);
      TestClient client = c.client();
      roundTrip(client, e0, 1, P);
      roundTrip(client, e0, 2, Q);
      roundTrip(client, e0, 3, "short text"); // under one block: load only
      client.send(Pack.array(20, 4, P, Pack.map(), Pack.map("image", 1))); // multimodal: load only
      e0.complete(e0.receiveSubmit().requestId());
      client.receiveReply();
      client.expectNothingMore();
      assertThat(c.count(Metric.ROUTING_CACHE_MISS_TOTAL)).isEqualTo(2);
    }
  }

  @Test
  void cacheLookupOfARequestReRoutedPastAnUnreachableEngineIsCountedOnce() throws Exception {
    try (TestCoordinator c = TestCoordinator.start()) {
      EngineLifecycleTest.ReRoute.run(c);
      // request 1: a miss; request 2: a hit on rank 0 that failed to send, then a miss on rank 1
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL) + c.count(Metric.ROUTING_CACHE_MISS_TOTAL))
          .isEqualTo(2);
      assertThat(c.count(Metric.ROUTING_CACHE_MISS_TOTAL)).isEqualTo(2);
      assertThat(c.observations(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS)).isEqualTo(2);
      assertThat(c.observations(Metric.ROUTING_PREFIX_MATCH_RATIO)).isEqualTo(2);
      assertThat(c.count(Metric.ROUTING_STALE_DETECTED_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL)).isEqualTo(2);
    }
  }

  @Test
  void staleIsDetectedOncePerDecisionAfterAGenerationEpochChange() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine e0 = c.engine(0);
      TestClient client = c.client();
      roundTrip(client, e0, 1, P);
      roundTrip(client, e0, 2, P);
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.ROUTING_STALE_DETECTED_TOTAL)).isZero();

      client.send(Pack.array(44, 2)); // new weights: every cache is cold
      e0.expectFrame(Pack.array(44, 2));
      roundTrip(client, e0, 3, P); // both of P's blocks are stale: one decision, counted once
      c.awaitCount(Metric.ROUTING_STALE_DETECTED_TOTAL, 1);
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
      roundTrip(client, e0, 4, P); // written after the epoch: fresh again
      client.expectNothingMore();
      assertThat(c.count(Metric.ROUTING_STALE_DETECTED_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(2);
    }
  }

  @Test
  void aRepeatedGenerationEpochOfTheSameValueLeavesTheIndexFresh() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine e0 = c.engine(0);
      TestClient client = c.client();
      client.send(Pack.array(44, 2));
      e0.expectFrame(Pack.array(44, 2));
      roundTrip(client, e0, 1, P); // written in epoch 2
      client.send(Pack.array(44, 2)); // the same epoch again: the weights did not change
      e0.expectFrame(Pack.array(44, 2));
      roundTrip(client, e0, 2, P);
      client.expectNothingMore();
      assertThat(c.count(Metric.ROUTING_STALE_DETECTED_TOTAL)).isZero();
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
    }
  }

  @Test
  void invalidMessageIsCountedOncePerBadFrame() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestClient client = c.client();
      client.send(new byte[] {(byte) 0x92, 0x00}); // truncated
      client.send(Pack.array(99)); // unknown header
      client.send(Pack.array(20, 1, "p")); // wrong arity
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isEqualTo(3);
    }
  }

  @Test
  void internalErrorStaysZeroThroughBadInputChurnAndShutdown() throws Exception {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client();
      client.send(new byte[] {(byte) 0xc1, (byte) 0xc1});
      client.send(Pack.array(21, Pack.list(Pack.map("request_id", "x"))));
      e0.send(Pack.array(21, Pack.list(Pack.map("request_id", Long.MIN_VALUE))));
      e0.send(
          Pack.array(
              21, Pack.list(Pack.raw(new byte[] {(byte) 0xcf, -1, -1, -1, -1, -1, -1, -1, -1}))));
      client.send(Pack.array(23, Long.MAX_VALUE));
      client.send(Pack.array(25, Long.MIN_VALUE));
      client.submit(1, P);
      client.submit(2, P);
      e0.expectFrame(Pack.array(25, Long.MIN_VALUE)); // the broadcast comes first
      e0.receiveSubmit();
      e1.disconnect();
      e0.kill();
      assertThat(client.receiveReplies(2)).hasSize(2);
      client.submit(3, Q); // nobody left
      client.receiveReply();
      client.send(Pack.array(61));
      assertThat(c.coordinator().awaitTermination(Await.DEADLINE)).isTrue();
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
    }
  }

  @Test
  void unknownSenderIsCountedOncePerMessage() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient stranger = c.unconnectedClient();
      stranger.submit(1, "no handshake");
      engine.send(Pack.array(41));
      stranger.send(Pack.array(21, Pack.list(Pack.raw(ReplyRecords.completed(0)))));
      c.awaitCount(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL, 3);
      stranger.connect();
      assertThat(c.count(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL)).isEqualTo(3);
    }
  }

  @Test
  void engineUnreachableIsCountedOncePerFailedSend() throws Exception {
    try (TestCoordinator c = TestCoordinator.start()) {
      EngineLifecycleTest.HeldSendFails.run(c).expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_ENGINE_UNREACHABLE_TOTAL)).isEqualTo(1);
      // each request's decision once, for the engine that got it: 1 and 2 missed, 3 hit, and 4
      // hit on rank 0, whose send failed, then missed on rank 1
      assertThat(c.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.ROUTING_CACHE_MISS_TOTAL)).isEqualTo(3);
      assertThat(c.observations(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS)).isEqualTo(4);
    }
  }

  @Test
  void allEnginesExhaustedIsCountedOncePerRequestNoEngineCouldTake() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestClient client = c.client();
      client.submit(1, "a");
      client.submit(2, P);
      assertThat(client.receiveReplies(2))
          .allSatisfy(
              r -> assertThat(ReplyRecords.status(r.record().toByteArray())).isEqualTo("FAILED"));
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_ALL_ENGINES_EXHAUSTED_TOTAL)).isEqualTo(2);
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isEqualTo(2);
      assertThat(c.observations(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS)).isZero();
    }
  }

  @Test
  void routingLatencyIsObservedOncePerRoutedRequest() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      roundTrip(client, engine, 1, P);
      roundTrip(client, engine, 2, "text");
      client.send(Pack.array(24, 3, P, Pack.map(), null, Pack.list()));
      engine.complete(((EngineSubmitWithKv) engine.receive()).requestId());
      client.receiveReply();
      engine.disconnect();
      c.awaitActiveEngines(0);
      client.submit(4, "not routed");
      client.receiveReply();
      client.expectNothingMore();
      assertThat(c.observations(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS)).isEqualTo(3);
      assertThat(c.metrics().observations(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS))
          .allSatisfy(seconds -> assertThat(seconds).isBetween(0.0, 10.0));
    }
  }

  @Test
  void processingLatencyIsObservedOncePerMessageBadOnesIncluded() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0); // 1: registration
      TestClient client = c.client(); // 2: CONNECT
      client.submit(1, "x"); // 3
      long rid = engine.receiveSubmit().requestId();
      engine.reply(ReplyRecords.completed(rid)); // 4
      client.receiveReply();
      client.send(Pack.array(99)); // 5: invalid
      engine.send(Pack.array(0)); // 6: unknown sender
      client.send(Pack.array(46)); // 7: broadcast
      engine.expectFrame(Pack.array(46));
      c.awaitObservations(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS, 7);
      client.expectNothingMore(); // 8
      c.awaitObservations(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS, 8);
      assertThat(c.observations(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS))
          .isEqualTo(8);
    }
  }

  @Test
  void activeEnginesGaugeFollowsRegistrationsDeparturesAndDeaths() {
    try (TestCoordinator c = TestCoordinator.start()) {
      assertThat(c.gauge(Metric.COORDINATOR_ACTIVE_ENGINES)).isZero();
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      c.awaitGauge(Metric.COORDINATOR_ACTIVE_ENGINES, 2);
      e0.register(); // a restart keeps the count
      e1.disconnect();
      c.awaitGauge(Metric.COORDINATOR_ACTIVE_ENGINES, 1);
      e0.kill();
      c.awaitGauge(Metric.COORDINATOR_ACTIVE_ENGINES, 0);
      c.engine(2);
      c.awaitGauge(Metric.COORDINATOR_ACTIVE_ENGINES, 1);
    }
  }

  @Test
  void activeEnginesGaugeStaysZeroUntilTheStartUpEnginesAreThere() throws Exception {
    try (TestCoordinator c = TestCoordinator.start(b -> b.expectedEngines(2))) {
      TestClient client = c.client();
      c.engine(0);
      client.expectNothingMore();
      assertThat(c.gauge(Metric.COORDINATOR_ACTIVE_ENGINES)).isZero();
      c.engine(1);
      assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
      c.awaitGauge(Metric.COORDINATOR_ACTIVE_ENGINES, 2);
    }
  }

  @Test
  void requestsInFlightGaugeFollowsAcceptedRequestsUntilTheirTerminalReply() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      for (int cid = 0; cid < 3; cid++) {
        client.submit(cid, "r" + cid);
      }
      long[] rids = engine.receiveSubmitIds(3);
      c.awaitGauge(Metric.COORDINATOR_REQUESTS_IN_FLIGHT, 3);
      engine.complete(rids[0]);
      client.receiveReply();
      c.awaitGauge(Metric.COORDINATOR_REQUESTS_IN_FLIGHT, 2);
      engine.disconnect(); // the other two fail
      client.receiveReplies(2);
      c.awaitGauge(Metric.COORDINATOR_REQUESTS_IN_FLIGHT, 0);
    }
  }

  @Test
  void requestsInFlightGaugeCountsRequestsHeldDuringTheStartUpWait() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.expectedEngines(1))) {
      TestClient client = c.client();
      client.submit(1, "held");
      client.submit(2, "held too");
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 2);
      client.expectNothingMore();
      // accepted, no terminal reply yet: in flight
      assertThat(c.gauge(Metric.COORDINATOR_REQUESTS_IN_FLIGHT)).isEqualTo(2.0);
      assertThat(c.status().inFlight()).isEqualTo(2);
    }
  }

  @Test
  void submittedCountsAcceptedSubmitsOfBothKindsOnly() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      TestClient stranger = c.unconnectedClient();
      client.submit(1, "a");
      client.send(Pack.array(24, 2, "b", Pack.map(), null, Pack.list()));
      client.send(Pack.array(20, 3, "c")); // invalid
      stranger.submit(4, "d"); // unknown sender
      engine.receiveSubmit();
      engine.receiveFrame();
      client.expectNothingMore();
      stranger.connect();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL)).isEqualTo(2);
    }
  }

  @Test
  void completedCountsTerminalRepliesDeliveredFromEnginesOnly() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.submit(1, "a");
      client.submit(2, "b");
      client.submit(3, "c");
      long[] rids = engine.receiveSubmitIds(3);
      engine.replyPartial(ReplyRecords.partial(rids[0], 1)); // not terminal
      client.receivePartial();
      engine.complete(rids[0]);
      engine.reply(
          Pack.value(Pack.map("request_id", rids[1], "status", "FAILED"))); // engine-made FAILED
      client.receiveReplies(2);
      engine.disconnect(); // coordinator-made FAILED for the third
      client.receiveReply();
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isEqualTo(2);
    }
  }

  @Test
  void failedCountsTheFailedRepliesTheCoordinatorWrites() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.submit(1, "a");
      client.submit(2, "b");
      engine.receiveSubmitIds(2);
      engine.disconnect();
      client.receiveReplies(2);
      c.awaitActiveEngines(0);
      client.submit(3, "c");
      client.receiveReply();
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isEqualTo(3);
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isZero();
    }
  }

  @Test
  void knownClientsGaugeCountsHandshakesOnceAndForgetsClientsThatLeave() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestClient a = c.client();
      TestClient b = c.client();
      c.awaitGauge(Metric.COORDINATOR_KNOWN_CLIENTS, 2);
      a.connect();
      a.expectNothingMore();
      assertThat(c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS)).isEqualTo(2.0);
      b.close();
      c.awaitGauge(Metric.COORDINATOR_KNOWN_CLIENTS, 1);
      c.unconnectedClient(); // a socket that never says CONNECT is no client
      a.expectNothingMore();
      assertThat(c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS)).isEqualTo(1.0);
    }
  }

  @Test
  void indexEntriesGaugeCountsTrackedBlockHashes() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      long[] three = SubmitForwardingTest.tokens(48, 1); // three blocks
      long[] sharesTwo = Arrays.copyOf(three, 48);
      sharesTwo[40] = 99_999; // same first two blocks, a different third
      roundTrip(client, engine, 1, three);
      c.awaitGauge(Metric.ROUTING_INDEX_ENTRIES, 3);
      roundTrip(client, engine, 2, sharesTwo);
      c.awaitGauge(Metric.ROUTING_INDEX_ENTRIES, 4);
      roundTrip(client, engine, 3, Arrays.copyOf(three, 47)); // two blocks, both known
      client.expectNothingMore();
      assertThat(c.gauge(Metric.ROUTING_INDEX_ENTRIES)).isEqualTo(4.0);
    }
  }

  @Test
  void evictedCountsHashesDroppedByTheIndexCapacity() {
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.routing(RouterConfig.builder().indexCapacity(4).build()))) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      for (int i = 0; i < 3; i++) {
        roundTrip(client, engine, i, SubmitForwardingTest.tokens(48, 1000L * (i + 1)));
      }
      client.expectNothingMore();
      // nine distinct hashes through an index of four
      assertThat(c.count(Metric.ROUTING_INDEX_EVICTED_TOTAL)).isEqualTo(5);
      assertThat(c.gauge(Metric.ROUTING_INDEX_ENTRIES)).isEqualTo(4.0);
    }
  }

  @Test
  void prefixMatchRatioIsObservedForEachPrefixRoutedDecision() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      long[] firstBlockOnly = Arrays.copyOf(P, 32);
      firstBlockOnly[20] = 77_777;
      roundTrip(client, engine, 1, P); // nothing known: 0
      roundTrip(client, engine, 2, P); // both blocks: 1
      roundTrip(client, engine, 3, firstBlockOnly); // one of two: 0.5
      roundTrip(client, engine, 4, "short"); // load only: not observed
      client.expectNothingMore();
      assertThat(c.metrics().observations(Metric.ROUTING_PREFIX_MATCH_RATIO))
          .containsExactly(0.0, 1.0, 0.5);
    }
  }
}
