package io.dpcoord.protocol;

/** ENGINE_REPLY_PARTIAL to a client: {@code [22, cid, record]}. */
public record ClientReplyPartial(long clientRequestId, RawValue record) implements Message {

  /** Rejects a record that is not a map. */
  public ClientReplyPartial {
    RawValue.checkMap(record, "record");
  }

  @Override
  public Header header() {
    return Header.ENGINE_REPLY_PARTIAL;
  }
}
