package io.dpcoord.server;

import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.tokenizers.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What Megatron's coordinator does to a terminal record before it goes to the client, done on a
 * tokenizer worker:
 *
 * <ul>
 *   <li>with a tokenizer, for every terminal record (COMPLETED or FAILED): {@code generated_text =
 *       TextGenerationController.detokenize(tokenizer, generated_tokens, remove_EOD = not
 *       sampling_params.detokenize_stop_sequence)};
 *   <li>for a client of Megatron 0.17/0.18 (its own coordinator's behaviour, and what its {@code
 *       DynamicInferenceRequest} can take): the keys its release does not know (all but {@link
 *       #KNOWN_TO_0_18}) are removed, and a nil {@code prompt} is filled with the detokenized
 *       prompt tokens (EOD kept) when the request's prompt was a token list and there is a
 *       tokenizer;
 *   <li>for a client of Megatron core_v0.15, whose record the coordinator built from the engine's
 *       steps ({@link Dialect#buildsRecords()}), only with a tokenizer: {@code generated_text} as
 *       that release's coordinator sets it, {@code tokenizer.detokenize(generated_tokens)} (EOD
 *       kept);
 *   <li>for a client of Megatron core_v0.16, whose records hold requests ({@link
 *       Dialect#nestsRecords()}), only with a tokenizer: each request's text as that release's
 *       coordinator fills it ({@link #rewriteRecord}).
 * </ul>
 *
 * Only those fields change: every other entry is carried byte for byte as the engine sent it (a
 * field is replaced in place, or appended when absent, as Python's dict assignment does). Partial
 * records are never rewritten (Megatron forwards them as they are).
 *
 * <p>A record it cannot fill (no {@code generated_tokens} list of int64, or ids the tokenizer
 * cannot detokenize) is forwarded unchanged (for a 0.18 client, still without the keys its release
 * rejects), counted in {@code coordinator_detokenize_failed_total} and logged (rate-limited): the
 * request is still answered.
 */
final class ReplyText {
  /**
   * The record keys a Megatron 0.17/0.18 client's {@code DynamicInferenceRequest} knows (its 31
   * dataclass fields, core_v0.18.2 {@code inference_request.py}); {@code cls(**obj)} rejects any
   * other, so every other key is removed for such a client (main's {@code prompt_length}, {@code
   * uid}, {@code cg_wait_iters}, {@code num_cached_tokens}, {@code disaggregated_params}, and
   * anything an engine adds).
   */
  static final Set<String> KNOWN_TO_0_18 =
      Set.of(
          "request_id",
          "prompt",
          "sampling_params",
          "inference_parameters",
          "prompt_tokens",
          "arrival_time",
          "status",
          "encoder_prompt",
          "generated_text",
          "segments",
          "generated_segments",
          "generated_sequence_lengths",
          "generated_tokens",
          "prompt_log_probs",
          "generated_log_probs",
          "prompt_top_n_logprobs",
          "generated_top_n_logprobs",
          "generated_length",
          "tpot",
          "remaining_prompt_tokens",
          "policy_epoch",
          "kv_cache_epoch",
          "latency",
          "routing_indices",
          "finished_chunk_token_count",
          "stop_word_ids",
          "block_size_tokens",
          "enable_prefix_caching",
          "precomputed_block_hashes",
          "ttft",
          "events");

  private static final RawValue TENSOR = RawValue.ofString("tensor");

  private final TextTokenizer tokenizer;
  private final TokenizerWorkers workers;
  private final LoopMetrics metrics;
  private final RateLimitedLog warnings;

  /** Rewrites with {@code tokenizer} (null: no text is filled, only 0.18 keys are removed). */
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

  /** Whether a terminal record for a client speaking {@code client} is rewritten at all. */
  boolean rewrites(Dialect client) {
    return tokenizer != null || client == Dialect.V0_18;
  }

  /**
   * Rewrites {@code r.finished} for a client speaking {@code client} on a worker, then calls {@code
   * then} with {@code r} on the loop thread ({@code r.finished} is then the record to send). A null
   * {@code r.finished} is a core_v0.15 request's: its record is built there from {@code
   * r.coreV015}, which the loop no longer touches once the request is finishing.
   */
  void fill(PendingRequest r, Dialect client, Consumer<PendingRequest> then) {
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
              filled = filled(r, record, client);
            } catch (RuntimeException e) { // whatever it is, the record still goes out as it came
              failure = e;
              filled = unfilled(r, record, client);
            }
            nanos = System.nanoTime() - t0;
          }

          @Override
          public void done() {
            metrics.detokenizeLatency.recordNanos(nanos);
            if (failure != null) {
              failed(r, failure);
            }
            r.finished = filled;
            then.accept(r);
          }
        });
  }

  /** Rewrites the record on this thread (for the last records when the coordinator stops). */
  RawValue fillNow(PendingRequest r, Dialect client) {
    try {
      return filled(r, r.finished, client);
    } catch (RuntimeException e) {
      failed(r, e);
      return unfilled(r, r.finished, client);
    }
  }

  /**
   * {@code record} (null: {@code r}'s core_v0.15 record, built from its steps) as the client gets
   * it ({@link #rewrite}); for core_v0.15, {@code generated_text} as that release's coordinator
   * sets it: {@code tokenizer.detokenize(generated_tokens)}, the EOD kept.
   */
  private RawValue filled(PendingRequest r, RawValue record, Dialect client) {
    if (record == null) {
      return r.coreV015.record(tokenizer.generatedText(r.coreV015.generatedTokens(), false));
    }
    return rewrite(record, r.prompt, client);
  }

  /**
   * A record that could not be rewritten (null: {@code r}'s core_v0.15 record, without text), as it
   * goes out: a 0.18 client cannot take 0.19's keys.
   */
  private static RawValue unfilled(PendingRequest r, RawValue record, Dialect client) {
    if (record == null) {
      return r.coreV015.record();
    }
    return client == Dialect.V0_18 ? record.only(KNOWN_TO_0_18) : record;
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
   * The record as the client gets it: 0.18 keys removed and the prompt filled for a 0.18 client,
   * {@code generated_text} set from {@code generated_tokens} when there is a tokenizer.
   *
   * @throws IllegalArgumentException if the tokens are missing, not int64s, or not detokenizable
   */
  RawValue rewrite(RawValue record, RawValue prompt, Dialect client) {
    if (client.nestsRecords()) {
      return tokenizer == null ? record : rewriteRecord(record);
    }
    if (client == Dialect.V0_18) {
      record = record.only(KNOWN_TO_0_18);
      RawValue recordPrompt = record.get("prompt");
      if (tokenizer != null && (recordPrompt == null || recordPrompt.isNil())) {
        long[] tokens = tokens(prompt, "the prompt");
        if (tokens != null) {
          record = record.with("prompt", RawValue.ofString(tokenizer.generatedText(tokens, false)));
        }
      }
    }
    if (tokenizer == null) {
      return record;
    }
    return withText(record, !detokenizeStopSequence(record));
  }

  /** The record with {@code generated_text} set from its {@code generated_tokens}. */
  private RawValue withText(RawValue record, boolean removeEod) {
    long[] ids = tokens(record.get("generated_tokens"), "generated_tokens");
    if (ids == null) {
      throw new IllegalArgumentException("the record has no generated_tokens list");
    }
    String text = tokenizer.generatedText(ids, removeEod);
    return record.with("generated_text", RawValue.ofString(text));
  }

  /**
   * A core_v0.16 record, as its coordinator detokenizes it: for every request in {@code requests},
   * a nil {@code prompt} becomes the text of its {@code prompt_tokens} (serialized as {@code
   * ["tensor", [ids]]}), and {@code generated_text} the text of its {@code generated_tokens}, the
   * EOD kept (that coordinator calls {@code tokenizer.detokenize} on each).
   */
  private RawValue rewriteRecord(RawValue record) {
    RawValue requests = record.isMap() ? record.get("requests") : null;
    if (requests == null || !requests.isArray()) {
      throw new IllegalArgumentException("the record has no requests list");
    }
    List<RawValue> filled = new ArrayList<>();
    for (RawValue request : requests.elements()) {
      if (!request.isMap()) {
        throw new IllegalArgumentException("the record's requests hold a value that is no map");
      }
      RawValue requestPrompt = request.get("prompt");
      if (requestPrompt == null || requestPrompt.isNil()) {
        long[] ids = tokens(tensorList(request.get("prompt_tokens")), "prompt_tokens");
        if (ids != null) {
          request = request.with("prompt", RawValue.ofString(tokenizer.generatedText(ids, false)));
        }
      }
      long[] ids = tokens(request.get("generated_tokens"), "generated_tokens");
      if (ids == null) {
        throw new IllegalArgumentException("a request of the record has no generated_tokens list");
      }
      filled.add(
          request.with("generated_text", RawValue.ofString(tokenizer.generatedText(ids, false))));
    }
    return record.with("requests", RawValue.arrayOf(filled));
  }

  /** The list inside a serialized tensor, {@code ["tensor", list]}; any other value as it is. */
  private static RawValue tensorList(RawValue value) {
    if (value != null && value.isArray()) {
      List<RawValue> parts = value.elements();
      if (parts.size() == 2 && parts.get(0).equals(TENSOR)) {
        return parts.get(1);
      }
    }
    return value;
  }

  /** A list of int64 as longs; null when absent or not a list; an error when not int64s. */
  private static long[] tokens(RawValue value, String what) {
    if (value == null || value.isNil() || !value.isArray()) {
      return null;
    }
    try {
      return value.asLongArray();
    } catch (ProtocolException e) {
      throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
    }
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
