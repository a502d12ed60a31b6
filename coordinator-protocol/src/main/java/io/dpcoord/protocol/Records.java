package io.dpcoord.protocol;

/** Records the coordinator itself writes. */
public final class Records {
  private Records() {}

  /**
   * The FAILED reply record of PROTOCOL.md ("Nothing lost"), exactly those keys in that order.
   *
   * <p>The bytes are what Python's {@code msgpack.packb(record, use_bin_type=True)} writes for the
   * same dict: smallest int encodings, str8 for 32..255-byte strings, float64 timestamps. The
   * prompt and sampling params are copied as the client sent them.
   *
   * @param requestId the coordinator-assigned id of the failed request
   * @param prompt the prompt as submitted
   * @param samplingParams the sampling params as submitted
   * @param unixSeconds the failure time, seconds since the epoch
   * @param reason a human-readable reason, shown to the client
   */
  public static RawValue failed(
      long requestId, RawValue prompt, RawValue samplingParams, double unixSeconds, String reason) {
    RawValue.checkPresent(prompt, "prompt");
    RawValue.checkPresent(samplingParams, "samplingParams");
    RawValue.checkPresent(reason, "reason");
    FrameWriter out = new FrameWriter(320 + prompt.length() + samplingParams.length());
    out.mapHeader(7);
    out.str("request_id").int64(requestId);
    out.str("status").str("FAILED");
    out.str("prompt").raw(prompt);
    out.str("sampling_params").raw(samplingParams);
    out.str("inference_parameters").nil();
    out.str("generated_tokens").arrayHeader(0);
    failureEvents(out.str("events"), requestId, unixSeconds, reason);
    return out.toRawValue();
  }

  /** The events of a FAILED record: a non-transient error naming {@code reason}, then FAIL. */
  static void failureEvents(FrameWriter out, long requestId, double unixSeconds, String reason) {
    out.arrayHeader(2);
    out.mapHeader(3);
    out.str("timestamp").float64(unixSeconds);
    out.str("type").str("ERROR_NONTRANSIENT");
    out.str("payload").mapHeader(4);
    out.str("type").str("ContextOverflowError");
    out.str("request_id").int64(requestId);
    out.str("message").str(reason);
    out.str("is_transient").bool(false);
    out.mapHeader(3);
    out.str("timestamp").float64(unixSeconds);
    out.str("type").str("FAIL");
    out.str("payload").nil();
  }

  /**
   * A request's record as Megatron core_v0.16 sends it, its {@code DynamicInferenceRequestRecord}
   * serialized: {@code {"requests": [request], "latency": nil}} (the keys in its dataclass order).
   */
  public static RawValue inRecord(RawValue request) {
    RawValue.checkMap(request, "request");
    FrameWriter out = new FrameWriter(32 + request.length());
    out.mapHeader(2);
    out.str("requests").arrayHeader(1).raw(request);
    out.str("latency").nil();
    return out.toRawValue();
  }
}
