package io.dpcoord.protocol;

import java.util.List;

/**
 * ENGINE_REPLY_PARTIAL from an engine: {@code [22, [record, ...]]}, progress on live requests.
 *
 * @param records the records with a valid int64 {@code request_id}, in frame order
 * @param invalidRecords maps in the frame that were skipped for lacking one (not re-encoded)
 */
public record EngineReplyPartial(List<ReplyRecord> records, int invalidRecords) implements Message {

  /** Copies the list; rejects null elements and a negative count. */
  public EngineReplyPartial {
    records = List.copyOf(RawValue.checkPresent(records, "records"));
    if (invalidRecords < 0) {
      throw new IllegalArgumentException("invalidRecords is negative: " + invalidRecords);
    }
  }

  @Override
  public Header header() {
    return Header.ENGINE_REPLY_PARTIAL;
  }
}
