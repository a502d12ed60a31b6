package io.dpcoord.protocol;

/**
 * SUBMIT_REQUEST to an engine: {@code [20, rid, prompt, sampling_params]} or {@code [20, rid,
 * prompt, sampling_params, multi_modal_data]}.
 *
 * <p>Megatron main's coordinator always sends the fifth element (nil when there is none), and so
 * does this one to main's engines; main's engine reads both forms. core_v0.19.0's engine unpacks
 * exactly three fields after the header and fails on a fourth, so engines of that release ({@code
 * serve --engine-wire 0.19.0}) get the short form, as 0.18's always do (docs/COMPATIBILITY.md).
 *
 * @param multiModalData null for the 4-element form; otherwise nil or a map
 */
public record EngineSubmit(
    long requestId, Prompt prompt, RawValue samplingParams, RawValue multiModalData)
    implements Message {

  /** Rejects missing fields, non-map sampling params, and multimodal data that is not nil/map. */
  public EngineSubmit {
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
