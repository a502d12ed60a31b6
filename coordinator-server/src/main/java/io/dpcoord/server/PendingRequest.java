package io.dpcoord.server;

import io.dpcoord.protocol.RawValue;

/**
 * An accepted request that has no terminal reply yet: who asked, under which id, and what the
 * coordinator needs to answer FAILED on the engine's behalf.
 */
final class PendingRequest {
  final long requestId;
  final Peer client;
  final long clientRequestId;
  final RawValue prompt;
  final RawValue samplingParams;
  final long receivedNanos;

  /** The engine it was sent to; -1 until it was sent. */
  int engine = -1;

  /** The client aborted it before it was sent (while held for the start-up engines). */
  boolean abortRequested;

  PendingRequest(
      long requestId,
      Peer client,
      long clientRequestId,
      RawValue prompt,
      RawValue samplingParams,
      long receivedNanos) {
    this.requestId = requestId;
    this.client = client;
    this.clientRequestId = clientRequestId;
    this.prompt = prompt;
    this.samplingParams = samplingParams;
    this.receivedNanos = receivedNanos;
  }
}
