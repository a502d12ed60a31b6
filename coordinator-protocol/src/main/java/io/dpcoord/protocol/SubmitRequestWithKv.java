package io.dpcoord.protocol;

/**
 * SUBMIT_REQUEST_WITH_KV from a client: {@code [24, cid, prompt, sampling_params, kv_meta,
 * src_block_ids]}; kv_meta and src_block_ids are opaque values of any type.
 */
public record SubmitRequestWithKv(
    long clientRequestId,
    Prompt prompt,
    RawValue samplingParams,
    RawValue kvMeta,
    RawValue srcBlockIds)
    implements Message {

  /** Rejects missing fields and non-map sampling params. */
  public SubmitRequestWithKv {
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
