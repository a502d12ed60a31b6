package io.dpcoord.protocol;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

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
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packMapHeader(7);
      str(p, "request_id");
      p.packLong(requestId);
      str(p, "status");
      str(p, "FAILED");
      str(p, "prompt");
      prompt.writeTo(p);
      str(p, "sampling_params");
      samplingParams.writeTo(p);
      str(p, "inference_parameters");
      p.packNil();
      str(p, "generated_tokens");
      p.packArrayHeader(0);
      str(p, "events");
      p.packArrayHeader(2);

      p.packMapHeader(3);
      str(p, "timestamp");
      p.packDouble(unixSeconds);
      str(p, "type");
      str(p, "ERROR_NONTRANSIENT");
      str(p, "payload");
      p.packMapHeader(4);
      str(p, "type");
      str(p, "ContextOverflowError");
      str(p, "request_id");
      p.packLong(requestId);
      str(p, "message");
      str(p, reason);
      str(p, "is_transient");
      p.packBoolean(false);

      p.packMapHeader(3);
      str(p, "timestamp");
      p.packDouble(unixSeconds);
      str(p, "type");
      str(p, "FAIL");
      str(p, "payload");
      p.packNil();

      byte[] bytes = p.toByteArray();
      return RawValue.slice(bytes, 0, bytes.length);
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory packer failed", e);
    }
  }

  /** A str with the smallest header, whatever the packer's own string heuristics. */
  private static void str(MessageBufferPacker p, String s) throws IOException {
    byte[] utf8 = RawValue.utf8(s);
    p.packRawStringHeader(utf8.length);
    p.writePayload(utf8);
  }
}
