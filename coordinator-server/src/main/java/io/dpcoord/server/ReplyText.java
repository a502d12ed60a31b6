package io.dpcoord.server;

import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.tokenizers.TextTokenizer;
import java.util.function.Consumer;

/**
 * Megatron's coordinator-side detokenization: every terminal record an engine sends (COMPLETED or
 * FAILED) gets {@code generated_text = TextGenerationController.detokenize(tokenizer,
 * generated_tokens, remove_EOD = not sampling_params.detokenize_stop_sequence)} before it goes to
 * the client. Only that field changes: the record is re-encoded with every other entry byte for
 * byte as the engine sent it (the field is replaced in place, or appended when absent, as Python's
 * dict assignment does). Partial records are never detokenized (Megatron forwards them as they
 * are).
 *
 * <p>A record it cannot fill (no {@code generated_tokens} list of int64, or ids the tokenizer
 * cannot detokenize) is forwarded unchanged, counted in {@code coordinator_detokenize_failed_total}
 * and logged (rate-limited): the request is still answered.
 */
final class ReplyText {
  private final TextTokenizer tokenizer;
  private final TokenizerWorkers workers;
  private final LoopMetrics metrics;
  private final RateLimitedLog warnings;

  ReplyText(
      TextTokenizer tokenizer,
      TokenizerWorkers workers,
      LoopMetrics metrics,
      RateLimitedLog warnings) {
    this.tokenizer = tokenizer;
    this.workers = workers;
    this.metrics = metrics;
    this.warnings = warnings;
  }

  /** Whether records get their {@code generated_text} filled (a tokenizer is configured). */
  boolean fills() {
    return tokenizer != null;
  }

  /**
   * Fills {@code r.finished}'s {@code generated_text} on a worker, then calls {@code then} with
   * {@code r} on the loop thread ({@code r.finished} is then the record to send).
   */
  void fill(PendingRequest r, Consumer<PendingRequest> then) {
    RawValue record = r.finished;
    workers.submit(
        new TokenizerWorkers.Job() {
          private RawValue filled;
          private RuntimeException failure;
          private long nanos;

          @Override
          public void work() {
            long t0 = System.nanoTime();
            try {
              filled = withGeneratedText(record);
            } catch (RuntimeException e) { // whatever it is, the record still goes out as it came
              failure = e;
            }
            nanos = System.nanoTime() - t0;
          }

          @Override
          public void done() {
            metrics.detokenizeLatency.recordNanos(nanos);
            if (failure != null) {
              failed(r, failure);
            } else {
              r.finished = filled;
            }
            then.accept(r);
          }
        });
  }

  /** Fills the record on this thread (for the last records when the coordinator stops). */
  RawValue fillNow(PendingRequest r) {
    try {
      return withGeneratedText(r.finished);
    } catch (RuntimeException e) {
      failed(r, e);
      return r.finished;
    }
  }

  private void failed(PendingRequest r, RuntimeException e) {
    metrics.detokenizeFailed.inc();
    warnings.warn(
        "detokenize",
        "request "
            + r.requestId
            + ": generated_text left as the engine sent it: "
            + e.getMessage());
  }

  /**
   * The record with {@code generated_text} set from {@code generated_tokens}.
   *
   * @throws IllegalArgumentException if the tokens are missing, not int64s, or not detokenizable
   */
  RawValue withGeneratedText(RawValue record) {
    RawValue tokens = record.get("generated_tokens");
    if (tokens == null) {
      throw new IllegalArgumentException("the record has no generated_tokens");
    }
    long[] ids;
    try {
      ids = tokens.asLongArray();
    } catch (ProtocolException e) {
      throw new IllegalArgumentException("generated_tokens: " + e.getMessage(), e);
    }
    String text = tokenizer.generatedText(ids, !detokenizeStopSequence(record));
    return record.with("generated_text", RawValue.ofString(text));
  }

  /**
   * Python's truth of {@code (record.get("sampling_params", {}) or {}).get(
   * "detokenize_stop_sequence", False)}: false when absent or nil, else the value's truth.
   */
  static boolean detokenizeStopSequence(RawValue record) {
    RawValue params = record.get("sampling_params");
    if (params == null || !params.isMap()) {
      return false;
    }
    RawValue flag = params.get("detokenize_stop_sequence");
    return flag != null && flag.isTruthy();
  }
}
