package io.dpcoord.protocol;

/**
 * SUBMIT_REQUEST to an engine: {@code [20, rid, prompt, sampling_params, multi_modal_data]}.
 *
 * @param multiModalData never null: {@link RawValue#nil()} when the client sent none
 */
public record EngineSubmit(
    long requestId, Prompt prompt, RawValue samplingParams, RawValue multiModalData)
    implements Message {

  /** Rejects missing fields, non-map sampling params, and multimodal data that is not nil/map. */
  public EngineSubmit {
    RawValue.checkPresent(prompt, "prompt");
    RawValue.checkMap(samplingParams, "samplingParams");
    RawValue.checkNilOrMap(multiModalData, "multiModalData");
  }

  @Override
  public Header header() {
    return Header.SUBMIT_REQUEST;
  }
}
