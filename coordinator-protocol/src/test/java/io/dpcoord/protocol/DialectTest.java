package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.protocol.ProtocolException.Reason;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Megatron core_v0.17/0.18's header numbering and three-field SUBMIT, next to main's (0.19), in
 * {@link Dialect} and the codec. Byte compatibility with Python is in {@link GoldenVectorTest}.
 */
class DialectTest {
  /** headers.py of core_v0.18.2: {@code class Headers(Enum)} with {@code auto()}, transcribed. */
  private static final Map<Header, Integer> OLD = new EnumMap<>(Header.class);

  static {
    OLD.put(Header.CONNECT, 1);
    OLD.put(Header.CONNECT_ACK, 2);
    OLD.put(Header.SUBMIT_REQUEST, 3);
    OLD.put(Header.ENGINE_REPLY, 4);
    OLD.put(Header.PAUSE, 5);
    OLD.put(Header.UNPAUSE, 6);
    OLD.put(Header.SUSPEND, 7);
    OLD.put(Header.RESUME, 8);
    OLD.put(Header.SET_GENERATION_EPOCH, 9);
    OLD.put(Header.STOP, 10);
    OLD.put(Header.DISCONNECT, 11);
    OLD.put(Header.SHUTDOWN, 12);
    OLD.put(Header.TP_BROADCAST, 13);
  }

  /** headers.py of core_v0.16.0 and core_v0.16.1, {@code auto()} values, transcribed. */
  private static final Map<Header, Integer> V016 = new EnumMap<>(Header.class);

  static {
    V016.put(Header.CONNECT, 1);
    V016.put(Header.CONNECT_ACK, 2);
    V016.put(Header.SUBMIT_REQUEST, 3);
    V016.put(Header.ENGINE_REPLY, 4);
    V016.put(Header.PAUSE, 5);
    V016.put(Header.PAUSE_ACK, 6);
    V016.put(Header.UNPAUSE, 7);
    V016.put(Header.SUSPEND, 8);
    V016.put(Header.RESUME, 9);
    V016.put(Header.STOP, 10);
    V016.put(Header.STOP_ACK, 11);
  }

  private static final RawValue PARAMS = RoundTripTest.map("top_k", RawValue.ofLong(1));
  private static final RawValue MEDIA = RoundTripTest.map("image", RawValue.ofString("png"));
  private static final RawValue NIL = RawValue.nil();

  private final MessageCodec codec = new MessageCodec();

  @Test
  void everyOldHeaderHasItsEnumAutoValueAndEveryOtherHeaderIsMissing() {
    assertNumbering(Dialect.V0_18, OLD);
    assertThat(OLD.keySet())
        .as("the headers 0.18 lacks")
        .hasSize(Header.values().length - 10)
        .doesNotContain(
            Header.ENGINE_REPLY_PARTIAL,
            Header.ABORT_REQUEST,
            Header.SUBMIT_REQUEST_WITH_KV,
            Header.RELEASE_KV,
            Header.SEND_KV,
            Header.START_CUDA_PROFILER,
            Header.STOP_CUDA_PROFILER,
            Header.KV_HANDOFF_COMPLETE);
  }

  @Test
  void everyCore016HeaderHasItsEnumAutoValueAndEveryOtherHeaderIsMissing() {
    assertNumbering(Dialect.V0_16, V016);
    for (long unknown : new long[] {0, 12, 13, 20, 40, -1}) {
      assertThat(Dialect.V0_16.header(unknown)).as("%d", unknown).isNull();
    }
    assertThat(Dialect.V0_16.nestsRecords()).isTrue();
    assertThat(Dialect.V0_18.nestsRecords()).isFalse();
    assertThat(Dialect.V0_19.nestsRecords()).isFalse();
    assertThat(Dialect.V0_16.isMain()).isFalse();
  }

  /**
   * Each header of {@code numbering} has its value in {@code dialect}, both ways; every other
   * header is missing from it, and asking for its value names the release.
   */
  private static void assertNumbering(Dialect dialect, Map<Header, Integer> numbering) {
    for (Header h : Header.values()) {
      Integer value = numbering.get(h);
      if (value != null) {
        assertThat(dialect.carries(h)).as("%s", h).isTrue();
        assertThat(dialect.wire(h)).as("%s", h).isEqualTo(value);
        assertThat(dialect.header(value)).isSameAs(h);
      } else {
        assertThat(dialect.carries(h)).as("%s", h).isFalse();
        assertThatThrownBy(() -> dialect.wire(h))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage(h + " does not exist in Megatron " + dialect.cliName());
      }
    }
  }

  @Test
  void mainsNumberingIsTheHeaderCatalogue() {
    for (Header h : Header.values()) {
      if (!h.inMain()) {
        assertThat(Dialect.V0_19.carries(h)).as("%s", h).isFalse();
        assertThatThrownBy(() -> Dialect.V0_19.wire(h))
            .isInstanceOf(IllegalArgumentException.class);
        continue;
      }
      assertThat(Dialect.V0_19.carries(h)).isTrue();
      assertThat(Dialect.V0_19.wire(h)).as("%s", h).isEqualTo(h.wire());
      assertThat(Dialect.V0_19.header(h.wire())).isSameAs(h);
    }
  }

  static LongStream lackedBy018() {
    return LongStream.of(
        0,
        14,
        19,
        20,
        21,
        22,
        23,
        24,
        25,
        26,
        40,
        41,
        44,
        46,
        47,
        60,
        61,
        80,
        81,
        99,
        -1,
        -13,
        256,
        1L << 32,
        Long.MAX_VALUE,
        Long.MIN_VALUE);
  }

  static LongStream lackedBy019() {
    return LongStream.concat(LongStream.rangeClosed(2, 19), LongStream.of(27, 48, 62, 82, -1));
  }

  @ParameterizedTest(name = "0.18 [{0}]")
  @MethodSource("lackedBy018")
  void valuesOutsideTheOldNumberingAreUnknownHeadersInEveryDirection(long value) {
    assertUnknownEverywhere(Dialect.V0_18, value);
  }

  @ParameterizedTest(name = "0.19 [{0}]")
  @MethodSource("lackedBy019")
  void valuesOutsideMainsNumberingAreUnknownHeadersInEveryDirection(long value) {
    assertUnknownEverywhere(Dialect.V0_19, value);
  }

  private void assertUnknownEverywhere(Dialect dialect, long value) {
    assertThat(dialect.header(value)).isNull();
    byte[] frame = new FrameWriter(16).arrayHeader(1).int64(value).toByteArray();
    for (Direction to : Direction.values()) {
      assertThatThrownBy(() -> codec.decode(dialect, to, frame))
          .as("%s to %s", dialect, to)
          .isInstanceOfSatisfying(
              ProtocolException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_HEADER);
                assertThat(e.header()).isNull();
                assertThat(e.getMessage()).isEqualTo("frame: unknown header " + value);
              });
    }
  }

  @Test
  void aUint64HeaderIsUnknownInTheOldDialectToo() {
    byte[] frame = hex("91 cf ff ff ff ff ff ff ff ff");
    assertThatThrownBy(() -> codec.decode(Dialect.V0_18, Direction.TO_COORDINATOR, frame))
        .isInstanceOfSatisfying(
            ProtocolException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_HEADER));
  }

  /**
   * Every message of {@link RoundTripTest}: one 0.18 has (header and shape) comes back equal from
   * its 0.18 frame, and that frame does not read in main's numbering; any other is refused by the
   * encoder. A client's SUBMIT keeps its element count, so a fifth field (even nil) has no 0.18
   * form; an engine's SUBMIT has a fifth field only when it carries one, and a nil one is left out
   * in 0.18 (it then reads back as the 4-element form).
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("io.dpcoord.protocol.RoundTripTest#messages")
  void aMessageThatTheOldDialectHasRoundTripsInItAndAnyOtherIsRefused(Direction to, Message m)
      throws ProtocolException {
    boolean has =
        m.header() == null
            || Dialect.V0_18.carries(m.header())
                && !(m instanceof SubmitRequest s && s.multiModalData() != null)
                && !(m instanceof EngineSubmit e
                    && e.multiModalData() != null
                    && !e.multiModalData().isNil());
    if (!has) {
      assertThatThrownBy(() -> codec.encode(Dialect.V0_18, m))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("Megatron 0.18");
      return;
    }
    byte[] frame = codec.encode(Dialect.V0_18, m);
    Message expected =
        m instanceof EngineSubmit e && e.multiModalData() != null
            ? new EngineSubmit(e.requestId(), e.prompt(), e.samplingParams(), null)
            : m;
    assertThat(codec.decode(Dialect.V0_18, to, frame)).isEqualTo(expected);
    assertThat(codec.encode(Dialect.V0_18, codec.decode(Dialect.V0_18, to, frame)))
        .isEqualTo(frame);
    if (m.header() != null) {
      assertThat(frame[1]).as("element 0").isEqualTo((byte) (int) OLD.get(m.header()));
      assertThatThrownBy(() -> codec.decode(Dialect.V0_19, to, frame))
          .isInstanceOf(ProtocolException.class);
    }
  }

  @Test
  void aClientsSubmitHasThreeFieldsIn018AndThreeOrFourInMain() throws ProtocolException {
    Direction to = Direction.TO_COORDINATOR;
    SubmitRequest four = (SubmitRequest) codec.decode(Dialect.V0_18, to, submit(3, 4, null));
    assertThat(four.clientRequestId()).isEqualTo(7);
    assertThat(four.prompt().text()).isEqualTo("p");
    assertThat(four.samplingParams()).isEqualTo(PARAMS);
    assertThat(four.multiModalData()).isNull();
    assertThat(((SubmitRequest) codec.decode(Dialect.V0_19, to, submit(20, 4, null))))
        .isEqualTo(four);
    assertThat(((SubmitRequest) codec.decode(Dialect.V0_19, to, submit(20, 5, NIL))))
        .extracting(SubmitRequest::multiModalData)
        .isEqualTo(RawValue.nil());
    assertThat(((SubmitRequest) codec.decode(Dialect.V0_19, to, submit(20, 5, MEDIA))))
        .extracting(SubmitRequest::multiModalData)
        .isEqualTo(MEDIA);
    assertArity(Dialect.V0_18, to, submit(3, 5, NIL), "expected 4 elements, got 5");
    assertArity(Dialect.V0_18, to, submit(3, 5, MEDIA), "expected 4 elements, got 5");
    assertArity(Dialect.V0_18, to, submit(3, 3, null), "expected 4 elements, got 3");
    assertArity(Dialect.V0_19, to, submit(20, 3, null), "expected 4 or 5 elements, got 3");
    assertArity(Dialect.V0_19, to, submit(20, 6, NIL), "expected 4 or 5 elements, got 6");
  }

  @Test
  void anEnginesSubmitHasThreeFieldsIn018AndThreeOrFourInMain() throws ProtocolException {
    Direction to = Direction.TO_ENGINE;
    EngineSubmit old = (EngineSubmit) codec.decode(Dialect.V0_18, to, submit(3, 4, null));
    assertThat(old).isEqualTo(new EngineSubmit(7, Prompt.ofText("p"), PARAMS, null));
    // main's engine reads both forms, as Megatron main's does
    assertThat(codec.decode(Dialect.V0_19, to, submit(20, 4, null))).isEqualTo(old);
    EngineSubmit nil = (EngineSubmit) codec.decode(Dialect.V0_19, to, submit(20, 5, NIL));
    assertThat(nil.multiModalData().isNil()).isTrue();
    assertArity(Dialect.V0_18, to, submit(3, 5, NIL), "expected 4 elements, got 5");
    assertArity(Dialect.V0_19, to, submit(20, 3, null), "expected 4 or 5 elements, got 3");
    assertArity(Dialect.V0_19, to, submit(20, 6, NIL), "expected 4 or 5 elements, got 6");
    // without multimodal data both dialects send three fields (core_v0.19.0's engine takes no
    // fourth); only the header differs
    assertThat(codec.encode(Dialect.V0_18, old)).isEqualTo(submit(3, 4, null));
    assertThat(codec.encode(Dialect.V0_19, old)).isEqualTo(submit(20, 4, null));
    // an explicit nil keeps its place in main's form and is dropped in 0.18's
    assertThat(codec.encode(Dialect.V0_19, nil)).isEqualTo(submit(20, 5, NIL));
    assertThat(codec.encode(Dialect.V0_18, nil)).isEqualTo(submit(3, 4, null));
  }

  @Test
  void multimodalDataHasNo018Form() {
    for (Message m :
        new Message[] {
          new EngineSubmit(1, Prompt.ofText("p"), PARAMS, MEDIA),
          new SubmitRequest(1, Prompt.ofText("p"), PARAMS, MEDIA)
        }) {
      assertThatThrownBy(() -> codec.encode(Dialect.V0_18, m))
          .as("%s", m)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Megatron 0.18's SUBMIT cannot carry multimodal data");
      assertThat(codec.encode(Dialect.V0_19, m)).startsWith(0x95, 20);
    }
  }

  @Test
  void headersSentTheWrongWayAreUnexpectedInTheOldDialect() {
    assertUnexpected(Direction.TO_COORDINATOR, "91 02", Header.CONNECT_ACK); // an ACK
    assertUnexpected(Direction.TO_COORDINATOR, "91 0d", Header.TP_BROADCAST); // engine-internal
    assertUnexpected(Direction.TO_ENGINE, "91 01", Header.CONNECT);
    assertUnexpected(Direction.TO_ENGINE, "92 04 90", Header.ENGINE_REPLY);
    assertUnexpected(Direction.TO_ENGINE, "91 0c", Header.SHUTDOWN);
    assertUnexpected(Direction.TO_CLIENT, "91 05", Header.PAUSE);
    assertUnexpected(Direction.TO_CLIENT, "91 01", Header.CONNECT);
    assertUnexpected(Direction.TO_CLIENT, "91 0b", Header.DISCONNECT);
  }

  private void assertUnexpected(Direction to, String frame, Header header) {
    assertThatThrownBy(() -> codec.decode(Dialect.V0_18, to, hex(frame)))
        .as("%s to %s", frame, to)
        .isInstanceOfSatisfying(
            ProtocolException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.UNEXPECTED_HEADER);
              assertThat(e.header()).isEqualTo(header);
            });
  }

  @Test
  void oneCodecSpeaksTheDialectOfEachCallWhateverTheCallBefore() throws ProtocolException {
    ControlSignal pause = new ControlSignal(Header.PAUSE);
    assertThat(codec.encode(Dialect.V0_18, pause)).containsExactly(0x91, 5);
    assertThat(codec.encode(pause)).containsExactly(0x91, 40);
    assertThatThrownBy(() -> codec.encode(Dialect.V0_18, new AbortRequest(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ABORT_REQUEST does not exist in Megatron 0.18");
    // a refused encode leaves nothing behind
    assertThat(codec.encode(Dialect.V0_18, new SetGenerationEpoch(300)))
        .containsExactly(0x92, 9, 0xcd, 0x01, 0x2c);
    assertThat(codec.decode(Dialect.V0_18, Direction.TO_COORDINATOR, hex("91 05")))
        .isEqualTo(pause);
    assertThatThrownBy(() -> codec.decode(Direction.TO_COORDINATOR, hex("91 05")))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("frame: unknown header 5");
    assertThat(codec.decode(Direction.TO_COORDINATOR, hex("91 28"))).isEqualTo(pause);
  }

  @Test
  void releasesAreParsedByTheirCommandLineNames() {
    assertThat(Dialect.parse("0.18")).isEqualTo(Dialect.V0_18);
    assertThat(Dialect.parse("0.17")).isEqualTo(Dialect.V0_18);
    assertThat(Dialect.parse("0.16")).isEqualTo(Dialect.V0_16);
    assertThat(Dialect.V0_16.cliName()).isEqualTo("0.16");
    assertThat(Dialect.parse(" 0.19 ")).isEqualTo(Dialect.V0_19);
    assertThat(Dialect.V0_18.cliName()).isEqualTo("0.18");
    assertThat(Dialect.V0_19.cliName()).isEqualTo("0.19");
    assertThat(Dialect.parse("0.15")).isEqualTo(Dialect.V0_15);
    assertThat(Dialect.V0_15.cliName()).isEqualTo("0.15");
    for (String bad : new String[] {"0.20", "0.14", "018", "v0.18", ""}) {
      assertThatThrownBy(() -> Dialect.parse(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("unknown Megatron release '" + bad + "' (choices: 0.15, 0.16, 0.18, 0.19)");
    }
    assertThatThrownBy(() -> Dialect.parse(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aMissingDialectIsAMisuse() {
    assertThatThrownBy(() -> codec.decode(null, Direction.TO_CLIENT, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> codec.encode(null, new Connect()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dialect is null");
  }

  /** {@code [header, 7, "p", PARAMS, fifth]} cut to {@code elements} elements. */
  private static byte[] submit(int header, int elements, RawValue fifth) {
    FrameWriter w = new FrameWriter(64).arrayHeader(elements).int64(header);
    RawValue[] fields = {RawValue.ofLong(7), RawValue.ofString("p"), PARAMS, fifth, NIL};
    for (int i = 0; i < elements - 1; i++) {
      w.raw(fields[i]);
    }
    return w.toByteArray();
  }

  private void assertArity(Dialect d, Direction to, byte[] frame, String expected) {
    assertThatThrownBy(() -> codec.decode(d, to, frame))
        .as("%s %s", d, HexFormat.of().formatHex(frame))
        .isInstanceOfSatisfying(
            ProtocolException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.WRONG_ARITY);
              assertThat(e.header()).isEqualTo(Header.SUBMIT_REQUEST);
              assertThat(e.getMessage()).isEqualTo("SUBMIT_REQUEST: " + expected);
            });
  }

  private static byte[] hex(String spaced) {
    return HexFormat.of().parseHex(spaced.replace(" ", ""));
  }
}
