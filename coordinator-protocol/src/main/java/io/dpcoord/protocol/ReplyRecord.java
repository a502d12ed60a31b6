package io.dpcoord.protocol;

/**
 * One reply record: the coordinator owns only request_id; the rest is forwarded as the raw map.
 *
 * @param requestId the record's {@code request_id}, a coordinator-assigned id
 * @param raw the whole record map, byte for byte as the engine sent it
 */
public record ReplyRecord(long requestId, RawValue raw) {

  /** Rejects a record that is not a map. */
  public ReplyRecord {
    RawValue.checkMap(raw, "raw");
  }
}
