package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.protocol.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SUBMIT_REQUEST and SUBMIT_REQUEST_WITH_KV, client to engine. */
@Timeout(30)
class SubmitForwardingTest {

  /**
   * Sampling params no coordinator may touch: unknown keys, nested maps, bin, float32 (Python
   * writes float64, so a float32 proves no re-encoding), an int in a wider encoding than needed.
   */
  private static final byte[] ODD_SAMPLING_PARAMS =
      Pack.value(
          Pack.map(
              "temperature",
              0.25f,
              "top_k",
              Pack.raw(new byte[] {(byte) 0xcd, 0x00, 0x05}),
              "num_tokens_to_generate",
              3,
              "x_future_option",
              Pack.map("nested", Pack.map("deep", Pack.list(1, 2.5, null))),
              "logits_mask",
              new byte[] {0, (byte) 0xc1, (byte) 0xff},
              "stop",
              Pack.list("\n\n", "END"),
              "detokenize_stop_sequence",
              true));

  static Stream<Arguments> submitShapes() {
    byte[] text = Pack.value("Once upon a time, \u00e9\u4e2d");
    // tokens in every int width, one of them wider than needed
    byte[] tokens =
        Pack.value(
            Pack.list(1, 300, 70_000, 5_000_000_000L, Pack.raw(new byte[] {(byte) 0xcc, 0x07})));
    byte[] media = Pack.value(Pack.map("images", Pack.list(new byte[] {1, 2, 3})));
    return Stream.of(
        Arguments.of("4 elements, text prompt", text, null),
        Arguments.of("4 elements, token prompt", tokens, null),
        Arguments.of("5 elements, nil multimodal data", text, Pack.value(null)),
        Arguments.of("5 elements, token prompt, multimodal map", tokens, media));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("submitShapes")
  void submitIsForwardedWithPromptAndSamplingParamsBytesUnchanged(
      String shape, byte[] prompt, byte[] multiModal) {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      Object[] submit =
          multiModal == null
              ? new Object[] {20, 41, Pack.raw(prompt), Pack.raw(ODD_SAMPLING_PARAMS)}
              : new Object[] {
                20, 41, Pack.raw(prompt), Pack.raw(ODD_SAMPLING_PARAMS), Pack.raw(multiModal)
              };
      client.send(Pack.array(submit));

      byte[] forwarded = engine.receiveFrame();
      long rid = Pack.unpack(forwarded).asArrayValue().get(1).asIntegerValue().asLong();
      byte[] expected =
          Pack.array(
              20,
              rid,
              Pack.raw(prompt),
              Pack.raw(ODD_SAMPLING_PARAMS),
              multiModal == null ? null : Pack.raw(multiModal));
      assertThat(Pack.describe(forwarded)).isEqualTo(Pack.describe(expected));

      engine.complete(rid);
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(41);
    }
  }

  @Test
  void requestIdsAreMonotonicAndUniqueAcrossClientsUsingTheSameClientIds() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      List<TestClient> clients = List.of(c.client(), c.client(), c.client());
      int perClient = 50;
      for (int cid = 0; cid < perClient; cid++) {
        for (TestClient client : clients) {
          client.submit(cid, "same ids everywhere");
        }
      }
      long[] rids = engine.receiveSubmitIds(perClient * clients.size());
      for (int i = 1; i < rids.length; i++) {
        assertThat(rids[i]).as("rid %s after %s", i, rids[i - 1]).isGreaterThan(rids[i - 1]);
      }
      engine.complete(rids);
      for (TestClient client : clients) {
        assertThat(client.receiveReplies(perClient))
            .extracting(ClientReply::clientRequestId)
            .containsExactlyInAnyOrderElementsOf(
                Stream.iterate(0L, i -> i + 1).limit(perClient).toList());
      }
    }
  }

  @Test
  void twoClientsWithTheSameClientRequestIdEachGetExactlyTheirOwnReply() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient a = c.client();
      TestClient b = c.client();
      a.submit(7, "from a");
      b.submit(7, "from b");
      Map<String, Long> ridOfPrompt = new HashMap<>();
      for (int i = 0; i < 2; i++) {
        EngineSubmit s = engine.receiveSubmit();
        ridOfPrompt.put(s.prompt().text(), s.requestId());
      }
      // answered in the opposite order, each record naming its prompt
      engine.reply(ReplyRecords.completed(ridOfPrompt.get("from b"), "from b"));
      engine.reply(ReplyRecords.completed(ridOfPrompt.get("from a"), "from a"));
      ClientReply toA = a.receiveReply();
      ClientReply toB = b.receiveReply();
      assertThat(toA.clientRequestId()).isEqualTo(7);
      assertThat(toB.clientRequestId()).isEqualTo(7);
      assertThat(toA.record().toByteArray())
          .isEqualTo(ReplyRecords.completed(ridOfPrompt.get("from a"), "from a"));
      assertThat(toB.record().toByteArray())
          .isEqualTo(ReplyRecords.completed(ridOfPrompt.get("from b"), "from b"));
      a.expectNothingMore();
      b.expectNothingMore();
    }
  }

  @Test
  void submitWithKvIsForwardedWholeToTheLeastLoadedEngineEvenAgainstPrefixAffinity() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client();
      long[] prompt = tokens(48, 5);
      // a plain SUBMIT gives rank 0 the prefix and one pending request
      client.submit(1, prompt);
      EngineSubmit first = e0.receiveSubmit();

      byte[] kvMeta = Pack.value(Pack.map("layout", "paged", "handle", new byte[] {9, 9}));
      byte[] srcBlocks = Pack.value(new long[] {3, 4, 5});
      client.send(
          Pack.array(
              24, 2, prompt, Pack.raw(ODD_SAMPLING_PARAMS), Pack.raw(kvMeta), Pack.raw(srcBlocks)));
      // prefix routing would pick rank 0 (match 1.0 against 0); with KV it must be rank 1
      byte[] forwarded = e1.receiveFrame();
      long rid = Pack.unpack(forwarded).asArrayValue().get(1).asIntegerValue().asLong();
      assertThat(rid).isNotEqualTo(first.requestId());
      assertThat(Pack.describe(forwarded))
          .isEqualTo(
              Pack.describe(
                  Pack.array(
                      24,
                      rid,
                      prompt,
                      Pack.raw(ODD_SAMPLING_PARAMS),
                      Pack.raw(kvMeta),
                      Pack.raw(srcBlocks))));

      e1.complete(rid);
      e0.complete(first.requestId());
      Set<Long> cids = new HashSet<>();
      for (ClientReply r : client.receiveReplies(2)) {
        cids.add(r.clientRequestId());
      }
      assertThat(cids).containsExactlyInAnyOrder(1L, 2L);
      c.awaitCount(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL, 2);
    }
  }

  @Test
  void moreThanAThousandRequestsInFlightFromOneClientNeitherBlockNorDrop() {
    int n = 2500;
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      for (int cid = 0; cid < n; cid++) {
        client.submit(cid, "in flight " + cid);
      }
      List<Long> rids = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Message m = engine.receive();
        rids.add(((EngineSubmit) m).requestId());
      }
      c.awaitInFlight(n); // every one accepted and pending at once
      for (int i = 0; i < n; i += 100) {
        engine.complete(rids.subList(i, i + 100).stream().mapToLong(Long::longValue).toArray());
      }
      Set<Long> answered = new HashSet<>();
      for (ClientReply r : client.receiveReplies(n)) {
        assertThat(answered.add(r.clientRequestId()))
            .as("cid %s twice", r.clientRequestId())
            .isTrue();
      }
      assertThat(answered).hasSize(n);
      c.awaitInFlight(0);
    }
  }

  /** {@code n} tokens starting at {@code first}. */
  static long[] tokens(int n, long first) {
    long[] t = new long[n];
    for (int i = 0; i < n; i++) {
      t[i] = first + i;
    }
    return t;
  }
}
