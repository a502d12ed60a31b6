package io.dpcoord.protocol;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * ENGINE_REPLY from a Megatron core_v0.15 engine ({@link Dialect#V0_15}), one engine step: {@code
 * [3, request_ids, finished_request_ids, tokens, logprobs, chunked_prefill_request_id,
 * materialize_only_last_token_logits]}. The coordinator appends each request's token and log
 * probabilities ({@link CoreV015Request#step}) and answers the finished ones.
 *
 * @param requestIds the requests that took part in the step
 * @param finishedIds those that finished with it
 * @param tokens one token per request id
 * @param logProbs per request id, its log probabilities (an array of numbers) or null (None); an
 *     empty list when the engine sent none ({@code logprobs} None or empty)
 * @param chunkedPrefillId the request in chunked prefill, or -1 (also for nil)
 * @param materializeOnlyLast the engine materializes only the last token's logits
 */
public record EngineStep(
    long[] requestIds,
    long[] finishedIds,
    long[] tokens,
    List<RawValue> logProbs,
    long chunkedPrefillId,
    boolean materializeOnlyLast)
    implements Message {

  /** Rejects null arrays; the list may hold nulls (None). */
  public EngineStep {
    RawValue.checkPresent(requestIds, "requestIds");
    RawValue.checkPresent(finishedIds, "finishedIds");
    RawValue.checkPresent(tokens, "tokens");
    logProbs =
        Collections.unmodifiableList(new ArrayList<>(RawValue.checkPresent(logProbs, "logProbs")));
  }

  /** How many request ids the step applies, as Python's {@code zip} pairs them. */
  public int entries() {
    int n = Math.min(requestIds.length, tokens.length);
    return logProbs.isEmpty() ? n : Math.min(n, logProbs.size());
  }

  /** The log probabilities of entry {@code i}, or null (None). */
  public RawValue logProbsAt(int i) {
    return logProbs.isEmpty() ? null : logProbs.get(i);
  }

  /** Equal when every field is: the arrays by content. */
  @Override
  public boolean equals(Object o) {
    return o instanceof EngineStep s
        && Arrays.equals(requestIds, s.requestIds)
        && Arrays.equals(finishedIds, s.finishedIds)
        && Arrays.equals(tokens, s.tokens)
        && logProbs.equals(s.logProbs)
        && chunkedPrefillId == s.chunkedPrefillId
        && materializeOnlyLast == s.materializeOnlyLast;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        Arrays.hashCode(requestIds),
        Arrays.hashCode(finishedIds),
        Arrays.hashCode(tokens),
        logProbs,
        chunkedPrefillId,
        materializeOnlyLast);
  }

  @Override
  public String toString() {
    return "EngineStep[requestIds="
        + Arrays.toString(requestIds)
        + ", finishedIds="
        + Arrays.toString(finishedIds)
        + ", tokens="
        + Arrays.toString(tokens)
        + ", logProbs="
        + logProbs
        + ", chunkedPrefillId="
        + chunkedPrefillId
        + ", materializeOnlyLast="
        + materializeOnlyLast
        + "]";
  }

  @Override
  public Header header() {
    return Header.ENGINE_REPLY;
  }
}
