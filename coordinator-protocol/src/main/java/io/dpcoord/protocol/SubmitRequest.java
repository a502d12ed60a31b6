package io.dpcoord.protocol;

/**
 * SUBMIT_REQUEST from a client: {@code [20, cid, prompt, sampling_params]} or {@code [20, cid,
 * prompt, sampling_params, multi_modal_data]}.
 *
 * @param multiModalData null when the client sent the 4-element form; otherwise nil or a map
 */
public record SubmitRequest(
    long clientRequestId, Prompt prompt, RawValue samplingParams, RawValue multiModalData)
    implements Message {

  /** Rejects a missing prompt, non-map sampling params, or multimodal data that is not nil/map. */
  public SubmitRequest {
    RawValue.checkPresent(prompt, "prompt");
    RawValue.checkMap(samplingParams, "samplingParams");
    if (multiModalData != null) {
      RawValue.checkNilOrMap(multiModalData, "multiModalData");
    }
  }

  @Override
  public Header header() {
    return Header.SUBMIT_REQUEST;
  }
}
