package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.server.ControlState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients of Megatron 0.17/0.18 next to clients of main, with main's engines: the handshake in the
 * client's numbering, its SUBMIT and signals translated for the engines, and its records as its
 * release can read them (no 0.19 keys, the prompt filled, no partial replies). Also the frames of
 * clients of releases before 0.17, which are not spoken: counted and named in the log.
 */
@Timeout(30)
class DialectClientsTest {
  static final Object SP = TestClient.SAMPLING;

  /** Keys of a main record that a 0.18 client's {@code DynamicInferenceRequest} rejects. */
  static final List<String> NOT_IN_0_18 =
      List.of("prompt_length", "uid", "cg_wait_iters", "num_cached_tokens", "disaggregated_params");

  /** "Hi" then the byte-level tokenizer's EOD (0). */
  static final long[] HI_EOD = {72, 105, 0};

  /**
   * A record in main's key order with the five keys 0.18 lacks among the others, {@code
   * generated_text} nil and {@code generated_tokens} "Hi" then EOD.
   */
  static Map<Object, Object> mainRecord(long rid, Object prompt) {
    return Pack.map(
        "request_id",
        rid,
        "prompt",
        prompt,
        "sampling_params",
        SP,
        "prompt_tokens",
        null,
        "prompt_length",
        3,
        "status",
        "COMPLETED",
        "generated_text",
        null,
        "generated_tokens",
        HI_EOD,
        "uid",
        "chatcmpl-0123456789abcdef",
        "cg_wait_iters",
        2,
        "block_size_tokens",
        256,
        "num_cached_tokens",
        0,
        "disaggregated_params",
        Pack.map("uid", "nested: kept"),
        "events",
        Pack.list(Pack.map("timestamp", 1.7e9, "type", "FINISH", "payload", null)));
  }

  /** The record as a 0.18 client must get it (without a tokenizer): the five keys gone. */
  static Map<Object, Object> for018(Map<Object, Object> record) {
    Map<Object, Object> m = new LinkedHashMap<>(record);
    m.keySet().removeAll(NOT_IN_0_18);
    return m;
  }

  /** {@code record} with {@code key} set: in place when present, else last (Python's dict). */
  static Map<Object, Object> with(Map<Object, Object> record, String key, Object value) {
    Map<Object, Object> m = new LinkedHashMap<>(record);
    m.put(key, value);
    return m;
  }

  static Pack.Raw raw(Map<Object, Object> record) {
    return Pack.raw(Pack.value(record));
  }

  @Test
  void eachClientIsAnsweredInTheNumberingOfItsConnect() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestClient old = c.unconnectedClient(Dialect.V0_18);
      old.send(Pack.array(1));
      old.expectFrame(Pack.array(2));
      TestClient main = c.unconnectedClient();
      main.send(Pack.array(0));
      main.expectFrame(Pack.array(1));
      old.send(Pack.array(1)); // again, as a connected client: still 0.18's ACK
      old.expectFrame(Pack.array(2));
      c.awaitGauge(Metric.COORDINATOR_KNOWN_CLIENTS, 2);
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void anOldClientsSubmitReachesMainEnginesAsMainsAndOnlyItsRecordLosesTheKeys018Lacks() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient old = c.client(Dialect.V0_18);
      TestClient main = c.client();
      old.submit(5, "from 0.18");
      long ridOld = engine.expectSubmitFrame(rid -> Pack.array(20, rid, "from 0.18", SP, null));
      main.submit(6, new long[] {1, 2, 3});
      long ridMain =
          engine.expectSubmitFrame(rid -> Pack.array(20, rid, new long[] {1, 2, 3}, SP, null));

      Map<Object, Object> recordOld = mainRecord(ridOld, "from 0.18");
      Map<Object, Object> recordMain = mainRecord(ridMain, null);
      engine.reply(Pack.value(recordOld), Pack.value(recordMain)); // one batch for both
      old.expectFrame(Pack.array(4, 5, raw(for018(recordOld))));
      main.expectFrame(Pack.array(21, 6, raw(recordMain)));
      old.expectNothingMore();
      main.expectNothingMore();
      c.awaitCount(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL, 2);
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void withATokenizerAnOldClientsNilPromptIsFilledWithTheTokensItSubmitted() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.tokenizer(TestCoordinator.BYTES))) {
      TestEngine engine = c.engine(0);
      TestClient old = c.client(Dialect.V0_18);
      TestClient main = c.client();
      old.submit(1, HI_EOD);
      long tokens = engine.expectSubmitFrame(rid -> Pack.array(20, rid, HI_EOD, SP, null));
      old.submit(2, "Hey");
      long text = engine.expectSubmitFrame(rid -> Pack.array(20, rid, "Hey", SP, null));
      old.submit(3, new long[] {72, 105});
      long noKey =
          engine.expectSubmitFrame(rid -> Pack.array(20, rid, Pack.list(72, 105), SP, null));
      main.submit(4, HI_EOD);
      long ridMain = engine.expectSubmitFrame(rid -> Pack.array(20, rid, HI_EOD, SP, null));

      Map<Object, Object> recordTokens = mainRecord(tokens, null);
      Map<Object, Object> recordText = mainRecord(text, null);
      Map<Object, Object> recordNoKey = mainRecord(noKey, null);
      recordNoKey.remove("prompt");
      Map<Object, Object> recordMain = mainRecord(ridMain, null);
      engine.reply(
          Pack.value(recordTokens),
          Pack.value(recordText),
          Pack.value(recordNoKey),
          Pack.value(recordMain));

      // the prompt keeps its EOD, generated_text loses it
      List<String> expected =
          List.of(
              Pack.describe(
                  Pack.array(
                      4,
                      1,
                      raw(
                          with(
                              with(for018(recordTokens), "prompt", "Hi\0"),
                              "generated_text",
                              "Hi")))),
              Pack.describe(
                  Pack.array(4, 2, raw(with(for018(recordText), "generated_text", "Hi")))),
              Pack.describe(
                  Pack.array(
                      4,
                      3,
                      raw(
                          with(
                              with(for018(recordNoKey), "prompt", "Hi"),
                              "generated_text",
                              "Hi")))));
      List<String> got = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        got.add(Pack.describe(old.receiveFrame()));
      }
      assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
      // a main client: only generated_text, as before
      main.expectFrame(Pack.array(21, 4, raw(with(recordMain, "generated_text", "Hi"))));
      old.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_DETOKENIZE_FAILED_TOTAL)).isZero();
    }
  }

  @Test
  void anOldClientsRecordLosesTheKeysEvenWhenItCannotBeDetokenized() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.tokenizer(TestCoordinator.BYTES))) {
      TestEngine engine = c.engine(0);
      TestClient old = c.client(Dialect.V0_18);
      long[] notBytes = {300}; // the byte-level tokenizer cannot decode 256..511
      old.submit(1, notBytes);
      long rid = engine.expectSubmitFrame(id -> Pack.array(20, id, notBytes, SP, null));
      Map<Object, Object> record = with(mainRecord(rid, null), "generated_tokens", notBytes);
      engine.reply(Pack.value(record));
      old.expectFrame(Pack.array(4, 1, raw(for018(record))));
      old.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_DETOKENIZE_FAILED_TOTAL)).isEqualTo(1);
    }
  }

  @Test
  void partialRepliesReachMainClientsOnlyAndAnOldClientGetsJustTheFinalReply() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient old = c.client(Dialect.V0_18);
      TestClient main = c.client();
      old.submit(1, "streamed to nobody");
      long ridOld =
          engine.expectSubmitFrame(rid -> Pack.array(20, rid, "streamed to nobody", SP, null));
      main.submit(2, "streamed");
      long ridMain = engine.expectSubmitFrame(rid -> Pack.array(20, rid, "streamed", SP, null));

      engine.replyPartial(ReplyRecords.partial(ridOld, 1), ReplyRecords.partial(ridMain, 1));
      engine.replyPartial(ReplyRecords.partial(ridOld, 2));
      engine.complete(ridOld, ridMain);
      main.expectFrame(Pack.array(22, 2, Pack.raw(ReplyRecords.partial(ridMain, 1))));
      main.expectFrame(Pack.array(21, 2, Pack.raw(ReplyRecords.completed(ridMain))));
      old.expectFrame(Pack.array(4, 1, Pack.raw(ReplyRecords.completed(ridOld))));
      old.expectNothingMore();
      main.expectNothingMore();
    }
  }

  @Test
  void anOldClientsControlSignalsReachMainEnginesInMainsNumbering() {
    try (TestCoordinator c = TestCoordinator.start()) {
      List<TestEngine> engines = List.of(c.engine(0), c.engine(1));
      TestClient old = c.client(Dialect.V0_18);
      TestClient main = c.client();
      Object[][] steps = {
        // sent by the 0.18 client, received by the engines, state after
        {Pack.array(5), Pack.array(40), ControlState.PAUSED},
        {Pack.array(7), Pack.array(42), ControlState.SUSPENDED},
        {Pack.array(9, 7), Pack.array(44, 7), ControlState.SUSPENDED},
        {Pack.array(8), Pack.array(43), ControlState.PAUSED},
        {Pack.array(6), Pack.array(41), ControlState.RUNNING},
        {Pack.array(5), Pack.array(40), ControlState.PAUSED},
        {Pack.array(10), Pack.array(45), ControlState.RUNNING},
      };
      for (Object[] step : steps) {
        old.send((byte[]) step[0]);
        for (TestEngine e : engines) {
          e.expectFrame((byte[]) step[1]);
        }
        c.awaitControlState((ControlState) step[2]);
      }
      main.send(Pack.array(40)); // a main client's, at the same time: as it is
      for (TestEngine e : engines) {
        e.expectFrame(Pack.array(40));
      }
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }

  @Test
  void anOldClientsShutdownAnswersWhatIsPendingFailedInItsNumbering() throws Exception {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient old = c.client(Dialect.V0_18);
      old.submit(3, "pending");
      long rid = engine.expectSubmitFrame(id -> Pack.array(20, id, "pending", SP, null));
      old.send(Pack.array(12));
      ClientReply reply = old.receiveReply(); // decoded as 0.18 decodes: header 4
      assertThat(reply.clientRequestId()).isEqualTo(3);
      ReplyRecords.assertFailed(
          reply.record().toByteArray(), rid, Pack.value("pending"), Pack.value(SP));
      assertThat(c.coordinator().awaitTermination(Await.DEADLINE)).isTrue();
    }
  }

  @Test
  void aCoreV015ClientsSubmitIsCountedInvalidNamingItsReleaseAndNothingIsAccepted() {
    // core_v0.15 numbers CONNECT 0, ACK 1 (main's), SUBMIT_REQUEST 2, ... STOP 6
    assertAnOlderReleasesFrameIsNamed(
        Dialect.V0_19,
        Pack.array(2, 7, Pack.list(1, 2, 3), SP),
        "core_v0.15's SUBMIT_REQUEST",
        "core_v0.15 clients are served with core_v0.15 engines and serve --engine-wire 0.15");
  }

  @Test
  void aCoreV016ClientsResumeIsCountedInvalidNamingItsRelease() {
    // core_v0.16 numbers CONNECT 1 ... RESUME 9, where 0.18 has SET_GENERATION_EPOCH and its epoch
    assertAnOlderReleasesFrameIsNamed(
        Dialect.V0_18,
        Pack.array(9),
        "core_v0.16's RESUME",
        "core_v0.16 clients are served with core_v0.16 engines and serve --engine-wire 0.16");
  }

  /**
   * A client that connects in {@code dialect} sends {@code frame}: counted invalid, logged as what
   * it reads as in an older release, nothing reaches the engine, and the next request is the
   * coordinator's first. The log line also says {@code what} of that release.
   */
  private static void assertAnOlderReleasesFrameIsNamed(
      Dialect dialect, byte[] frame, String readsAs, String what) {
    try (LogLines log = LogLines.warningsOf("io.dpcoord.server.EventLoop");
        TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient older = c.client(dialect);
      older.send(frame);
      assertThat(log.await(readsAs)).contains(what);
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 1);
      older.expectNothingMore();
      c.client().submit(1, "after it");
      assertThat(engine.receiveSubmit().requestId()).isZero();
    }
  }
}
