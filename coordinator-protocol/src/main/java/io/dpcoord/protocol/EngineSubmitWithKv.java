package io.dpcoord.protocol;

/**
 * SUBMIT_REQUEST_WITH_KV to an engine: {@code [24, rid, prompt, sampling_params, kv_meta,
 * src_block_ids]}.
 */
public record EngineSubmitWithKv(
    long requestId, Prompt prompt, RawValue samplingParams, RawValue kvMeta, RawValue srcBlockIds)
    implements Message {

  /** Rejects missing fields and non-map sampling params. */
  public EngineSubmitWithKv {
    RawValue.checkPresent(prompt, "prompt");
    RawValue.checkMap(samplingParams, "samplingParams");
    RawValue.checkPresent(kvMeta, "kvMeta");
    RawValue.checkPresent(srcBlockIds, "srcBlockIds");
  }

  @Override
  public Header header() {
    return Header.SUBMIT_REQUEST_WITH_KV;
  }
}
