package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.protocol.GoldenVectors.Vector;
import io.dpcoord.protocol.ProtocolException.Reason;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Byte compatibility with Python's msgpack, through the vectors generate_vectors.py wrote. */
class GoldenVectorTest {

  @TestFactory
  Stream<DynamicTest> everyVectorDecodesAndReencodesToIdenticalBytes() {
    return GoldenVectors.all().stream()
        .map(v -> DynamicTest.dynamicTest(v.name(), () -> decodesAndReencodes(v)));
  }

  private static void decodesAndReencodes(Vector v) throws ProtocolException {
    MessageCodec codec = new MessageCodec();
    Message m = codec.decode(v.dialect(), v.direction(), v.frame());
    assertThat(m.getClass().getSimpleName()).as(v.name()).isEqualTo(v.type());
    if (m instanceof EngineReply r) {
      assertThat(r.invalidRecords()).as(v.name()).isEqualTo(v.invalidRecords());
    } else if (m instanceof EngineReplyPartial r) {
      assertThat(r.invalidRecords()).as(v.name()).isEqualTo(v.invalidRecords());
    } else {
      assertThat(v.invalidRecords()).as(v.name()).isZero();
    }
    assertThat(HexFormat.of().formatHex(codec.encode(v.dialect(), m)))
        .as(v.name())
        .isEqualTo(HexFormat.of().formatHex(v.reencoded()));
  }

  @TestFactory
  Stream<DynamicTest> oldDialectFramesTranslateToMainsAndBackByteForByte() {
    return GoldenVectors.all().stream()
        .filter(v -> v.otherDialect() != null)
        .map(v -> DynamicTest.dynamicTest(v.name(), () -> translates(v)));
  }

  private static void translates(Vector v) throws ProtocolException {
    MessageCodec codec = new MessageCodec();
    Dialect other = other(v.dialect());
    Message m = codec.decode(v.dialect(), v.direction(), v.frame());
    assertThat(hex(codec.encode(other, m)))
        .as("%s in %s", v, other)
        .isEqualTo(hex(v.otherDialect()));
    Message back = codec.decode(other, v.direction(), v.otherDialect());
    assertThat(back)
        .as(v.name())
        .isEqualTo(codec.decode(v.dialect(), v.direction(), v.reencoded()));
    assertThat(hex(codec.encode(v.dialect(), back))).as(v.name()).isEqualTo(hex(v.reencoded()));
  }

  /**
   * What the coordinator relies on to tell an engine of the wrong release: no frame reads as both.
   */
  @TestFactory
  Stream<DynamicTest> noFrameOfOneDialectReadsInTheOther() {
    return GoldenVectors.all().stream()
        .filter(v -> v.frame().length > 0)
        // core_v0.15's CONNECT [0] and ACK [1] are main's, the same messages
        .filter(
            v ->
                v.dialect() != Dialect.V0_15 || !Set.of("Connect", "ConnectAck").contains(v.type()))
        .map(
            v ->
                DynamicTest.dynamicTest(
                    v.name(),
                    () ->
                        assertThatThrownBy(
                                () ->
                                    new MessageCodec()
                                        .decode(other(v.dialect()), v.direction(), v.frame()))
                            .isInstanceOfSatisfying(
                                ProtocolException.class,
                                e ->
                                    assertThat(e.reason())
                                        .isIn(Reason.UNKNOWN_HEADER, Reason.UNEXPECTED_HEADER))));
  }

  @Test
  void rawValueWithoutWritesWhatPythonWritesForTheSmallerDict() throws ProtocolException {
    List<GoldenVectors.Without> cases = GoldenVectors.without();
    assertThat(cases).hasSizeGreaterThan(5);
    int unchanged = 0;
    for (GoldenVectors.Without c : cases) {
      RawValue map = RawValue.of(c.map());
      RawValue without = map.without(c.keys());
      assertThat(hex(without.toByteArray())).as(hex(c.map())).isEqualTo(hex(c.expected()));
      if (Arrays.equals(c.map(), c.expected())) {
        assertThat(without).isSameAs(map); // nothing to drop: no copy
        unchanged++;
      }
    }
    assertThat(unchanged).isBetween(1, cases.size() - 1);
  }

  @Test
  void isTruthyIsPythonsTruthOfTheDecodedValue() throws ProtocolException {
    List<GoldenVectors.Truthiness> cases = GoldenVectors.truthiness();
    long truthy = 0;
    for (GoldenVectors.Truthiness c : cases) {
      assertThat(RawValue.of(c.value()).isTruthy()).as(hex(c.value())).isEqualTo(c.pythonTruthy());
      truthy += c.pythonTruthy() ? 1 : 0;
    }
    assertThat(truthy).isBetween(cases.size() / 4L, cases.size() * 3L / 4);
  }

  /** The dialect a vector's frame must not read in: main for the old ones, 0.18 for main's. */
  private static Dialect other(Dialect d) {
    return d.isMain() ? Dialect.V0_18 : Dialect.V0_19;
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  @TestFactory
  Stream<DynamicTest> failedRecordMatchesPythonByteForByte() {
    return GoldenVectors.all().stream()
        .filter(v -> v.failed() != null)
        .map(
            v ->
                DynamicTest.dynamicTest(
                    v.name(),
                    () -> {
                      ClientReply reply =
                          (ClientReply)
                              new MessageCodec().decode(v.dialect(), v.direction(), v.frame());
                      RawValue record = reply.record();
                      if (v.dialect().nestsRecords()) {
                        record = record.get("requests").elements().get(0);
                      }
                      RawValue built =
                          v.dialect().buildsRecords()
                              ? CoreV015Request.failed(
                                  v.failed().requestId(),
                                  record.get("prompt"),
                                  record.get("prompt_tokens").isNil()
                                      ? null
                                      : record.get("prompt_tokens").asLongArray(),
                                  record.get("sampling_params"),
                                  v.failed().timestamp(),
                                  v.failed().reason())
                              : Records.failed(
                                  v.failed().requestId(),
                                  record.get("prompt"),
                                  record.get("sampling_params"),
                                  v.failed().timestamp(),
                                  v.failed().reason());
                      assertThat(built).isEqualTo(record);
                      if (v.dialect().nestsRecords()) {
                        assertThat(Records.inRecord(built)).isEqualTo(reply.record());
                      }
                      assertThat(record.get("request_id").asLong())
                          .isEqualTo(v.failed().requestId());
                    }));
  }

  /**
   * core_v0.15: a request's engine steps, applied as that release's coordinator's {@code
   * postprocess} (transcribed in generate_vectors.py), give the record it packs, byte for byte.
   */
  @TestFactory
  Stream<DynamicTest> core015RecordsAreWhatItsCoordinatorBuilds() {
    assertThat(GoldenVectors.core015()).hasSizeGreaterThan(5);
    return GoldenVectors.core015().stream()
        .map(c -> DynamicTest.dynamicTest(c.name(), () -> buildsTheRecord(c)));
  }

  private static void buildsTheRecord(GoldenVectors.Core015Case c) throws ProtocolException {
    RawValue in = RawValue.of(c.input());
    RawValue prompt = in.get("prompt");
    CoreV015Request r =
        new CoreV015Request(
            in.get("request_id").asLong(),
            prompt.isArray()
                ? Prompt.ofTokens(prompt.asLongArray())
                : Prompt.ofText(prompt.asString()),
            in.get("prompt_tokens").asLongArray());
    for (RawValue step : in.get("steps").elements()) {
      List<RawValue> s = step.elements();
      RawValue logProbs = s.get(1).isNil() ? null : RawValue.of(binPayload(s.get(1)));
      r.step(s.get(0).asLong(), logProbs, s.get(2).isTruthy(), s.get(3).isTruthy());
    }
    assertThat(hex(r.record().toByteArray())).isEqualTo(hex(c.record()));
  }

  /** The payload of a msgpack bin. */
  private static byte[] binPayload(RawValue bin) {
    byte[] b = bin.toByteArray();
    int header = b[0] & 0xff;
    assertThat(header).isBetween(0xc4, 0xc6);
    return Arrays.copyOfRange(b, 1 + (1 << (header - 0xc4)), b.length);
  }

  @Test
  void valuesAreAcceptedExactlyWhenPythonsMsgpackReadsThem() {
    List<GoldenVectors.Acceptance> cases = GoldenVectors.acceptance();
    assertThat(cases).hasSizeGreaterThan(1000);
    long accepted = 0;
    for (GoldenVectors.Acceptance c : cases) {
      boolean ours;
      try {
        RawValue.of(c.bytes());
        ours = true;
      } catch (ProtocolException e) {
        ours = false;
      }
      assertThat(ours).as(HexFormat.of().formatHex(c.bytes())).isEqualTo(c.pythonAccepts());
      accepted += ours ? 1 : 0;
    }
    // both outcomes are well represented, so agreement is not trivial
    assertThat(accepted).isBetween(cases.size() / 5L, cases.size() * 4L / 5);
  }

  @Test
  void vectorsCoverEveryMessageTypeAndDirection() {
    Set<String> types = GoldenVectors.all().stream().map(Vector::type).collect(Collectors.toSet());
    Set<String> expected =
        Stream.of(Message.class.getPermittedSubclasses())
            .map(Class::getSimpleName)
            .collect(Collectors.toSet());
    assertThat(types).isEqualTo(expected);
    Set<Direction> directions = EnumSet.noneOf(Direction.class);
    GoldenVectors.all().forEach(v -> directions.add(v.direction()));
    assertThat(directions).containsExactlyInAnyOrder(Direction.values());
    assertThat(GoldenVectors.all().stream().filter(v -> v.failed() != null)).hasSizeGreaterThan(1);
  }

  @Test
  void oldDialectVectorsCoverEveryMessageAndHeaderOfMegatron018InEveryDirection()
      throws ProtocolException {
    List<Vector> old =
        coversTheDialect(
            Dialect.V0_18,
            Header.TP_BROADCAST, // never on the coordinator's wire
            "Registration",
            "Connect",
            "ConnectAck",
            "SubmitRequest",
            "EngineSubmit",
            "EngineReply",
            "ClientReply",
            "ControlSignal",
            "SetGenerationEpoch",
            "Shutdown",
            "Disconnect");
    assertThat(old.stream().filter(v -> v.otherDialect() == null)).isEmpty();
  }

  @Test
  void core016VectorsCoverEveryMessageAndHeaderOfMegatron016InEveryDirection()
      throws ProtocolException {
    coversTheDialect(
        Dialect.V0_16,
        null,
        "Registration",
        "Connect",
        "ConnectAck",
        "SubmitRequest",
        "EngineSubmit",
        "EngineReply",
        "ClientReply",
        "ControlSignal",
        "ControlAck");
  }

  /**
   * Checks that the vectors of {@code dialect} are of exactly {@code types}, go in every direction
   * and carry every header the dialect has but {@code notOnTheWire}; returns them.
   */
  private static List<Vector> coversTheDialect(
      Dialect dialect, Header notOnTheWire, String... types) throws ProtocolException {
    List<Vector> vectors =
        GoldenVectors.all().stream().filter(v -> v.dialect() == dialect).toList();
    assertThat(vectors.stream().map(Vector::type).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder(types);
    assertThat(vectors.stream().map(Vector::direction).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder(Direction.values());
    Set<Header> headers = EnumSet.noneOf(Header.class);
    for (Vector v : vectors) {
      Header h = new MessageCodec().decode(dialect, v.direction(), v.frame()).header();
      if (h != null) {
        headers.add(h);
      }
    }
    Set<Header> carried = EnumSet.noneOf(Header.class);
    for (Header h : Header.values()) {
      if (dialect.carries(h) && h != notOnTheWire) {
        carried.add(h);
      }
    }
    assertThat(headers).isEqualTo(carried);
    return vectors;
  }

  @Test
  void aCore016RecordIsKnownByItsFirstRequestsId() throws ProtocolException {
    EngineReply reply =
        (EngineReply)
            new MessageCodec()
                .decode(
                    Dialect.V0_16,
                    Direction.TO_COORDINATOR,
                    GoldenVectors.named("v016_engine_reply_multi").frame());
    assertThat(reply.records().stream().map(ReplyRecord::requestId))
        .containsExactly(1002L, 1003L, 1004L);
    RawValue third = reply.records().get(2).raw();
    assertThat(third.get("requests").elements()).hasSize(2);
    assertThat(third.get("requests").elements().get(1).get("request_id").asLong()).isEqualTo(1005L);
    ControlAck ack =
        (ControlAck)
            new MessageCodec()
                .decode(
                    Dialect.V0_16,
                    Direction.TO_CLIENT,
                    GoldenVectors.named("v016_client_pause_ack").frame());
    assertThat(ack.header()).isEqualTo(Header.PAUSE_ACK);
    assertThat(new String(ack.engine(), java.nio.charset.StandardCharsets.US_ASCII))
        .isEqualTo("mp-coord-0");
  }

  @Test
  void submitFormsKeepTheirElementCount() throws ProtocolException {
    MessageCodec codec = new MessageCodec();
    SubmitRequest four =
        (SubmitRequest)
            codec.decode(Direction.TO_COORDINATOR, GoldenVectors.named("submit_tokens_4").frame());
    assertThat(four.multiModalData()).isNull();
    assertThat(four.prompt().tokens())
        .containsExactly(1, 2, 3, 127, 128, 255, 256, 65535, 65536, 1L << 31, 1L << 32, 50000, 0);
    SubmitRequest fiveNil =
        (SubmitRequest)
            codec.decode(
                Direction.TO_COORDINATOR, GoldenVectors.named("submit_text_5_nil").frame());
    assertThat(fiveNil.multiModalData().isNil()).isTrue();
    assertThat(fiveNil.prompt().text()).isEqualTo("Hi");
    SubmitRequest fiveMap =
        (SubmitRequest)
            codec.decode(
                Direction.TO_COORDINATOR,
                GoldenVectors.named("submit_tokens_5_multimodal").frame());
    assertThat(fiveMap.multiModalData().isMap()).isTrue();
    assertThat(fiveMap.multiModalData().get("media_cache_key").asString()).hasSize(64);
  }

  @Test
  void realisticEngineReplyKeepsEveryFieldAndTheRequestId() throws ProtocolException {
    EngineReply reply =
        (EngineReply)
            new MessageCodec()
                .decode(
                    Direction.TO_COORDINATOR, GoldenVectors.named("engine_reply_multi").frame());
    List<Long> ids = reply.records().stream().map(ReplyRecord::requestId).toList();
    assertThat(ids).containsExactly(1002L, 1003L, 1004L);
    RawValue first = reply.records().get(0).raw();
    assertThat(first.get("status").asString()).isEqualTo("COMPLETED");
    assertThat(first.get("generated_tokens").asLongArray()).hasSize(64);
    assertThat(first.get("remaining_prompt_tokens").isMap()).isFalse();
    assertThat(reply.records().get(1).raw().get("status").asString()).isEqualTo("FAILED");
  }

  @Test
  void unicodePromptDecodesToTheSameText() throws ProtocolException {
    SubmitRequest m =
        (SubmitRequest)
            new MessageCodec()
                .decode(
                    Direction.TO_COORDINATOR, GoldenVectors.named("submit_unicode_prompt").frame());
    assertThat(m.prompt().text()).startsWith("\u00bfQu\u00e9 es \u65e5\u672c? \ud83d\ude80");
    assertThat(Prompt.ofText(m.prompt().text())).isEqualTo(m.prompt());
  }
}
