package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.protocol.ProtocolException.Reason;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One frame per rejection reason, and the header and message each rejection reports. */
class ValidationTest {
  private final MessageCodec codec = new MessageCodec();

  private ProtocolException reject(Direction to, String hex) {
    byte[] frame = hex(hex);
    ProtocolException[] caught = new ProtocolException[1];
    assertThatThrownBy(() -> codec.decode(to, frame))
        .isInstanceOfSatisfying(ProtocolException.class, e -> caught[0] = e);
    return caught[0];
  }

  @Test
  void malformedMsgpack() {
    // [20, 1, "abc" truncated]: a str8 of 3 bytes with 1 present
    ProtocolException e = reject(Direction.TO_COORDINATOR, "94 14 01 d9 03 61");
    assertThat(e.reason()).isEqualTo(Reason.MALFORMED_MSGPACK);
    assertThat(e.header()).isEqualTo(Header.SUBMIT_REQUEST);
    assertThat(e.getMessage())
        .isEqualTo(
            "SUBMIT_REQUEST: malformed msgpack at byte 5: declares 3 bytes but only 1 remain");
    assertThat(reject(Direction.TO_COORDINATOR, "c1").getMessage())
        .isEqualTo("frame: malformed msgpack at byte 0: the reserved byte 0xc1");
    ProtocolException reserved = reject(Direction.TO_COORDINATOR, "94 14 01 a1 61 81 a1 61 c1");
    assertThat(reserved.reason()).isEqualTo(Reason.MALFORMED_MSGPACK);
    assertThat(reserved.getMessage()).contains("byte 8: the reserved byte 0xc1");
    // in a typed field too, 0xc1 is malformed input rather than a wrong type
    assertThat(reject(Direction.TO_COORDINATOR, "94 14 01 a1 61 c1").getMessage())
        .isEqualTo("SUBMIT_REQUEST: malformed msgpack at byte 5: the reserved byte 0xc1");
    assertThat(reject(Direction.TO_COORDINATOR, "94 14 01 92 01 c1 80").reason())
        .isEqualTo(Reason.MALFORMED_MSGPACK);
    assertThat(reject(Direction.TO_COORDINATOR, "92 17").getMessage())
        .isEqualTo("ABORT_REQUEST: malformed msgpack at byte 2: unexpected end of input");
    // invalid UTF-8 in a text prompt: peers decode str strictly, so we do too
    assertThat(reject(Direction.TO_COORDINATOR, "94 14 01 a2 c3 28 80").getMessage())
        .isEqualTo("SUBMIT_REQUEST: malformed msgpack at byte 4: a str that is not valid UTF-8");
  }

  @Test
  void opaqueValuesMustBeReadableByPythonMsgpack() {
    // what msgpack 1.0.3 unpackb(raw=False) rejects, inside sampling_params {...}
    assertThat(reject(Direction.TO_COORDINATOR, "94 14 01 a1 61 81 01 02").getMessage())
        .isEqualTo(
            "SUBMIT_REQUEST: malformed msgpack at byte 6: a map key of type int;"
                + " Python's msgpack accepts only str and bin keys");
    assertThat(reject(Direction.TO_COORDINATOR, "94 14 01 a1 61 81 a1 61 a2 ed a0").getMessage())
        .endsWith("a str that is not valid UTF-8");
    assertThat(reject(Direction.TO_COORDINATOR, "94 14 01 a1 61 81 a1 61 d4 fe 00").getMessage())
        .endsWith("ext code -2; Python's msgpack accepts only 0..127 and -1");
    assertThat(reject(Direction.TO_COORDINATOR, "94 14 01 a1 61 81 a1 61 d4 ff 00").getMessage())
        .endsWith("a timestamp ext of 1 bytes (only 4, 8 or 12 are valid)");
    assertThat(
            reject(
                    Direction.TO_COORDINATOR,
                    "94 14 01 a1 61 81 a1 61 c7 0c ff 3b 9a ca 00" + " 00 00 00 00 00 00 00 00")
                .getMessage())
        .endsWith("a timestamp ext with 1000000000 nanoseconds");
  }

  @Test
  void emptyFrameIsOnlyARegistrationAtTheCoordinator() throws ProtocolException {
    assertThat(codec.decode(Direction.TO_COORDINATOR, new byte[0])).isEqualTo(new Registration());
    assertThat(reject(Direction.TO_ENGINE, "").reason()).isEqualTo(Reason.MALFORMED_MSGPACK);
    assertThat(reject(Direction.TO_CLIENT, "").getMessage()).contains("empty frame");
  }

  @Test
  void notAnArray() {
    ProtocolException e = reject(Direction.TO_COORDINATOR, "81 a1 61 01");
    assertThat(e.reason()).isEqualTo(Reason.NOT_AN_ARRAY);
    assertThat(e.header()).isNull();
    assertThat(e.getMessage()).isEqualTo("frame: must be a msgpack array, got map");
    assertThat(reject(Direction.TO_ENGINE, "14").getMessage()).endsWith("got int");
  }

  @Test
  void emptyArray() {
    ProtocolException e = reject(Direction.TO_COORDINATOR, "90");
    assertThat(e.reason()).isEqualTo(Reason.EMPTY_ARRAY);
    assertThat(e.getMessage()).isEqualTo("frame: empty array has no header");
    assertThat(reject(Direction.TO_CLIENT, "dc 00 00").reason()).isEqualTo(Reason.EMPTY_ARRAY);
  }

  @Test
  void unknownHeader() {
    ProtocolException e = reject(Direction.TO_COORDINATOR, "91 63");
    assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_HEADER);
    assertThat(e.header()).isNull();
    assertThat(e.getMessage()).isEqualTo("frame: unknown header 99");
    assertThat(reject(Direction.TO_COORDINATOR, "91 ff").getMessage()).endsWith("header -1");
    assertThat(reject(Direction.TO_COORDINATOR, "91 cf ff ff ff ff ff ff ff ff").getMessage())
        .endsWith("header 18446744073709551615");
  }

  @Test
  void nonIntegerHeaderIsAWrongFieldType() {
    ProtocolException e = reject(Direction.TO_COORDINATOR, "91 a2 32 30");
    assertThat(e.reason()).isEqualTo(Reason.WRONG_FIELD_TYPE);
    assertThat(e.header()).isNull();
    assertThat(e.getMessage()).isEqualTo("frame: element 0 (header) must be an int, got str");
  }

  @Test
  void unexpectedHeader() {
    ProtocolException ack = reject(Direction.TO_COORDINATOR, "91 01");
    assertThat(ack.reason()).isEqualTo(Reason.UNEXPECTED_HEADER);
    assertThat(ack.header()).isEqualTo(Header.CONNECT_ACK);
    assertThat(ack.getMessage()).isEqualTo("CONNECT_ACK: not a message the coordinator receives");
    assertThat(reject(Direction.TO_COORDINATOR, "92 1a 01").header()).isEqualTo(Header.SEND_KV);
    assertThat(reject(Direction.TO_COORDINATOR, "91 50").header()).isEqualTo(Header.TP_BROADCAST);
    assertThat(reject(Direction.TO_ENGINE, "91 00").getMessage())
        .isEqualTo("CONNECT: not a message an engine receives");
    assertThat(reject(Direction.TO_CLIENT, "91 28").getMessage())
        .isEqualTo("PAUSE: not a message a client receives");
  }

  @Test
  void wrongArity() {
    ProtocolException e = reject(Direction.TO_COORDINATOR, "93 14 01 a1 61");
    assertThat(e.reason()).isEqualTo(Reason.WRONG_ARITY);
    assertThat(e.header()).isEqualTo(Header.SUBMIT_REQUEST);
    assertThat(e.getMessage()).isEqualTo("SUBMIT_REQUEST: expected 4 or 5 elements, got 3");
    // an engine reads main's forms only (Megatron main's engine: three or four fields)
    assertThat(reject(Direction.TO_ENGINE, "93 14 01 a1 61").getMessage())
        .isEqualTo("SUBMIT_REQUEST: expected 4 or 5 elements, got 3");
    assertThat(reject(Direction.TO_COORDINATOR, "92 28 01").getMessage())
        .isEqualTo("PAUSE: expected 1 elements, got 2");
    // a huge declared count is an arity error, found before anything is read or sized
    assertThat(reject(Direction.TO_COORDINATOR, "dd ff ff ff ff 00").getMessage())
        .isEqualTo("CONNECT: expected 1 elements, got 4294967295");
  }

  @Test
  void wrongFieldType() {
    ProtocolException prompt = reject(Direction.TO_COORDINATOR, "94 14 01 80 80");
    assertThat(prompt.reason()).isEqualTo(Reason.WRONG_FIELD_TYPE);
    assertThat(prompt.header()).isEqualTo(Header.SUBMIT_REQUEST);
    assertThat(prompt.getMessage())
        .isEqualTo("SUBMIT_REQUEST: field 2 (prompt) must be a str or an array of int, got map");
    assertThat(reject(Direction.TO_COORDINATOR, "94 14 a1 31 a1 61 80").getMessage())
        .isEqualTo("SUBMIT_REQUEST: field 1 (client_request_id) must be an int, got str");
    assertThat(
            reject(Direction.TO_COORDINATOR, "94 14 01 92 01 cb 00 00 00 00 00 00 00 00 80")
                .getMessage())
        .isEqualTo(
            "SUBMIT_REQUEST: field 2 (prompt) must be a str or an array of int,"
                + " got an array holding float at element 1");
    assertThat(reject(Direction.TO_COORDINATOR, "94 14 01 a1 61 90").getMessage())
        .isEqualTo("SUBMIT_REQUEST: field 3 (sampling_params) must be a map, got array");
    assertThat(reject(Direction.TO_COORDINATOR, "95 14 01 a1 61 80 c3").getMessage())
        .isEqualTo("SUBMIT_REQUEST: field 4 (multi_modal_data) must be nil or a map, got bool");
    assertThat(reject(Direction.TO_COORDINATOR, "92 2c cf 80 00 00 00 00 00 00 00").getMessage())
        .isEqualTo(
            "SET_GENERATION_EPOCH: field 1 (epoch) must be an int64, got uint64 9223372036854775808");
    assertThat(reject(Direction.TO_COORDINATOR, "92 15 80").getMessage())
        .isEqualTo("ENGINE_REPLY: field 1 (records) must be an array of maps, got map");
    assertThat(reject(Direction.TO_COORDINATOR, "92 16 92 81 a1 61 01 05").getMessage())
        .isEqualTo(
            "ENGINE_REPLY_PARTIAL: field 1 (records) must be an array of maps,"
                + " got an array holding int at element 1");
    assertThat(reject(Direction.TO_CLIENT, "93 15 01 a1 78").getMessage())
        .isEqualTo("ENGINE_REPLY: field 2 (record) must be a map, got str");
  }

  @Test
  void missingField() {
    ProtocolException e = reject(Direction.TO_CLIENT, "93 15 07 81 a6 73 74 61 74 75 73 01");
    assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
    assertThat(e.header()).isEqualTo(Header.ENGINE_REPLY);
    assertThat(e.getMessage())
        .isEqualTo("ENGINE_REPLY: field 2 (record) has no str key \"request_id\"");
    // request_id as bin is not the key
    ProtocolException bin =
        reject(Direction.TO_CLIENT, "93 16 07 81 c4 0a 72 65 71 75 65 73 74 5f 69 64 01");
    assertThat(bin.reason()).isEqualTo(Reason.MISSING_FIELD);
    ProtocolException wrong =
        reject(Direction.TO_CLIENT, "93 15 07 81 aa 72 65 71 75 65 73 74 5f 69 64 a1 31");
    assertThat(wrong.reason()).isEqualTo(Reason.WRONG_FIELD_TYPE);
    assertThat(wrong.getMessage()).endsWith("key \"request_id\" must be an int64, got str");
  }

  @Test
  void trailingBytes() {
    ProtocolException e = reject(Direction.TO_COORDINATOR, "91 00 00 00");
    assertThat(e.reason()).isEqualTo(Reason.TRAILING_BYTES);
    assertThat(e.header()).isEqualTo(Header.CONNECT);
    assertThat(e.getMessage()).isEqualTo("CONNECT: 2 trailing bytes after the array");
  }

  @Test
  void badRecordsAreSkippedAndCountedWithoutCostingTheOthers() throws ProtocolException {
    // [21, [{"request_id": 5}, {"status": 1}, {"request_id": "x"}, {"request_id": 6}]]
    byte[] frame =
        hex(
            "9215 94"
                + "81 aa 726571756573745f6964 05"
                + "81 a6 737461747573 01"
                + "81 aa 726571756573745f6964 a178"
                + "81 aa 726571756573745f6964 06");
    EngineReply reply = (EngineReply) codec.decode(Direction.TO_COORDINATOR, frame);
    assertThat(reply.invalidRecords()).isEqualTo(2);
    assertThat(reply.records()).extracting(ReplyRecord::requestId).containsExactly(5L, 6L);
  }

  @Test
  void duplicateRequestIdKeysFollowPythonLastWins() throws ProtocolException {
    // {"request_id": 5, "request_id": 9} decodes in Python to {"request_id": 9}
    byte[] frame = hex("9215 91 82 aa726571756573745f6964 05 aa726571756573745f6964 09");
    EngineReply reply = (EngineReply) codec.decode(Direction.TO_COORDINATOR, frame);
    assertThat(reply.records()).extracting(ReplyRecord::requestId).containsExactly(9L);
  }

  @Test
  void everyReasonHasAFrameThatTriggersIt() {
    Map<Reason, String> frames = new EnumMap<>(Reason.class);
    frames.put(Reason.MALFORMED_MSGPACK, "94 14 01 d9 03 61");
    frames.put(Reason.NOT_AN_ARRAY, "81 a1 61 01");
    frames.put(Reason.EMPTY_ARRAY, "90");
    frames.put(Reason.UNKNOWN_HEADER, "91 63");
    frames.put(Reason.UNEXPECTED_HEADER, "91 01");
    frames.put(Reason.WRONG_ARITY, "93 14 01 a1 61");
    frames.put(Reason.WRONG_FIELD_TYPE, "94 14 01 80 80");
    frames.put(Reason.MISSING_FIELD, "93 15 07 81 a6 73 74 61 74 75 73 01");
    frames.put(Reason.TRAILING_BYTES, "91 00 00");
    assertThat(frames.keySet()).containsExactlyInAnyOrder(Reason.values());
    frames.forEach(
        (reason, hex) -> {
          Direction to =
              reason == Reason.MISSING_FIELD ? Direction.TO_CLIENT : Direction.TO_COORDINATOR;
          assertThat(reject(to, hex).reason()).as(hex).isEqualTo(reason);
        });
  }

  private static byte[] hex(String spaced) {
    return HexFormat.of().parseHex(spaced.replace(" ", ""));
  }
}
