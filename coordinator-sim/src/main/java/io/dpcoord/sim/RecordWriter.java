package io.dpcoord.sim;

import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RawValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Writes a simulated engine's reply records, shaped like Megatron's {@code
 * DynamicInferenceRequest.serialize()}.
 *
 * <p>Keys, in order: {@code request_id}, {@code prompt} (bytes as received), {@code prompt_tokens}
 * (a tensor, written {@code ["tensor", [ids]]}), {@code generated_tokens} (a list of ints), {@code
 * generated_text} (nil), {@code status}, {@code sampling_params} (bytes as received), {@code
 * events} (maps of {@code timestamp}, {@code type}, {@code payload}), {@code latency} (seconds, nil
 * until finished), {@code num_cached_tokens} (the prompt tokens served from the prefix cache:
 * matched blocks x block size, as Megatron main's engine counts them), and with extension fields
 * on, {@code served_by_rank} and {@code cached_blocks}. Not thread-safe: it reuses one packer.
 */
final class RecordWriter {
  /** Megatron's request status names. */
  static final String COMPLETED = "COMPLETED";

  static final String FAILED = "FAILED";

  private static final int VOCABULARY = 32_000;

  private final MessageBufferPacker packer = MessagePack.newDefaultBufferPacker();
  private final int rank;
  private final int blockSize;
  private final boolean extensionFields;

  RecordWriter(int rank, int blockSize, boolean extensionFields) {
    this.rank = rank;
    this.blockSize = blockSize;
    this.extensionFields = extensionFields;
  }

  /**
   * The terminal record of {@code request}, after {@code generated} tokens.
   *
   * @param status one of the status names above
   * @param lastEvent FINISH or FAIL
   * @param nowSeconds the unix time of {@code lastEvent} (and of the latency)
   */
  RawValue write(
      ActiveRequest request, String status, int generated, String lastEvent, double nowSeconds) {
    packer.clear();
    try {
      packer.packMapHeader(extensionFields ? 13 : 11);
      packer.packString("request_id");
      packer.packLong(request.requestId);
      packer.packString("prompt");
      request.prompt.writeTo(packer);
      packer.packString("prompt_tokens");
      packer.packArrayHeader(2);
      packer.packString("tensor");
      packer.packArrayHeader(request.promptTokens.length);
      for (long t : request.promptTokens) {
        packer.packLong(t);
      }
      packer.packString("generated_tokens");
      packer.packArrayHeader(generated);
      for (int i = 0; i < generated; i++) {
        packer.packLong(generatedToken(request.requestId, i));
      }
      packer.packString("generated_text");
      packer.packNil();
      packer.packString("status");
      packer.packString(status);
      packer.packString("sampling_params");
      request.samplingParams.writeTo(packer);
      // read by key in Megatron's DynamicInferenceRequest.deserialize: must be present
      packer.packString("inference_parameters");
      packer.packNil();
      packer.packString("events");
      packer.packArrayHeader(2);
      event("ADD_ENGINE", request.addedSeconds);
      event(lastEvent, nowSeconds);
      packer.packString("latency");
      packer.packDouble(Math.max(0.0, nowSeconds - request.addedSeconds));
      // set when the request is added (its one cache lookup here), so every record carries it
      packer.packString("num_cached_tokens");
      packer.packLong((long) request.cachedBlocks * blockSize);
      if (extensionFields) {
        packer.packString("served_by_rank");
        packer.packInt(rank);
        packer.packString("cached_blocks");
        packer.packInt(request.cachedBlocks);
      }
      return RawValue.of(packer.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory packer failed", e);
    } catch (ProtocolException e) {
      throw new IllegalStateException("wrote a malformed record: " + e.getMessage(), e);
    }
  }

  /**
   * A partial reply's map, as Megatron main's engine streams it: {@code request_id} and {@code
   * new_tokens}, the generated tokens {@code from} (inclusive) to {@code to}.
   */
  RawValue partial(ActiveRequest request, int from, int to) {
    packer.clear();
    try {
      packer.packMapHeader(2);
      packer.packString("request_id");
      packer.packLong(request.requestId);
      packer.packString("new_tokens");
      packer.packArrayHeader(to - from);
      for (int i = from; i < to; i++) {
        packer.packLong(generatedToken(request.requestId, i));
      }
      return RawValue.of(packer.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory packer failed", e);
    } catch (ProtocolException e) {
      throw new IllegalStateException("wrote a malformed partial: " + e.getMessage(), e);
    }
  }

  private void event(String type, double seconds) throws IOException {
    packer.packMapHeader(3);
    packer.packString("timestamp");
    packer.packDouble(seconds);
    packer.packString("type");
    packer.packString(type);
    packer.packString("payload");
    packer.packNil();
  }

  /** A deterministic stand-in for the i-th sampled token. */
  static long generatedToken(long requestId, int i) {
    return Math.floorMod(requestId * 7919 + i * 31L, VOCABULARY);
  }
}
