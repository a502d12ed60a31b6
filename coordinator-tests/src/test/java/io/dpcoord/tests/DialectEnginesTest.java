package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.server.ControlState;
import io.dpcoord.server.CoordinatorConfig;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Engines of Megatron 0.17/0.18 ({@code serve --engine-wire 0.18}): every client's SUBMIT reaches
 * them in three fields, what their release lacks (multimodal data, KV handoff, aborts, profiler
 * signals, RELEASE_KV) never does, and an engine frame in the other release's numbering is counted
 * and dropped, whichever release the engines run. Absence of traffic is shown with a broadcast
 * sentinel (PAUSE): every engine receives it, so anything sent before it would arrive first.
 */
@Timeout(30)
class DialectEnginesTest {
  private static final Object SP = TestClient.SAMPLING;

  private static TestCoordinator oldEngines() {
    return Lacking.V0_18.start();
  }

  @Test
  void
      everyClientsSubmitReachesOldEnginesWithThreeFieldsAndTheRepliesComeBackInEachClientsDialect() {
    try (TestCoordinator c = oldEngines()) {
      TestEngine engine = c.engine(0);
      TestClient main = c.client();
      TestClient old = c.client(Dialect.V0_18);
      main.submit(1, "four elements");
      long r1 = engine.expectSubmitFrame(rid -> Pack.array(3, rid, "four elements", SP));
      main.send(Pack.array(20, 2, Pack.list(1, 2), SP, null)); // multi_modal_data nil
      long r2 = engine.expectSubmitFrame(rid -> Pack.array(3, rid, Pack.list(1, 2), SP));
      old.submit(3, "from 0.18");
      long r3 = engine.expectSubmitFrame(rid -> Pack.array(3, rid, "from 0.18", SP));

      engine.complete(r1, r2, r3); // [4, [...]]
      main.expectFrame(Pack.array(21, 1, Pack.raw(ReplyRecords.completed(r1))));
      main.expectFrame(Pack.array(21, 2, Pack.raw(ReplyRecords.completed(r2))));
      old.expectFrame(Pack.array(4, 3, Pack.raw(ReplyRecords.completed(r3))));
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();

      engine.disconnect(); // [11]
      c.awaitActiveEngines(0);
    }
  }

  /**
   * Engines of Megatron's dev branch (d48bd6b) speak 0.18's wire but add {@code cg_wait_iters} to
   * each record, which a core_v0.18.2 client's {@code cls(**obj)} rejects: that client gets the
   * record without it, a main client (whose requests know the key) gets the engine's bytes.
   */
  @Test
  void aDevBranchEnginesExtraKeyIsRemovedForOldClientsOnly() {
    try (TestCoordinator c = oldEngines()) {
      TestEngine engine = c.engine(0);
      TestClient main = c.client();
      TestClient old = c.client(Dialect.V0_18);
      main.submit(1, "main");
      long r1 = engine.expectSubmitFrame(rid -> Pack.array(3, rid, "main", SP));
      old.submit(2, "old");
      long r2 = engine.expectSubmitFrame(rid -> Pack.array(3, rid, "old", SP));

      Map<Object, Object> dev1 = devRecord(r1, "main");
      Map<Object, Object> dev2 = devRecord(r2, "old");
      engine.reply(Pack.value(dev1), Pack.value(dev2));
      main.expectFrame(Pack.array(21, 1, DialectClientsTest.raw(dev1)));
      old.expectFrame(Pack.array(4, 2, DialectClientsTest.raw(DialectClientsTest.for018(dev2))));
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  /**
   * A finished record as the dev branch's engine writes it: 0.18's keys (those of main's record
   * that 0.18 knows), then its new one.
   */
  private static Map<Object, Object> devRecord(long rid, String prompt) {
    return DialectClientsTest.with(
        DialectClientsTest.for018(DialectClientsTest.mainRecord(rid, prompt)), "cg_wait_iters", 3);
  }

  /**
   * Routing follows the engines' release. Prompts without a complete block: 0.18 goes round-robin
   * over the engines in registration order (a cursor moved only by its own picks), where main would
   * choose the least-loaded engine; an engine that leaves and comes back is appended to that order.
   * Hand computation: picks 0, 1, 2, 0 (cursor 4 % 3 = 1 -> 1); rank 1 leaves, the order is [0, 2];
   * it returns, [0, 2, 1]; the cursor is 1: picks 2, 1, 0. Main would pick rank 0 second (it has
   * completed its request) and the returning engine (no requests) after it came back.
   */
  @Test
  void oldEnginesAreChosenRoundRobinInRegistrationOrderWhenNoBlockIsComplete() {
    try (TestCoordinator c = oldEngines()) {
      TestEngine[] e = {c.engine(0), c.engine(1), c.engine(2)};
      TestClient client = c.client();
      long[] shortPrompt = {1, 2, 3};
      client.submit(1, shortPrompt);
      e[0].complete(e[0].receiveSubmit().requestId());
      client.receiveReply();
      List<String> chosen = new java.util.ArrayList<>();
      for (int i = 2; i <= 4; i++) {
        client.submit(i, shortPrompt);
        chosen.add(TestEngine.receiveSubmitOnAny(e).engine().identity());
      }
      assertThat(chosen).containsExactly(id(1), id(2), id(0));

      e[1].disconnect();
      c.awaitActiveEngines(2);
      e[1].kill();
      e[1] = c.engine(1);
      chosen.clear();
      for (int i = 5; i <= 7; i++) {
        client.submit(i, shortPrompt);
        chosen.add(TestEngine.receiveSubmitOnAny(e).engine().identity());
      }
      assertThat(chosen).containsExactly(id(2), id(1), id(0));
    }
  }

  private static String id(int rank) {
    return TestEngine.identityOf(rank);
  }

  /**
   * Engines that lack what main added to requests later (multimodal data, KV handoff, aborts,
   * RELEASE_KV): 0.18's, in the old numbering, and core_v0.19.0's ({@code --engine-wire 0.19.0}),
   * in main's.
   */
  enum Lacking {
    V0_18("Megatron 0.18", 3, 5, b -> b.engineDialect(Dialect.V0_18)),
    CORE_V0190("Megatron core_v0.19.0", 20, 40, b -> b.engineCoreV0190(true));

    final String release;
    final int submit;
    final int pause;
    final Consumer<CoordinatorConfig.Builder> settings;

    Lacking(String release, int submit, int pause, Consumer<CoordinatorConfig.Builder> settings) {
      this.release = release;
      this.submit = submit;
      this.pause = pause;
      this.settings = settings;
    }

    TestCoordinator start() {
      return TestCoordinator.start(settings);
    }
  }

  @ParameterizedTest
  @EnumSource(Lacking.class)
  void multimodalDataAndKvHandoffAreAnsweredFailedNamingWhyAndNeverReachTheEngines(Lacking r) {
    try (TestCoordinator c = r.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      Object media = Pack.map("image", new byte[] {1, 2, 3});
      client.send(Pack.array(20, 1, "look", SP, media));
      assertFailed(client.receiveReply(), 1, Pack.value("look"), r.release, "multimodal");
      client.send(
          Pack.array(
              24, 2, Pack.list(5, 6), SP, Pack.map("block_ids", Pack.list(1)), Pack.list(9)));
      assertFailed(
          client.receiveReply(),
          2,
          Pack.value(Pack.list(5, 6)),
          r.release,
          "SUBMIT_REQUEST_WITH_KV");

      client.submit(3, "plain");
      // the first it receives, in three fields
      engine.expectSubmitFrame(rid -> Pack.array(r.submit, rid, "plain", SP));
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isEqualTo(2);
      c.awaitInFlight(1);
      assertNoInternalError(c);
    }
  }

  private static void assertNoInternalError(TestCoordinator c) {
    assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
  }

  private static void assertFailed(
      ClientReply reply, long cid, byte[] prompt, String release, String reason) {
    assertThat(reply.clientRequestId()).isEqualTo(cid);
    byte[] record = reply.record().toByteArray();
    ReplyRecords.assertFailed(record, ReplyRecords.requestId(record), prompt, Pack.value(SP));
    assertThat(ReplyRecords.failureMessage(record)).contains(release).contains(reason);
  }

  @ParameterizedTest
  @EnumSource(Lacking.class)
  void neitherAnAbortNorReleaseKvIsSentAndTheRequestIsAnsweredOnceByItsEngine(Lacking r) {
    try (TestCoordinator c = r.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.submit(1, "runs to its end");
      long rid = engine.expectSubmitFrame(id -> Pack.array(r.submit, id, "runs to its end", SP));
      client.send(Pack.array(23, 1)); // ABORT_REQUEST
      client.send(Pack.array(25, 7)); // RELEASE_KV
      client.send(Pack.array(40)); // PAUSE, the sentinel
      engine.expectFrame(Pack.array(r.pause)); // and nothing before it
      engine.complete(rid);
      client.expectFrame(Pack.array(21, 1, Pack.raw(ReplyRecords.completed(rid))));
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
      assertNoInternalError(c); // an abort it tried to write in 0.18 would be one
    }
  }

  @Test
  void anAbortOfARequestWaitingForTheStartUpEnginesIsNotForwardedOnceItIsRouted() throws Exception {
    try (TestCoordinator c =
        TestCoordinator.start(b -> b.engineDialect(Dialect.V0_18).expectedEngines(1))) {
      TestClient client = c.client();
      client.submit(5, "held, then aborted");
      client.send(Pack.array(23, 5));
      client.expectNothingMore(); // both handled before the engine comes
      TestEngine engine = c.engine(0);
      assertThat(c.status().awaitStarted(Await.DEADLINE)).isTrue();
      long rid = engine.expectSubmitFrame(id -> Pack.array(3, id, "held, then aborted", SP));
      client.send(Pack.array(40));
      engine.expectFrame(Pack.array(5));
      engine.complete(rid);
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(5);
      assertNoInternalError(c);
    }
  }

  @Test
  void aClientThatLeavesIsForgottenWithoutAnAbortToOldEngines() {
    try (TestCoordinator c = oldEngines()) {
      TestEngine engine = c.engine(0);
      TestClient gone = c.client();
      TestClient stays = c.client();
      gone.submit(1, "orphan");
      long orphan = engine.expectSubmitFrame(id -> Pack.array(3, id, "orphan", SP));
      gone.close();
      c.awaitGauge(Metric.COORDINATOR_KNOWN_CLIENTS, 1);
      stays.send(Pack.array(40));
      engine.expectFrame(Pack.array(5)); // and no abort before it
      engine.complete(orphan); // its reply is dropped
      stays.submit(2, "still served");
      long rid = engine.expectSubmitFrame(id -> Pack.array(3, id, "still served", SP));
      engine.complete(rid);
      stays.expectFrame(Pack.array(21, 2, Pack.raw(ReplyRecords.completed(rid))));
      c.awaitInFlight(0);
      assertNoInternalError(c);
    }
  }

  @Test
  void controlSignalsReachOldEnginesInTheOldNumberingFromClientsOfEitherRelease() {
    try (TestCoordinator c = oldEngines()) {
      List<TestEngine> engines = List.of(c.engine(0), c.engine(1));
      TestClient main = c.client();
      TestClient old = c.client(Dialect.V0_18);
      Object[][] steps = {
        // sender, sent, received by the engines, state after
        {main, Pack.array(40), Pack.array(5), ControlState.PAUSED},
        {main, Pack.array(42), Pack.array(7), ControlState.SUSPENDED},
        {main, Pack.array(44, 9), Pack.array(9, 9), ControlState.SUSPENDED},
        {main, Pack.array(43), Pack.array(8), ControlState.PAUSED},
        {main, Pack.array(41), Pack.array(6), ControlState.RUNNING},
        {old, Pack.array(5), Pack.array(5), ControlState.PAUSED},
        {old, Pack.array(9, 1L << 40), Pack.array(9, 1L << 40), ControlState.PAUSED},
        {main, Pack.array(45), Pack.array(10), ControlState.RUNNING},
      };
      for (Object[] step : steps) {
        ((TestClient) step[0]).send((byte[]) step[1]);
        for (TestEngine e : engines) {
          e.expectFrame((byte[]) step[2]);
        }
        c.awaitControlState((ControlState) step[3]);
      }
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void profilerSignalsAndReleaseKvAreDroppedForOldEngines() {
    try (TestCoordinator c = oldEngines()) {
      List<TestEngine> engines = List.of(c.engine(0), c.engine(1));
      TestClient client = c.client();
      client.send(Pack.array(46));
      client.send(Pack.array(47));
      client.send(Pack.array(25, 7));
      client.send(Pack.array(40));
      for (TestEngine e : engines) {
        e.expectFrame(Pack.array(5)); // the first they receive
      }
      c.awaitControlState(ControlState.PAUSED);
      client.expectNothingMore();
      assertNoInternalError(c); // a signal it tried to write in 0.18 would be one
    }
  }

  @Test
  void anOldReplyFromAMainEngineIsCountedInvalidNamingTheFlagAndALaterReplyStillFlows() {
    assertForeignFramesAreDroppedAndALaterReplyFlows(
        Dialect.V0_19,
        "0.18's ENGINE_REPLY",
        rid ->
            List.of(
                Pack.array(4, Pack.list(Pack.raw(ReplyRecords.completed(rid)))),
                Pack.array(11))); // 0.18's DISCONNECT: not obeyed either
  }

  @Test
  void aMainReplyFromAnOldEngineIsCountedInvalidNamingTheFlagAndALaterReplyStillFlows() {
    assertForeignFramesAreDroppedAndALaterReplyFlows(
        Dialect.V0_18,
        "0.19's ENGINE_REPLY",
        rid ->
            List.of(
                Pack.array(21, Pack.list(Pack.raw(ReplyRecords.completed(rid)))),
                Pack.array(22, Pack.list(Pack.raw(ReplyRecords.partial(rid, 1)))),
                Pack.array(60))); // main's DISCONNECT: not obeyed either
  }

  /**
   * With engines of {@code engines}, an engine sends {@code foreign} frames (in the other release's
   * numbering) for a pending request: each is counted invalid, the first is logged as what it
   * {@code readsAs} naming the flag, and the engine's proper reply then still reaches the client.
   */
  private static void assertForeignFramesAreDroppedAndALaterReplyFlows(
      Dialect engines, String readsAs, LongFunction<List<byte[]>> foreign) {
    Dialect other = engines == Dialect.V0_18 ? Dialect.V0_19 : Dialect.V0_18;
    try (LogLines log = LogLines.warningsOf("io.dpcoord.server.EventLoop");
        TestCoordinator c = TestCoordinator.start(b -> b.engineDialect(engines))) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.submit(1, "answered once");
      long rid = engine.receiveSubmit().requestId();
      List<byte[]> frames = foreign.apply(rid);
      frames.forEach(engine::send);
      assertThat(log.await("reads as Megatron " + readsAs))
          .contains("start serve with --engine-wire " + other.cliName());
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, frames.size());
      assertThat(c.status().activeEngines()).isEqualTo(1);

      engine.complete(rid);
      client.expectFrame(Pack.array(21, 1, Pack.raw(ReplyRecords.completed(rid))));
      client.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isEqualTo(frames.size());
      assertNoInternalError(c);
    }
  }
}
