package io.dpcoord.protocol;

/**
 * The one exception the decoder throws.
 *
 * <p>It carries no stack trace: it reports bad input, not a bug, and a flood of bad frames must
 * stay cheap. The message names the header, the field and what was wrong.
 */
public final class ProtocolException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why a frame or value was rejected. */
  public enum Reason {
    /** Not well-formed msgpack: truncated, the reserved byte 0xc1, a length beyond the frame. */
    MALFORMED_MSGPACK,
    /** The frame's value is not an array. */
    NOT_AN_ARRAY,
    /** The frame is an array with no elements, so it has no header. */
    EMPTY_ARRAY,
    /** Element 0 is an integer that is not in the header catalogue. */
    UNKNOWN_HEADER,
    /** A known header that this receiver never gets (e.g. CONNECT_ACK at the coordinator). */
    UNEXPECTED_HEADER,
    /** The array has the wrong number of elements for its header. */
    WRONG_ARITY,
    /** A field has the wrong msgpack type or is out of range. */
    WRONG_FIELD_TYPE,
    /** A map lacks a key the receiver needs. */
    MISSING_FIELD,
    /** Bytes follow the frame's one value. */
    TRAILING_BYTES
  }

  private final Reason reason;
  private final Header header;

  /** A rejection for {@code reason}; {@code header} is null when it is not known. */
  public ProtocolException(Reason reason, Header header, String message) {
    super(message, null, false, false);
    this.reason = reason;
    this.header = header;
  }

  /** Why the input was rejected. */
  public Reason reason() {
    return reason;
  }

  /** The frame's header, or null when it was not (yet) known. */
  public Header header() {
    return header;
  }
}
