package io.dpcoord.protocol;

import io.dpcoord.protocol.MsgpackReader.Type;
import java.nio.charset.StandardCharsets;
import java.util.function.LongFunction;

/**
 * One walk over a reply record map that reads the fields the coordinator acts on and skips the
 * rest: {@code request_id}, and for a {@code COMPLETED} record its {@code num_cached_tokens}.
 *
 * <p>Reused by {@link MessageCodec} for every record it decodes, so that reading these fields costs
 * no second walk over records that run to tens of kilobytes. For every key the last occurrence
 * wins, as in the Python dict the peer builds from the map.
 *
 * <p>Given the prompts the coordinator forwarded ({@link MessageCodec#recognisePrompts}), the walk
 * hands the reader the prompt of the record's {@code request_id} once it has read it, so that the
 * copies of that prompt the record carries ({@code prompt}, {@code prompt_tokens}, Megatron's
 * {@code remaining_prompt_tokens}) are passed with one comparison each instead of a check of every
 * token. A copy that differs by a byte is checked as before.
 */
final class RecordScan {
  private static final byte[] REQUEST_ID = utf8("request_id");
  private static final byte[] NUM_CACHED_TOKENS = utf8("num_cached_tokens");
  private static final byte[] STATUS = utf8("status");
  private static final byte[] COMPLETED = utf8("COMPLETED");
  private static final byte[] REQUESTS = utf8("requests");

  /** What the walk found under "request_id". */
  enum IdState {
    MISSING,
    VALID,
    WRONG_TYPE
  }

  IdState idState;
  long id;
  String idType;
  private long cachedTokens;
  private boolean completed;
  private LongFunction<RawValue> prompts;

  /** The forwarded prompt of a request id (or null), for {@link #walk}; null: none known. */
  void prompts(LongFunction<RawValue> forwardedPrompt) {
    this.prompts = forwardedPrompt;
  }

  /**
   * The {@code num_cached_tokens} of a record's walk: the value when the record's {@code status} is
   * {@code COMPLETED} and the value is an int64 of at least 0, else {@link
   * ReplyRecord#CACHED_TOKENS_UNKNOWN}.
   */
  long cachedTokens() {
    return completed ? cachedTokens : ReplyRecord.CACHED_TOKENS_UNKNOWN;
  }

  /** {@link #cachedTokens()} of a record built outside a frame; unknown for anything not a map. */
  static long cachedTokensOf(RawValue record) {
    if (record == null || !record.isMap()) {
      return ReplyRecord.CACHED_TOKENS_UNKNOWN;
    }
    RecordScan scan = new RecordScan();
    try {
      scan.walk(record.reader(), 0);
    } catch (ProtocolException e) {
      throw new IllegalStateException("RawValue holds malformed msgpack: " + e.getMessage(), e);
    }
    return scan.cachedTokens();
  }

  /**
   * Walks the record map at the reader's cursor, leaving the cursor after it.
   *
   * @param enclosingDepth the containers the map is nested in, for the reader's depth bound
   */
  void walk(MsgpackReader reader, int enclosingDepth) throws ProtocolException {
    walk(reader, enclosingDepth, false);
  }

  /**
   * The same; with {@code nested}, the map is a Megatron core_v0.16 {@code
   * DynamicInferenceRequestRecord}, {@code {"requests": [request, ...], ...}}, and the fields are
   * read from its first request (the one its coordinator takes the id from); the rest is skipped.
   */
  void walk(MsgpackReader reader, int enclosingDepth, boolean nested) throws ProtocolException {
    try {
      if (nested) {
        scanRecord(reader, enclosingDepth);
      } else {
        scan(reader, enclosingDepth);
      }
    } finally {
      reader.echo(null); // no prompt (nor its frame) outlives the record
    }
  }

  private void scan(MsgpackReader reader, int enclosingDepth) throws ProtocolException {
    reset();
    long entries = reader.readMapHeader();
    reader.checkElements(2 * entries);
    int inner = enclosingDepth + 1;
    for (long i = 0; i < entries; i++) {
      checkKey(reader);
      if (reader.nextIsStr(REQUEST_ID)) {
        reader.skipValue(inner);
        readId(reader, inner);
      } else if (reader.nextIsStr(NUM_CACHED_TOKENS)) {
        reader.skipValue(inner);
        readCachedTokens(reader, inner);
      } else if (reader.nextIsStr(STATUS)) {
        reader.skipValue(inner);
        completed = reader.nextIsStr(COMPLETED);
        reader.skipValue(inner);
      } else {
        reader.skipValue(inner);
        reader.skipValue(inner);
      }
    }
  }

  private void reset() {
    idState = IdState.MISSING;
    cachedTokens = ReplyRecord.CACHED_TOKENS_UNKNOWN;
    completed = false;
  }

  private static void checkKey(MsgpackReader reader) throws ProtocolException {
    Type keyType = reader.peekType();
    if (keyType != Type.STR && keyType != Type.BIN) {
      throw reader.malformed(
          "a map key of type " + keyType + "; Python's msgpack accepts only str and bin keys");
    }
  }

  /** A core_v0.16 record: the last {@code requests} key decides, as in a Python dict. */
  private void scanRecord(MsgpackReader reader, int enclosingDepth) throws ProtocolException {
    reset();
    long entries = reader.readMapHeader();
    reader.checkElements(2 * entries);
    int inner = enclosingDepth + 1;
    for (long i = 0; i < entries; i++) {
      checkKey(reader);
      boolean requests = reader.nextIsStr(REQUESTS);
      reader.skipValue(inner);
      if (requests && reader.peekType() == Type.ARRAY) {
        long count = reader.readArrayHeader();
        reader.checkElements(count);
        reset();
        for (long j = 0; j < count; j++) {
          if (j == 0 && reader.peekType() == Type.MAP) {
            scan(reader, inner + 1);
          } else {
            reader.skipValue(inner + 1);
          }
        }
      } else {
        if (requests) {
          reset();
        }
        reader.skipValue(inner);
      }
    }
  }

  private void readId(MsgpackReader reader, int inner) throws ProtocolException {
    Type type = reader.peekType();
    if (type == Type.INT && !reader.nextIsUint64AboveInt64()) {
      id = reader.readInt64();
      idState = IdState.VALID;
      reader.echo(prompts == null ? null : prompts.apply(id));
    } else {
      idType =
          type == Type.INT
              ? "uint64 " + Long.toUnsignedString(reader.peekRawUint64())
              : type.toString();
      reader.skipValue(inner);
      idState = IdState.WRONG_TYPE;
    }
  }

  /** An int64 of at least 0 is a count; anything else (a float, nil, a negative int) unknown. */
  private void readCachedTokens(MsgpackReader reader, int inner) throws ProtocolException {
    if (reader.peekType() == Type.INT && !reader.nextIsUint64AboveInt64()) {
      long value = reader.readInt64();
      cachedTokens = value >= 0 ? value : ReplyRecord.CACHED_TOKENS_UNKNOWN;
    } else {
      cachedTokens = ReplyRecord.CACHED_TOKENS_UNKNOWN;
      reader.skipValue(inner);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
