package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** One round trip per message type: encode, decode in the receiving direction, equal. */
class RoundTripTest {
  private static final RawValue PARAMS = map("temperature", RawValue.ofLong(1));

  static RawValue map(String key, RawValue value) {
    try {
      return RawValue.of(new byte[] {(byte) 0x80}).with(key, value);
    } catch (ProtocolException e) {
      throw new AssertionError(e);
    }
  }

  static Stream<Arguments> messages() {
    Prompt tokens = Prompt.ofTokens(1, 2, 3, 1L << 40, -7);
    Prompt text = Prompt.ofText("hello \u00e9");
    RawValue mm = map("image", RawValue.ofString("bytes"));
    RawValue record = map("request_id", RawValue.ofLong(5)).with("status", RawValue.ofString("X"));
    RawValue record2 = map("request_id", RawValue.ofLong(-6));
    return Stream.of(
        Arguments.of(Direction.TO_COORDINATOR, new Registration()),
        Arguments.of(Direction.TO_COORDINATOR, new Connect()),
        Arguments.of(Direction.TO_COORDINATOR, new SubmitRequest(7, tokens, PARAMS, null)),
        Arguments.of(Direction.TO_COORDINATOR, new SubmitRequest(8, text, PARAMS, RawValue.nil())),
        Arguments.of(Direction.TO_COORDINATOR, new SubmitRequest(9, text, PARAMS, mm)),
        Arguments.of(
            Direction.TO_COORDINATOR,
            new SubmitRequestWithKv(10, tokens, PARAMS, mm, RawValue.ofLong(3))),
        Arguments.of(Direction.TO_COORDINATOR, new ReleaseKv(Long.MAX_VALUE)),
        Arguments.of(Direction.TO_COORDINATOR, new AbortRequest(Long.MIN_VALUE)),
        Arguments.of(Direction.TO_COORDINATOR, new ControlSignal(Header.PAUSE)),
        Arguments.of(Direction.TO_COORDINATOR, new ControlSignal(Header.STOP_CUDA_PROFILER)),
        Arguments.of(Direction.TO_COORDINATOR, new SetGenerationEpoch(42)),
        Arguments.of(Direction.TO_COORDINATOR, new Shutdown()),
        Arguments.of(Direction.TO_COORDINATOR, new Disconnect()),
        Arguments.of(
            Direction.TO_COORDINATOR,
            new EngineReply(List.of(new ReplyRecord(5, record), new ReplyRecord(-6, record2)), 0)),
        Arguments.of(Direction.TO_COORDINATOR, new EngineReply(List.of(), 0)),
        Arguments.of(
            Direction.TO_COORDINATOR,
            new EngineReplyPartial(List.of(new ReplyRecord(5, record)), 0)),
        Arguments.of(
            Direction.TO_ENGINE, new EngineSubmit(1L << 33, tokens, PARAMS, RawValue.nil())),
        Arguments.of(Direction.TO_ENGINE, new EngineSubmit(2, tokens, PARAMS, null)),
        Arguments.of(Direction.TO_ENGINE, new EngineSubmit(3, text, PARAMS, mm)),
        Arguments.of(
            Direction.TO_ENGINE,
            new EngineSubmitWithKv(4, text, PARAMS, RawValue.nil(), RawValue.ofString("ids"))),
        Arguments.of(Direction.TO_ENGINE, new AbortRequest(11)),
        Arguments.of(Direction.TO_ENGINE, new ReleaseKv(12)),
        Arguments.of(Direction.TO_ENGINE, new ControlSignal(Header.SUSPEND)),
        Arguments.of(Direction.TO_ENGINE, new SetGenerationEpoch(-1)),
        Arguments.of(Direction.TO_CLIENT, new ConnectAck()),
        Arguments.of(Direction.TO_CLIENT, new ClientReply(7, record)),
        Arguments.of(Direction.TO_CLIENT, new ClientReplyPartial(1L << 50, record2)),
        Arguments.of(
            Direction.TO_CLIENT,
            new ClientReply(
                9, Records.failed(5, tokens.raw(), PARAMS, 1718000000.5, "no engine available"))));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("messages")
  void encodeThenDecodeGivesAnEqualMessage(Direction to, Message m) throws ProtocolException {
    MessageCodec codec = new MessageCodec();
    byte[] frame = codec.encode(m);
    assertThat(codec.decode(to, frame)).isEqualTo(m);
    // the codec reuses its buffers: a second round trip must give the same bytes
    assertThat(codec.encode(codec.decode(to, frame))).isEqualTo(frame);
  }

  /** What Megatron core_v0.16 has: its own numbering, acknowledgements and nested records. */
  static Stream<Arguments> core016Messages() {
    RawValue request = map("request_id", RawValue.ofLong(5)).with("prompt", RawValue.nil());
    RawValue record = Records.inRecord(request);
    return Stream.of(
        Arguments.of(Direction.TO_COORDINATOR, new Connect()),
        Arguments.of(Direction.TO_COORDINATOR, new ControlSignal(Header.SUSPEND)),
        Arguments.of(Direction.TO_COORDINATOR, new ControlAck(Header.PAUSE_ACK)),
        Arguments.of(Direction.TO_COORDINATOR, new ControlAck(Header.STOP_ACK)),
        Arguments.of(
            Direction.TO_COORDINATOR, new EngineReply(List.of(new ReplyRecord(5, record)), 0)),
        Arguments.of(Direction.TO_ENGINE, new EngineSubmit(9, Prompt.ofText("p"), PARAMS, null)),
        Arguments.of(Direction.TO_ENGINE, new ControlAck(Header.STOP_ACK)),
        Arguments.of(Direction.TO_CLIENT, new ConnectAck()),
        Arguments.of(Direction.TO_CLIENT, new ClientReply(7, record)),
        Arguments.of(Direction.TO_CLIENT, new ControlAck(Header.PAUSE_ACK, new byte[] {0, 1})));
  }

  static Stream<Arguments> core015Messages() throws ProtocolException {
    RawValue record = map("request_id", RawValue.ofLong(5)).with("prompt", RawValue.nil());
    return Stream.of(
        Arguments.of(Direction.TO_COORDINATOR, new Connect()),
        Arguments.of(Direction.TO_COORDINATOR, new ControlSignal(Header.STOP)),
        Arguments.of(
            Direction.TO_COORDINATOR,
            new EngineStep(
                new long[] {1, 2},
                new long[] {2},
                new long[] {7, 8},
                java.util.Arrays.asList(RawValue.of(new byte[] {(byte) 0x91, 0x01}), null),
                1,
                false)),
        Arguments.of(Direction.TO_ENGINE, new EngineSubmit(9, Prompt.ofTokens(1, 2), PARAMS, null)),
        Arguments.of(Direction.TO_ENGINE, new ControlSignal(Header.UNPAUSE)),
        Arguments.of(Direction.TO_CLIENT, new ConnectAck()),
        Arguments.of(Direction.TO_CLIENT, new ClientReply(7, record)));
  }

  @Test
  void core015RepliesToClientsHaveNoHeader() throws ProtocolException {
    RawValue record = map("request_id", RawValue.ofLong(5));
    byte[] frame = new MessageCodec().encode(Dialect.V0_15, new ClientReply(300, record));
    assertThat(frame).startsWith(0x92, 0xcd, 0x01, 0x2c, 0x81);
    assertThat(new MessageCodec().encode(Dialect.V0_15, new ConnectAck())).containsExactly(0x91, 1);
  }

  /** The messages of core_v0.15 and core_v0.16, each with its release. */
  static Stream<Arguments> olderReleaseMessages() throws ProtocolException {
    return Stream.concat(
        core016Messages().map(a -> Arguments.of(Dialect.V0_16, a.get()[0], a.get()[1])),
        core015Messages().map(a -> Arguments.of(Dialect.V0_15, a.get()[0], a.get()[1])));
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("olderReleaseMessages")
  void encodeThenDecodeInAnOlderReleaseGivesAnEqualMessage(Dialect dialect, Direction to, Message m)
      throws ProtocolException {
    MessageCodec codec = new MessageCodec();
    byte[] frame = codec.encode(dialect, m);
    assertThat(codec.decode(dialect, to, frame)).isEqualTo(m);
    assertThat(codec.encode(dialect, codec.decode(dialect, to, frame))).isEqualTo(frame);
  }

  @Test
  void acknowledgementsExistOnlyInCore016() {
    MessageCodec codec = new MessageCodec();
    for (Dialect d : new Dialect[] {Dialect.V0_18, Dialect.V0_19}) {
      assertThatThrownBy(() -> codec.encode(d, new ControlAck(Header.PAUSE_ACK)))
          .as("%s", d)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("PAUSE_ACK does not exist");
    }
    assertThat(codec.encode(Dialect.V0_16, new ControlAck(Header.STOP_ACK)))
        .containsExactly(0x91, 11);
    assertThat(codec.encode(Dialect.V0_16, new ControlAck(Header.PAUSE_ACK, new byte[] {7})))
        .containsExactly(0x92, 6, 0xc4, 1, 7);
    assertThatThrownBy(() -> new ControlAck(Header.PAUSE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("PAUSE is not an acknowledgement");
  }

  @Test
  void everyMessageTypeHasARoundTrip() throws ProtocolException {
    assertThat(
            Stream.of(messages(), core016Messages(), core015Messages())
                .flatMap(a -> a)
                .map(a -> a.get()[1].getClass())
                .distinct()
                .map(Class::getSimpleName)
                .toList())
        .containsExactlyInAnyOrderElementsOf(
            Stream.of(Message.class.getPermittedSubclasses()).map(Class::getSimpleName).toList());
  }

  @Test
  void headersAndIdsUseTheSmallestEncoding() {
    MessageCodec codec = new MessageCodec();
    assertThat(codec.encode(new Connect())).containsExactly(0x91, 0x00);
    assertThat(codec.encode(new ControlSignal(Header.PAUSE))).containsExactly(0x91, 40);
    assertThat(codec.encode(new AbortRequest(200))).containsExactly(0x92, 23, 0xcc, 200);
    assertThat(codec.encode(new ReleaseKv(-33))).containsExactly(0x92, 25, 0xd0, 0xdf);
    assertThat(codec.encode(new SetGenerationEpoch(1L << 32)))
        .containsExactly(0x92, 44, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0);
    assertThat(codec.encode(new Registration())).isEmpty();
  }

  @Test
  void misuseIsRejectedWithTheArgumentNamed() {
    MessageCodec codec = new MessageCodec();
    assertThatThrownBy(() -> codec.encode(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("message is null");
    assertThatThrownBy(() -> new ControlSignal(Header.SET_GENERATION_EPOCH))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("SET_GENERATION_EPOCH");
    assertThatThrownBy(() -> new SubmitRequest(1, Prompt.ofText("x"), RawValue.ofLong(1), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("samplingParams must be a map, got int");
    assertThatThrownBy(() -> new EngineSubmit(1, Prompt.ofText("x"), PARAMS, RawValue.ofLong(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("multiModalData");
    assertThatThrownBy(() -> new ClientReply(1, RawValue.ofString("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("record must be a map, got str");
    assertThatThrownBy(() -> Prompt.ofText("\ud800"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lone surrogate");
    assertThatThrownBy(() -> new MessageCodec().decode(null, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
