package io.dpcoord.server;

import io.dpcoord.protocol.CoreV015Request;
import io.dpcoord.protocol.RawValue;

/**
 * An accepted request that has no terminal reply yet: who asked, under which id, and what the
 * coordinator needs to route it and to answer it. {@link PendingRequests} owns it.
 */
final class PendingRequest {
  final long requestId;
  final Peer client;
  final long clientRequestId;
  final RawValue prompt;
  final RawValue samplingParams;
  final long receivedNanos;

  /**
   * The engine id it was sent to; {@link PendingRequests#UNROUTED} before, {@link
   * PendingRequests#FINISHING} once its engine's terminal record is being detokenized.
   */
  int engine = PendingRequests.UNROUTED;

  /** What goes to the engine; kept until the request is routed. */
  EngineBound bound;

  /** Its block hashes when they were computed off the loop, else null. */
  long[] hashes;

  /** How many of {@link #hashes} routing uses. */
  int hashCount;

  /** The hashes are being computed on a tokenizer worker. */
  boolean awaitingHashes;

  /** What went wrong computing them on a worker, to be raised when the request is routed. */
  RuntimeException hashFailure;

  /**
   * Its text prompt's tokens, tokenized on a worker for engines that take token prompts only
   * (core_v0.15), until it is routed; else null.
   */
  long[] textTokens;

  /** Why the tokenizer could not read its text prompt (core_v0.15: answered FAILED), or null. */
  String untokenizable;

  /**
   * How many block hashes its commit was given: the blocks the router counts in flight on its
   * engine until the terminal record.
   */
  int committedBlocks;

  /** The leading blocks routing predicted its engine holds (the decision's match depth). */
  int predictedBlocks;

  /**
   * The decision's match stamp, age and hidden age, for engine feedback ({@code Router.feedback}).
   */
  long matchStamp;

  long matchAge;

  long hiddenAge;

  /**
   * The {@link #committedBlocks} hashes its commit was given, kept from the commit to the terminal
   * record only under a policy that counts the blocks in flight (dynamo, llm_d); else null.
   */
  long[] committedHashes;

  /** Its steps so far, for core_v0.15 engines (Dialect#buildsRecords); else null. */
  CoreV015Request coreV015;

  /** The engine's terminal record, while its {@code generated_text} is being filled. */
  RawValue finished;

  // its routing decision, recorded once its SUBMIT has left (RequestRouting#recordSent)
  long routingLatencyNanos;
  int rank;
  int hashesUsed;
  boolean prefixApplied;
  double matchFraction;
  boolean staleSeen;

  /** The client aborted it before it was sent. */
  boolean abortRequested;

  // neighbours in the list of requests in the same state (on one engine, unrouted, finishing)
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
