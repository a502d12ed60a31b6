package io.dpcoord.protocol;

/**
 * One reply record: the coordinator owns only request_id; the rest is forwarded as the raw map.
 *
 * @param requestId the record's {@code request_id}, a coordinator-assigned id
 * @param raw the whole record map, byte for byte as the engine sent it
 * @param cachedTokens the prompt tokens the engine served from its prefix cache, as its record says
 *     in {@code num_cached_tokens} (Megatron main: matched blocks x block size, summed over prefill
 *     chunks), or {@link #CACHED_TOKENS_UNKNOWN}: the key is missing (Megatron 0.18's records, a
 *     partial record), its value is not an int64 of at least 0, or the record's {@code status} is
 *     not {@code COMPLETED} (a request that failed or was aborted before its prefill reports 0,
 *     which says nothing about the engine's cache)
 */
public record ReplyRecord(long requestId, RawValue raw, long cachedTokens) {
  /**
   * {@link #cachedTokens()} of a record that does not say what the engine served from its cache.
   */
  public static final long CACHED_TOKENS_UNKNOWN = -1;

  /** Rejects a record that is not a map, and a cached-token count below unknown. */
  public ReplyRecord {
    RawValue.checkMap(raw, "raw");
    if (cachedTokens < CACHED_TOKENS_UNKNOWN) {
      throw new IllegalArgumentException(
          "cachedTokens must be a count or CACHED_TOKENS_UNKNOWN (-1), got " + cachedTokens);
    }
  }

  /**
   * A record with {@link #cachedTokens()} read from {@code raw} (one walk over the map); the codec
   * reads it while decoding instead.
   */
  public ReplyRecord(long requestId, RawValue raw) {
    this(requestId, raw, RecordScan.cachedTokensOf(raw));
  }
}
