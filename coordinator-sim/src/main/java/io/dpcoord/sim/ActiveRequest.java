package io.dpcoord.sim;

import io.dpcoord.protocol.RawValue;

/** A request a simulated engine is serving: what it was sent and where it stands. */
final class ActiveRequest {
  final long requestId;
  final RawValue prompt;
  final long[] promptTokens;
  final RawValue samplingParams;
  final int generatedTokens;
  final int cachedBlocks;

  /** Tokens per partial reply; 0: the request is not streamed. */
  final int streamChunk;

  final double addedSeconds;

  /** Engine time (pauses excluded) at which prefill ends and the first token starts. */
  final long prefillDoneNanos;

  /** Set when the request was answered (finished or aborted); its queued deadlines are void. */
  boolean done;

  /** Generated tokens already sent in partial replies. */
  int streamed;

  ActiveRequest(
      long requestId,
      RawValue prompt,
      long[] promptTokens,
      RawValue samplingParams,
      int generatedTokens,
      int cachedBlocks,
      int streamChunk,
      double addedSeconds,
      long prefillDoneNanos) {
    this.requestId = requestId;
    this.prompt = prompt;
    this.promptTokens = promptTokens;
    this.samplingParams = samplingParams;
    this.generatedTokens = generatedTokens;
    this.cachedBlocks = cachedBlocks;
    this.streamChunk = streamChunk;
    this.addedSeconds = addedSeconds;
    this.prefillDoneNanos = prefillDoneNanos;
  }
}
