package io.dpcoord.protocol;

/** ENGINE_REPLY to a client: {@code [21, cid, record]}, the request's terminal record. */
public record ClientReply(long clientRequestId, RawValue record) implements Message {

  /** Rejects a record that is not a map. */
  public ClientReply {
    RawValue.checkMap(record, "record");
  }

  @Override
  public Header header() {
    return Header.ENGINE_REPLY;
  }
}
