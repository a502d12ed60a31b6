package io.dpcoord.server;

import io.dpcoord.protocol.RawValue;

/**
 * An accepted request that has no terminal reply yet: who asked, under which id, and what the
 * coordinator needs to answer FAILED on the engine's behalf. {@link PendingRequests} owns it.
 */
final class PendingRequest {
  final long requestId;
  final Peer client;
  final long clientRequestId;
  final RawValue prompt;
  final RawValue samplingParams;
  final long receivedNanos;

  /** The engine id it was sent to; {@link PendingRequests#UNROUTED} until then. */
  int engine = PendingRequests.UNROUTED;

  /** What goes to the engine, kept only while the request waits for the start-up engines. */
  EngineBound held;

  /** The client aborted it before it was sent (while held for the start-up engines). */
  boolean abortRequested;

  // neighbours in the list of requests on the same engine (or of the unrouted ones)
  PendingRequest previous;
  PendingRequest next;

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
