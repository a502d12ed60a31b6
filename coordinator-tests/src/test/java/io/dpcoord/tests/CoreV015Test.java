package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.tokenizers.Tokenizers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.msgpack.value.Value;

/**
 * {@code --engine-wire 0.15}: Megatron core_v0.15's engines send one ENGINE_REPLY per step, and the
 * coordinator builds each finished request's record itself, as that release's coordinator does
 * ({@code postprocess}). The frames are written out by hand in core_v0.15's numbering (CONNECT 0,
 * ACK 1, SUBMIT_REQUEST 2, ENGINE_REPLY 3, PAUSE 4, UNPAUSE 5, STOP 6) and what comes back is read
 * with msgpack-core, not with the coordinator's codec; the expected records are written out by hand
 * from core_v0.15.3's {@code DynamicInferenceRequest} (22 keys) with its NullTokenizer's text.
 */
@Timeout(30)
class CoreV015Test {
  private static final long EOD = 1 << 20;
  private static final Map<Object, Object> PARAMS = Pack.map("num_tokens_to_generate", 3);
  private static final Duration QUIET = Duration.ofMillis(200);

  /** A coordinator for core_v0.15 engines with serve's defaults for them: round robin. */
  private static TestCoordinator start() {
    return TestCoordinator.start(
        b ->
            b.engineDialect(Dialect.V0_15)
                .routing(
                    RouterConfig.builder()
                        .release(MegatronRelease.V0_18)
                        .policy(Policy.ROUND_ROBIN)
                        .build())
                .tokenizer(Tokenizers.fromSpec("null:" + EOD + ",eod=" + EOD)));
  }

  /** core_v0.15's engine step. */
  private static byte[] step(
      List<Object> ids, List<Object> finished, List<Object> tokens, Object logProbs) {
    return Pack.array(3, ids, finished, tokens, logProbs, -1, true);
  }

  /** The reply a client got, {@code [cid, record]} without a header, as JSON. */
  private static String reply(TestClient client) {
    Value v = Pack.unpack(client.receiveFrame());
    assertThat(v.asArrayValue().size()).as("[cid, record]").isEqualTo(2);
    return v.toJson();
  }

  /** The 22 keys of core_v0.15's record of a request, the values as its coordinator sets them. */
  private static String record(
      long rid,
      String prompt,
      String tokens,
      String text,
      String generated,
      String promptLogProbs,
      String generatedLogProbs,
      int length) {
    return "{\"request_id\":"
        + rid
        + ",\"prompt\":"
        + prompt
        + ",\"sampling_params\":null,\"inference_parameters\":null,\"prompt_tokens\":"
        + tokens
        + ",\"arrival_time\":null,\"status\":null,\"encoder_prompt\":null,\"generated_text\":"
        + text
        + ",\"segments\":null,\"generated_segments\":null,\"generated_sequence_lengths\":null,"
        + "\"generated_tokens\":"
        + generated
        + ",\"prompt_log_probs\":"
        + promptLogProbs
        + ",\"generated_log_probs\":"
        + generatedLogProbs
        + ",\"prompt_top_n_logprobs\":null,\"generated_top_n_logprobs\":null,\"generated_length\":"
        + length
        + ",\"tpot\":null,\"remaining_prompt_tokens\":"
        + tokens
        + ",\"latency\":null,\"events\":[]}";
  }

  @Test
  void stepsBecomeTheRecordItsCoordinatorSendsWithoutAHeader() {
    try (TestCoordinator c = start()) {
      TestEngine e0 = c.engine("tp-coord-0");
      TestEngine e1 = c.engine("tp-coord-1");
      TestClient client = c.client(Dialect.V0_15);
      client.submit(7, Pack.list(5, 6, 7), PARAMS);
      client.submit(8, "8 9", PARAMS); // text: the engine gets the tokens
      // round robin in registration order, the coordinator's own ids from 0
      e0.expectFrame(Pack.array(2, 0, Pack.list(5, 6, 7), PARAMS));
      e1.expectFrame(Pack.array(2, 1, Pack.list(8, 9), PARAMS));

      // prefill: log probs of more than one token are the prompt's; then one per step
      e0.send(step(Pack.list(0), Pack.list(), Pack.list(100), Pack.list(Pack.list(-0.5, -0.25))));
      e1.send(step(Pack.list(1), Pack.list(), Pack.list(200), null));
      e0.send(step(Pack.list(0), Pack.list(0), Pack.list(EOD), Pack.list(Pack.list(-0.125))));
      assertThat(reply(client))
          .isEqualTo(
              "[7,"
                  + record(
                      0,
                      "[5,6,7]",
                      "[5,6,7]",
                      "\"100 " + EOD + "\"",
                      "[100," + EOD + "]",
                      "[-0.5,-0.25]",
                      "[-0.125]",
                      2)
                  + "]");
      e1.send(step(Pack.list(1), Pack.list(1), Pack.list(201), null));
      assertThat(reply(client))
          .isEqualTo(
              "[8,"
                  + record(1, "\"8 9\"", "[8,9]", "\"200 201\"", "[200,201]", "null", "null", 2)
                  + "]");
    }
  }

  @Test
  void theRequestInChunkedPrefillGetsNoTokenAndDoesNotFinish() {
    try (TestCoordinator c = start()) {
      TestEngine e0 = c.engine("tp-coord-0");
      TestClient client = c.client(Dialect.V0_15);
      client.submit(1, Pack.list(1, 2, 3, 4), PARAMS);
      e0.expectFrame(Pack.array(2, 0, Pack.list(1, 2, 3, 4), PARAMS));
      // request 0 in chunked prefill, gathering every prompt token's log probs: no token, and
      // its id among the finished ones is skipped
      e0.send(
          Pack.array(
              3,
              Pack.list(0),
              Pack.list(0),
              Pack.list(99),
              Pack.list(Pack.list(-1.0, -2.0)),
              0,
              false));
      client.expectNothingMore();
      // single log probs are the prompt's while fewer than its four tokens' are gathered, then
      // the generated tokens'
      for (int i = 0; i < 3; i++) {
        e0.send(
            Pack.array(
                3,
                Pack.list(0),
                i == 2 ? Pack.list(0) : Pack.list(),
                Pack.list(50 + i),
                Pack.list(Pack.list(-3.0 - i)),
                -1,
                false));
      }
      assertThat(reply(client))
          .isEqualTo(
              "[1,"
                  + record(
                      0,
                      "[1,2,3,4]",
                      "[1,2,3,4]",
                      "\"50 51 52\"",
                      "[50,51,52]",
                      "[-1.0,-2.0,-3.0,-4.0]",
                      "[-5.0]",
                      3)
                  + "]");
    }
  }

  @Test
  void aDeadEnginesRequestsAreAnsweredFailedWithTheKeysItsClientTakes() {
    try (TestCoordinator c = start()) {
      TestEngine e0 = c.engine("tp-coord-0");
      TestClient client = c.client(Dialect.V0_15);
      client.submit(3, "4 5", PARAMS);
      e0.expectFrame(Pack.array(2, 0, Pack.list(4, 5), PARAMS));
      e0.send(step(Pack.list(0), Pack.list(), Pack.list(9), null));
      e0.kill();
      Value failed = Pack.unpack(client.receiveFrame());
      assertThat(failed.asArrayValue().get(0).asIntegerValue().asLong()).isEqualTo(3);
      Map<Value, Value> record = failed.asArrayValue().get(1).asMapValue().map();
      List<String> keys = new ArrayList<>();
      record.keySet().forEach(k -> keys.add(k.asStringValue().asString()));
      assertThat(keys)
          .containsExactly(
              "request_id",
              "prompt",
              "sampling_params",
              "inference_parameters",
              "prompt_tokens",
              "arrival_time",
              "status",
              "encoder_prompt",
              "generated_text",
              "segments",
              "generated_segments",
              "generated_sequence_lengths",
              "generated_tokens",
              "prompt_log_probs",
              "generated_log_probs",
              "prompt_top_n_logprobs",
              "generated_top_n_logprobs",
              "generated_length",
              "tpot",
              "remaining_prompt_tokens",
              "latency",
              "events");
      assertThat(get(record, "status").toJson()).isEqualTo("\"FAILED\"");
      assertThat(get(record, "prompt").toJson()).isEqualTo("\"4 5\"");
      assertThat(get(record, "prompt_tokens").toJson()).isEqualTo("[4,5]");
      assertThat(get(record, "events").toJson()).contains("ERROR_NONTRANSIENT", "disconnected");
    }
  }

  private static Value get(Map<Value, Value> record, String key) {
    return record.entrySet().stream()
        .filter(e -> e.getKey().asStringValue().asString().equals(key))
        .findFirst()
        .orElseThrow()
        .getValue();
  }

  @Test
  void everySignalReachesEveryEngineAsItsCoordinatorBroadcastsThem() {
    try (TestCoordinator c = start()) {
      TestEngine e0 = c.engine("tp-coord-0");
      TestEngine e1 = c.engine("tp-coord-1");
      TestClient client = c.client(Dialect.V0_15);
      // no state machine: a second PAUSE is sent on too, and STOP leaves the coordinator serving
      for (int signal : new int[] {4, 4, 5, 6}) {
        client.send(Pack.array(signal));
        e0.expectFrame(Pack.array(signal));
        e1.expectFrame(Pack.array(signal));
      }
      client.submit(0, Pack.list(1), PARAMS);
      e0.expectFrame(Pack.array(2, 0, Pack.list(1), PARAMS));
    }
  }

  @Test
  void stepsForRequestsNotPendingOnTheEngineAreDroppedAndCountedAndMalformedOnesRejected() {
    try (TestCoordinator c = start()) {
      TestEngine e0 = c.engine("tp-coord-0");
      TestEngine e1 = c.engine("tp-coord-1");
      TestClient client = c.client(Dialect.V0_15);
      client.submit(0, Pack.list(1), PARAMS);
      client.submit(1, Pack.list(2), PARAMS);
      e0.expectFrame(Pack.array(2, 0, Pack.list(1), PARAMS));
      e1.expectFrame(Pack.array(2, 1, Pack.list(2), PARAMS));
      // request 1 is e1's and 42 nobody's: both entries are dropped, request 0's applied
      e0.send(step(Pack.list(1, 42, 0), Pack.list(), Pack.list(7, 7, 30), null));
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 2);
      // a log prob that is no list fails its core_v0.15 coordinator's len(): the frame is rejected
      e0.send(step(Pack.list(0), Pack.list(0), Pack.list(31), Pack.list(-0.5)));
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 3);
      e0.send(step(Pack.list(0), Pack.list(0), Pack.list(32), null));
      assertThat(reply(client))
          .isEqualTo(
              "[0," + record(0, "[1]", "[1]", "\"30 32\"", "[30,32]", "null", "null", 2) + "]");
      assertThat(client.poll(QUIET)).isNull();
    }
  }

  @Test
  void aCoreV015EngineAtACoordinatorOfAnotherReleaseIsRefusedWithTheFlagToUse() {
    try (LogLines log = LogLines.warningsOf("io.dpcoord.server.EventLoop");
        TestCoordinator c = TestCoordinator.start()) {
      c.unregisteredEngine("tp-coord-0").register();
      assertThat(log.await("refused a registration from tp-coord-0"))
          .contains("does not match --engine-identity-pattern mp-coord-*")
          .contains("a Megatron core_v0.15 engine: serve --engine-wire 0.15");
      c.awaitCount(Metric.COORDINATOR_REFUSED_ENGINE_TOTAL, 1);
    }
  }

  @Test
  void textIsTokenizedOffTheLoopAndStillRoutedInArrivalOrder() {
    try (TestCoordinator c = start()) {
      TestEngine e0 = c.engine("tp-coord-0");
      TestEngine e1 = c.engine("tp-coord-1");
      TestClient client = c.client(Dialect.V0_15);
      List<Object> tokens = new ArrayList<>();
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < 50_000; i++) { // long enough that its token prompt could overtake it
        tokens.add(i % 1000);
        text.append(i == 0 ? "" : " ").append(i % 1000);
      }
      client.submit(0, text.toString(), PARAMS);
      client.submit(1, Pack.list(7), PARAMS);
      client.submit(2, "not a number", PARAMS); // the NullTokenizer reads ints only
      client.submit(3, Pack.list(8), PARAMS);
      e0.expectFrame(Pack.array(2, 0, tokens, PARAMS));
      e1.expectFrame(Pack.array(2, 1, Pack.list(7), PARAMS));
      Value failed = Pack.unpack(client.receiveFrame());
      assertThat(failed.toJson())
          .startsWith("[2,")
          .contains("\"FAILED\"", "cannot read the prompt");
      e0.expectFrame(Pack.array(2, 3, Pack.list(8), PARAMS)); // the failed one took no turn
    }
  }

  @Test
  void aTextPromptWithoutATokenizerIsAnsweredFailed() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.engineDialect(Dialect.V0_15))) {
      TestEngine e0 = c.engine("tp-coord-0");
      TestClient client = c.client(Dialect.V0_15);
      client.submit(5, "1 2", PARAMS);
      Value failed = Pack.unpack(client.receiveFrame());
      assertThat(failed.toJson()).contains("\"FAILED\"", "takes token prompts only");
      client.submit(6, Pack.list(1, 2), PARAMS); // token prompts are served
      e0.expectFrame(Pack.array(2, 1, Pack.list(1, 2), PARAMS));
    }
  }
}
