package io.dpcoord.protocol;

import io.dpcoord.protocol.MsgpackReader.Type;
import io.dpcoord.protocol.ProtocolException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * Encodes and decodes frames. Not thread-safe: one per thread; reuses its buffers.
 *
 * <p>Design notes. Decoding validates a frame in one pass, in this order: msgpack array, non-empty,
 * element 0 an integer known header, header expected in this direction, arity, field types, nothing
 * after the array. Fields the coordinator acts on (ids, epochs, the prompt, a record's request_id
 * and, when it is COMPLETED, its num_cached_tokens; {@link RecordScan}) are read in that pass;
 * every other field is skipped and kept as a {@link RawValue} slice of the frame, so it is
 * forwarded byte for byte. Encoding writes headers, ids and epochs in the smallest int encoding (as
 * Python's {@code msgpack.packb} does) and copies raw values as they are.
 */
public final class MessageCodec {
  private static final Connect CONNECT = new Connect();
  private static final ConnectAck CONNECT_ACK = new ConnectAck();
  private static final Shutdown SHUTDOWN = new Shutdown();
  private static final Disconnect DISCONNECT = new Disconnect();
  private static final Registration REGISTRATION = new Registration();
  private static final Map<Header, ControlSignal> SIGNALS = new EnumMap<>(Header.class);

  static {
    for (Header h : Header.values()) {
      if (ControlSignal.isSignal(h)) {
        SIGNALS.put(h, new ControlSignal(h));
      }
    }
  }

  private final MsgpackReader reader = new MsgpackReader();
  private final FrameWriter out = new FrameWriter(4096);
  private Header header;
  private Dialect dialect = Dialect.V0_19;
  private final RecordScan scan = new RecordScan();
  private final int maxPromptTokens;

  /** A codec with its own reusable buffers. */
  public MessageCodec() {
    this(Integer.MAX_VALUE);
  }

  /**
   * A codec whose decoded token prompts longer than {@code maxPromptTokens} are skipped, not read:
   * they come out as {@link Prompt#overLimitTokens()}, so that a huge prompt costs no memory.
   */
  public MessageCodec(int maxPromptTokens) {
    this.maxPromptTokens = maxPromptTokens;
  }

  /**
   * Lets the decoding of engine replies pass the copies of a request's prompt in its records by
   * comparing bytes ({@link RecordScan}): {@code forwardedPrompt} returns the prompt as it was
   * forwarded to the engine under a request id ({@link Prompt#raw()}, a value this codec decoded),
   * or null when it knows none. It is called on the decoding thread, once per record. What is
   * accepted does not change: equal bytes are the same valid value.
   *
   * @return this codec
   */
  public MessageCodec recognisePrompts(LongFunction<RawValue> forwardedPrompt) {
    scan.prompts(forwardedPrompt);
    return this;
  }

  /**
   * Decodes one frame received by {@code to}.
   *
   * <p>The returned message's raw values are slices of {@code frame}: do not modify the frame
   * afterwards. For any content of {@code frame} this either returns or throws {@link
   * ProtocolException}; null arguments are a misuse.
   *
   * @throws ProtocolException naming the reason, the header when known, and the field
   */
  public Message decode(Direction to, byte[] frame) throws ProtocolException {
    return decode(Dialect.V0_19, to, frame);
  }

  /**
   * Decodes one frame received by {@code to} from a peer that speaks {@code dialect} (see {@link
   * #decode(Direction, byte[])}): headers are read in its numbering, and a 0.18 SUBMIT must carry
   * exactly three fields after the header.
   */
  public Message decode(Dialect dialect, Direction to, byte[] frame) throws ProtocolException {
    if (dialect == null || to == null || frame == null) {
      throw new IllegalArgumentException("decode needs a dialect, a direction and a frame");
    }
    this.dialect = dialect;
    header = null;
    if (frame.length == 0) {
      if (to == Direction.TO_COORDINATOR) {
        return REGISTRATION;
      }
      throw new ProtocolException(
          Reason.MALFORMED_MSGPACK,
          null,
          "frame: empty frame; only an engine's registration to the coordinator may be empty");
    }
    reader.reset(frame, 0, frame.length, null);
    Type type = reader.peekType();
    if (type != Type.ARRAY) {
      throw new ProtocolException(
          Reason.NOT_AN_ARRAY, null, "frame: must be a msgpack array, got " + type);
    }
    long size = reader.readArrayHeader();
    if (size == 0) {
      throw new ProtocolException(Reason.EMPTY_ARRAY, null, "frame: empty array has no header");
    }
    Message message;
    if (to == Direction.TO_CLIENT && dialect.buildsRecords() && size == 2) {
      // core_v0.15's reply to a client has no header: [client_request_id, record]
      header = Header.ENGINE_REPLY;
      reader.context(header);
      message = new ClientReply(int64(0, "client_request_id"), clientRecord());
      return atEnd(message);
    }
    header = readHeader();
    reader.context(header);
    switch (to) {
      case TO_COORDINATOR:
        message = toCoordinator(size);
        break;
      case TO_ENGINE:
        message = toEngine(size);
        break;
      default:
        message = toClient(size);
        break;
    }
    return atEnd(message);
  }

  /** {@code message}, once nothing follows its array in the frame. */
  private Message atEnd(Message message) throws ProtocolException {
    if (!reader.atEnd()) {
      throw new ProtocolException(
          Reason.TRAILING_BYTES,
          header,
          header + ": " + reader.remaining() + " trailing bytes after the array");
    }
    return message;
  }

  private Header readHeader() throws ProtocolException {
    Type type = reader.peekType();
    if (type != Type.INT) {
      throw new ProtocolException(
          Reason.WRONG_FIELD_TYPE, null, "frame: element 0 (header) must be an int, got " + type);
    }
    if (reader.nextIsUint64AboveInt64()) {
      throw new ProtocolException(
          Reason.UNKNOWN_HEADER,
          null,
          "frame: unknown header " + Long.toUnsignedString(reader.peekRawUint64()));
    }
    long value = reader.readInt64();
    Header h = dialect.header(value);
    if (h == null) {
      throw new ProtocolException(Reason.UNKNOWN_HEADER, null, "frame: unknown header " + value);
    }
    return h;
  }

  private Message toCoordinator(long size) throws ProtocolException {
    switch (header) {
      case CONNECT:
        return headerOnly(size, CONNECT);
      case SUBMIT_REQUEST:
        if (size != 4 && (size != 5 || !dialect.isMain())) {
          throw wrongArity(size, dialect.isMain() ? "4 or 5" : "4");
        }
        return new SubmitRequest(
            int64(1, "client_request_id"),
            prompt(2),
            map(3, "sampling_params", 2),
            size == 5 ? nilOrMap(4, "multi_modal_data") : null);
      case SUBMIT_REQUEST_WITH_KV:
        arity(size, 6);
        return new SubmitRequestWithKv(
            int64(1, "client_request_id"), prompt(2), map(3, "sampling_params"), any(), any());
      case ENGINE_REPLY:
        if (dialect.buildsRecords()) {
          arity(size, 7);
          return engineStep();
        }
        arity(size, 2);
        return replies();
      case ENGINE_REPLY_PARTIAL:
        arity(size, 2);
        return replies();
      case ABORT_REQUEST:
      case RELEASE_KV:
      case SET_GENERATION_EPOCH:
        return oneInt64(size, "client_request_id");
      case DISCONNECT:
        return headerOnly(size, DISCONNECT);
      case SHUTDOWN:
        return headerOnly(size, SHUTDOWN);
      case PAUSE_ACK:
      case STOP_ACK:
        return headerOnly(size, new ControlAck(header));
      default:
        return signalOrUnexpected(size, "the coordinator");
    }
  }

  private Message toEngine(long size) throws ProtocolException {
    switch (header) {
      case SUBMIT_REQUEST:
        // main's engine takes both forms; core_v0.19.0's and 0.18's take only the short one
        if (size != 4 && (size != 5 || !dialect.isMain())) {
          throw wrongArity(size, dialect.isMain() ? "4 or 5" : "4");
        }
        return new EngineSubmit(
            int64(1, "request_id"),
            prompt(2),
            map(3, "sampling_params"),
            size == 5 ? nilOrMap(4, "multi_modal_data") : null);
      case SUBMIT_REQUEST_WITH_KV:
        arity(size, 6);
        return new EngineSubmitWithKv(
            int64(1, "request_id"), prompt(2), map(3, "sampling_params"), any(), any());
      case ABORT_REQUEST:
      case RELEASE_KV:
      case SET_GENERATION_EPOCH:
        return oneInt64(size, "request_id");
      case PAUSE_ACK:
      case STOP_ACK:
        return headerOnly(size, new ControlAck(header));
      default:
        return signalOrUnexpected(size, "an engine");
    }
  }

  /**
   * ABORT_REQUEST, RELEASE_KV or SET_GENERATION_EPOCH: the header and one int64, alike for the
   * coordinator and an engine but for the name of an abort's id ({@code abortId}).
   */
  private Message oneInt64(long size, String abortId) throws ProtocolException {
    arity(size, 2);
    return switch (header) {
      case ABORT_REQUEST -> new AbortRequest(int64(1, abortId));
      case RELEASE_KV -> new ReleaseKv(int64(1, "request_id"));
      case SET_GENERATION_EPOCH -> new SetGenerationEpoch(int64(1, "epoch"));
      default -> throw new IllegalStateException(header + " is not a one-int64 message");
    };
  }

  private Message toClient(long size) throws ProtocolException {
    switch (header) {
      case CONNECT_ACK:
        return headerOnly(size, CONNECT_ACK);
      case ENGINE_REPLY:
        arity(size, 3);
        return new ClientReply(int64(1, "client_request_id"), clientRecord());
      case ENGINE_REPLY_PARTIAL:
        arity(size, 3);
        return new ClientReplyPartial(int64(1, "client_request_id"), clientRecord());
      case PAUSE_ACK:
      case STOP_ACK:
        arity(size, 2);
        if (reader.peekType() != Type.BIN) {
          throw wrongType(1, "engine identity", "a bin", reader.peekType().toString());
        }
        return new ControlAck(header, reader.readBin());
      default:
        throw unexpected("a client");
    }
  }

  private Message signalOrUnexpected(long size, String receiver) throws ProtocolException {
    ControlSignal signal = SIGNALS.get(header);
    if (signal == null) {
      throw unexpected(receiver);
    }
    return headerOnly(size, signal);
  }

  /** A message that is its header alone: {@code [header]}. */
  private Message headerOnly(long size, Message message) throws ProtocolException {
    arity(size, 1);
    return message;
  }

  /** Element 1 of ENGINE_REPLY/PARTIAL: an array of maps; maps without a valid id are counted. */
  private Message replies() throws ProtocolException {
    Type type = reader.peekType();
    if (type != Type.ARRAY) {
      throw wrongType(1, "records", "an array of maps", type.toString());
    }
    long count = reader.readArrayHeader();
    reader.checkElements(count);
    List<ReplyRecord> records = new ArrayList<>();
    int invalid = 0;
    byte[] frame = reader.buffer();
    for (long i = 0; i < count; i++) {
      Type element = reader.peekType();
      if (element != Type.MAP) {
        throw wrongType(
            1, "records", "an array of maps", "an array holding " + element + " at element " + i);
      }
      int start = reader.position();
      scan.walk(reader, 2, dialect.nestsRecords());
      if (scan.idState == RecordScan.IdState.VALID) {
        records.add(
            new ReplyRecord(
                scan.id,
                RawValue.slice(frame, start, reader.position() - start),
                scan.cachedTokens()));
      } else {
        invalid++;
      }
    }
    return header == Header.ENGINE_REPLY
        ? new EngineReply(records, invalid)
        : new EngineReplyPartial(records, invalid);
  }

  /**
   * A core_v0.15 engine step: {@code [3, request_ids, finished_request_ids, tokens, logprobs,
   * chunked_prefill_request_id, materialize_only_last_token_logits]} ({@link EngineStep}).
   */
  private Message engineStep() throws ProtocolException {
    long[] ids = int64s(1, "request_ids");
    long[] finished = int64s(2, "finished_request_ids");
    long[] tokens = int64s(3, "tokens");
    List<RawValue> logProbs = logProbs();
    long chunked = -1;
    if (reader.peekType() == Type.NIL) {
      reader.skipValue(); // None: no request is in chunked prefill, as -1
    } else {
      chunked = int64(5, "chunked_prefill_request_id");
    }
    if (reader.peekType() != Type.BOOL) {
      throw wrongType(
          6, "materialize_only_last_token_logits", "a bool", reader.peekType().toString());
    }
    return new EngineStep(ids, finished, tokens, logProbs, chunked, reader.readBool());
  }

  /** An array of int64s, as field {@code index}. */
  private long[] int64s(int index, String name) throws ProtocolException {
    Type type = reader.peekType();
    if (type != Type.ARRAY) {
      throw wrongType(index, name, "an array of int", type.toString());
    }
    long count = reader.readArrayHeader();
    reader.checkElements(count);
    long[] out = new long[(int) count];
    int bad = reader.readInt64s(out);
    if (bad >= 0) {
      throw wrongType(
          index,
          name,
          "an array of int64",
          "an array holding " + reader.peekType() + " at element " + bad);
    }
    return out;
  }

  /**
   * Field 4 of a core_v0.15 engine step: nil or an array whose every element is nil or an array of
   * numbers; empty when nil or empty (its coordinator takes both as none).
   */
  private List<RawValue> logProbs() throws ProtocolException {
    Type type = reader.peekType();
    if (type == Type.NIL) {
      reader.skipValue();
      return List.of();
    }
    if (type != Type.ARRAY) {
      throw wrongType(4, "logprobs", "nil or an array", type.toString());
    }
    long count = reader.readArrayHeader();
    reader.checkElements(count);
    List<RawValue> out = new ArrayList<>((int) count);
    byte[] frame = reader.buffer();
    for (long i = 0; i < count; i++) {
      Type element = reader.peekType();
      if (element == Type.NIL) {
        reader.skipValue();
        out.add(null);
        continue;
      }
      if (element != Type.ARRAY) {
        throw wrongType(4, "logprobs", "an array of nil or arrays", "an array holding " + element);
      }
      int start = reader.position();
      long n = reader.readArrayHeader();
      reader.checkElements(n);
      for (long j = 0; j < n; j++) {
        Type number = reader.peekType();
        if (number != Type.INT && number != Type.FLOAT) {
          throw wrongType(
              4, "logprobs", "arrays of numbers", "element " + i + " holding " + number);
        }
        reader.skipValue();
      }
      out.add(RawValue.slice(frame, start, reader.position() - start));
    }
    return out;
  }

  /** Element 2 of a reply to a client: a map that carries an int64 request_id. */
  private RawValue clientRecord() throws ProtocolException {
    Type type = reader.peekType();
    if (type != Type.MAP) {
      throw wrongType(2, "record", "a map", type.toString());
    }
    int start = reader.position();
    scan.walk(reader, 1, dialect.nestsRecords());
    if (scan.idState == RecordScan.IdState.MISSING) {
      throw new ProtocolException(
          Reason.MISSING_FIELD,
          header,
          header
              + ": field 2 (record) has no str key \"request_id\""
              + (dialect.nestsRecords() ? " in its first request" : ""));
    }
    if (scan.idState == RecordScan.IdState.WRONG_TYPE) {
      throw new ProtocolException(
          Reason.WRONG_FIELD_TYPE,
          header,
          header + ": field 2 (record) key \"request_id\" must be an int64, got " + scan.idType);
    }
    return RawValue.slice(reader.buffer(), start, reader.position() - start);
  }

  private long int64(int index, String name) throws ProtocolException {
    Type type = reader.peekType();
    if (type != Type.INT) {
      throw wrongType(index, name, "an int", type.toString());
    }
    if (reader.nextIsUint64AboveInt64()) {
      throw wrongType(
          index, name, "an int64", "uint64 " + Long.toUnsignedString(reader.peekRawUint64()));
    }
    return reader.readInt64();
  }

  private Prompt prompt(int index) throws ProtocolException {
    Type type = reader.peekType();
    int start = reader.position();
    byte[] frame = reader.buffer();
    if (type == Type.STR) {
      int len = reader.readStrHeader();
      int at = reader.position();
      if (!MsgpackReader.isUtf8(frame, at, len)) {
        throw reader.malformed("a str that is not valid UTF-8");
      }
      String text = new String(frame, at, len, StandardCharsets.UTF_8);
      reader.advance(len);
      return new Prompt(RawValue.slice(frame, start, reader.position() - start), text, null);
    }
    if (type == Type.ARRAY) {
      long count = reader.readArrayHeader();
      reader.checkElements(count);
      if (count > maxPromptTokens) {
        reader.rewind(start);
        reader.skipValue(1); // structure only: nothing is allocated
        return Prompt.overLimit(RawValue.slice(frame, start, reader.position() - start), count);
      }
      long[] tokens = new long[(int) count];
      int bad = reader.readInt64s(tokens);
      if (bad >= 0) {
        Type element = reader.peekType();
        String got =
            element == Type.INT
                ? "uint64 " + Long.toUnsignedString(reader.peekRawUint64())
                : element.toString();
        throw wrongType(
            index,
            "prompt",
            "a str or an array of int" + (element == Type.INT ? "64" : ""),
            "an array holding " + got + " at element " + bad);
      }
      return new Prompt(RawValue.slice(frame, start, reader.position() - start), null, tokens);
    }
    throw wrongType(index, "prompt", "a str or an array of int", type.toString());
  }

  private RawValue map(int index, String name) throws ProtocolException {
    return map(index, name, 1);
  }

  /**
   * A map field, checked as if it sat {@code enclosingDepth} levels deep. A client's
   * sampling_params is checked one level deeper than it sits (depth 2), because a FAILED record
   * ({@link Records#failed}) carries it inside the record map of a reply frame.
   */
  private RawValue map(int index, String name, int enclosingDepth) throws ProtocolException {
    Type type = reader.peekType();
    if (type != Type.MAP) {
      throw wrongType(index, name, "a map", type.toString());
    }
    return any(enclosingDepth);
  }

  private RawValue nilOrMap(int index, String name) throws ProtocolException {
    Type type = reader.peekType();
    if (type != Type.MAP && type != Type.NIL) {
      throw wrongType(index, name, "nil or a map", type.toString());
    }
    return any();
  }

  /** Any one field of the frame's array, kept as a slice of the frame. */
  private RawValue any() throws ProtocolException {
    return any(1);
  }

  private RawValue any(int enclosingDepth) throws ProtocolException {
    int start = reader.position();
    reader.skipValue(enclosingDepth);
    return RawValue.slice(reader.buffer(), start, reader.position() - start);
  }

  private void arity(long size, int expected) throws ProtocolException {
    if (size != expected) {
      throw wrongArity(size, String.valueOf(expected));
    }
  }

  private ProtocolException wrongArity(long size, String expected) {
    return new ProtocolException(
        Reason.WRONG_ARITY, header, header + ": expected " + expected + " elements, got " + size);
  }

  private ProtocolException wrongType(int index, String name, String expected, String got) {
    return new ProtocolException(
        Reason.WRONG_FIELD_TYPE,
        header,
        header + ": field " + index + " (" + name + ") must be " + expected + ", got " + got);
  }

  private ProtocolException unexpected(String receiver) {
    return new ProtocolException(
        Reason.UNEXPECTED_HEADER, header, header + ": not a message " + receiver + " receives");
  }

  /**
   * Encodes one message as a frame ({@link Registration} is the empty frame).
   *
   * @throws IllegalArgumentException if {@code message} is null
   */
  public byte[] encode(Message message) {
    return encode(Dialect.V0_19, message);
  }

  /**
   * Encodes one message as a frame for a peer that speaks {@code dialect}; in 0.18's a SUBMIT has
   * no {@code multi_modal_data} field.
   *
   * @throws IllegalArgumentException if {@code message} is null, or the dialect cannot carry it (a
   *     header it lacks, multimodal data in 0.18)
   */
  public byte[] encode(Dialect dialect, Message message) {
    if (message == null || dialect == null) {
      throw new IllegalArgumentException((message == null ? "message" : "dialect") + " is null");
    }
    this.dialect = dialect;
    if (message instanceof Registration) {
      return new byte[0];
    }
    out.reset();
    if (message instanceof EngineSubmit m) {
      RawValue media = m.multiModalData();
      if (!dialect.isMain() && media != null) {
        if (!media.isNil()) {
          throw new IllegalArgumentException(
              "Megatron " + dialect.cliName() + "'s SUBMIT cannot carry multimodal data");
        }
        media = null; // 0.16's and 0.18's SUBMIT have no such field
      }
      start(media == null ? 4 : 5, m.header()).int64(m.requestId());
      out.raw(m.prompt().raw()).raw(m.samplingParams());
      if (media != null) {
        out.raw(media);
      }
    } else if (message instanceof ClientReply m && dialect.buildsRecords()) {
      out.arrayHeader(2).int64(m.clientRequestId()).raw(m.record()); // core_v0.15: no header
    } else if (message instanceof ClientReply m) {
      start(3, m.header()).int64(m.clientRequestId()).raw(m.record());
    } else if (message instanceof EngineStep m) {
      start(7, m.header());
      int64s(m.requestIds());
      int64s(m.finishedIds());
      int64s(m.tokens());
      if (m.logProbs().isEmpty()) {
        out.nil();
      } else {
        out.arrayHeader(m.logProbs().size());
        for (RawValue v : m.logProbs()) {
          out.raw(v == null ? RawValue.nil() : v);
        }
      }
      out.int64(m.chunkedPrefillId()).bool(m.materializeOnlyLast());
    } else if (message instanceof ClientReplyPartial m) {
      start(3, m.header()).int64(m.clientRequestId()).raw(m.record());
    } else if (message instanceof SubmitRequest m) {
      if (!dialect.isMain() && m.multiModalData() != null) {
        throw new IllegalArgumentException(
            "Megatron " + dialect.cliName() + "'s SUBMIT cannot carry multimodal data");
      }
      start(m.multiModalData() == null ? 4 : 5, m.header()).int64(m.clientRequestId());
      out.raw(m.prompt().raw()).raw(m.samplingParams());
      if (m.multiModalData() != null) {
        out.raw(m.multiModalData());
      }
    } else if (message instanceof EngineReply m) {
      writeReplies(m.header(), m.records());
    } else if (message instanceof EngineReplyPartial m) {
      writeReplies(m.header(), m.records());
    } else if (message instanceof SubmitRequestWithKv m) {
      start(6, m.header()).int64(m.clientRequestId());
      out.raw(m.prompt().raw()).raw(m.samplingParams()).raw(m.kvMeta()).raw(m.srcBlockIds());
    } else if (message instanceof EngineSubmitWithKv m) {
      start(6, m.header()).int64(m.requestId());
      out.raw(m.prompt().raw()).raw(m.samplingParams()).raw(m.kvMeta()).raw(m.srcBlockIds());
    } else if (message instanceof AbortRequest m) {
      start(2, m.header()).int64(m.requestId());
    } else if (message instanceof ReleaseKv m) {
      start(2, m.header()).int64(m.requestId());
    } else if (message instanceof SetGenerationEpoch m) {
      start(2, m.header()).int64(m.epoch());
    } else if (message instanceof ControlAck m && m.engine() != null) {
      start(2, m.header()).bin(m.engine());
    } else {
      // Connect, ConnectAck, ControlSignal, Shutdown, Disconnect, an engine's ControlAck: the
      // header alone
      start(1, message.header());
    }
    return out.toByteArray();
  }

  private void int64s(long[] values) {
    out.arrayHeader(values.length);
    for (long v : values) {
      out.int64(v);
    }
  }

  private FrameWriter start(int size, Header h) {
    return out.arrayHeader(size).int64(dialect.wire(h));
  }

  private void writeReplies(Header h, List<ReplyRecord> records) {
    start(2, h).arrayHeader(records.size());
    for (ReplyRecord r : records) {
      out.raw(r.raw());
    }
  }
}
