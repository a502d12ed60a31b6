package io.dpcoord.protocol;

import java.util.List;

/**
 * ENGINE_REPLY from an engine: {@code [21, [record, ...]]}, each record a finished request.
 *
 * @param records the records with a valid int64 {@code request_id}, in frame order
 * @param invalidRecords maps in the frame that were skipped for lacking one (not re-encoded)
 */
public record EngineReply(List<ReplyRecord> records, int invalidRecords) implements Message {

  /** Copies the list; rejects null elements and a negative count. */
  public EngineReply {
    records = List.copyOf(RawValue.checkPresent(records, "records"));
    if (invalidRecords < 0) {
      throw new IllegalArgumentException("invalidRecords is negative: " + invalidRecords);
    }
  }

  @Override
  public Header header() {
    return Header.ENGINE_REPLY;
  }
}
