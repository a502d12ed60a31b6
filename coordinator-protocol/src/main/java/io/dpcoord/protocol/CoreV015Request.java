package io.dpcoord.protocol;

import java.util.Arrays;

/**
 * A request as Megatron core_v0.15's coordinator keeps it ({@link Dialect#V0_15}): its engine sends
 * one token (and log probabilities) per step, and the coordinator builds the finished request's
 * record itself, {@code asdict(DynamicInferenceRequest)}, the 22 keys of that release's dataclass
 * in their order ({@link #record()}).
 *
 * <p>Design notes. {@link #step} is that coordinator's {@code postprocess} for one request id, rule
 * for rule (where log probabilities go during prefill and chunked prefill). Every value is written
 * as Python's msgpack writes it again after unpacking it: the prompt in its smallest encoding, ints
 * in theirs, floats as float64. Not thread-safe: the loop thread owns it.
 */
public final class CoreV015Request {
  private final long requestId;
  private final Prompt prompt;
  private final long[] promptTokens;
  private long[] generated = new long[8];
  private int generatedCount;
  private Numbers promptLogProbs; // null: None
  private Numbers generatedLogProbs;

  /**
   * A request as its SUBMIT reached the coordinator.
   *
   * @param requestId the coordinator's id for it
   * @param prompt the client's prompt (text or tokens)
   * @param promptTokens its tokens: the text tokenized, or the token prompt itself
   */
  public CoreV015Request(long requestId, Prompt prompt, long[] promptTokens) {
    this.requestId = requestId;
    this.prompt = RawValue.checkPresent(prompt, "prompt");
    this.promptTokens = RawValue.checkPresent(promptTokens, "promptTokens");
  }

  /** The prompt's tokens, as the engine gets them. */
  public long[] promptTokens() {
    return promptTokens;
  }

  /**
   * Applies one entry of an engine step to this request, as core_v0.15's {@code postprocess}: the
   * token is appended unless the request is the one in chunked prefill; log probabilities spanning
   * more than one token are the prompt's; one more is the prompt's last when a chunked prefill
   * gathers every prompt token's, else a generated token's; during chunked prefill they are dropped
   * ({@code materializeOnlyLast}) or gathered as the prompt's.
   *
   * @param token the step's token for this request
   * @param logProbs an array of numbers, or null (None)
   * @param chunkedPrefill this request is the step's chunked prefill request
   * @param materializeOnlyLast the engine materializes only the last token's logits
   */
  public void step(
      long token, RawValue logProbs, boolean chunkedPrefill, boolean materializeOnlyLast) {
    if (!chunkedPrefill) {
      if (generatedCount == generated.length) {
        generated = Arrays.copyOf(generated, 2 * generatedCount);
      }
      generated[generatedCount++] = token;
      if (logProbs == null) {
        return;
      }
      promptLogProbs = Numbers.orEmpty(promptLogProbs);
      generatedLogProbs = Numbers.orEmpty(generatedLogProbs);
      if (logProbs.arrayLength() > 1
          || (promptLogProbs.count > 0
              && promptLogProbs.count < promptTokens.length
              && !materializeOnlyLast)) {
        promptLogProbs.extend(logProbs);
      } else {
        generatedLogProbs.extend(logProbs);
      }
    } else if (logProbs != null) {
      if (materializeOnlyLast) {
        promptLogProbs = new Numbers();
      } else {
        promptLogProbs = Numbers.orEmpty(promptLogProbs);
        promptLogProbs.extend(logProbs);
      }
      generatedLogProbs = new Numbers();
    }
  }

  /** The tokens generated so far. */
  public long[] generatedTokens() {
    return Arrays.copyOf(generated, generatedCount);
  }

  /**
   * The finished request's record, {@code asdict(request)} as core_v0.15's coordinator packs it,
   * with {@code generated_text} nil: the coordinator sets it to the detokenized generated tokens
   * (EOD kept) before the record leaves ({@link #record(String)}).
   */
  public RawValue record() {
    return record(null);
  }

  /** {@link #record()} with {@code generated_text} set to {@code generatedText} (null: nil). */
  public RawValue record(String generatedText) {
    FrameWriter out = new FrameWriter(256 + 20 * (promptTokens.length + generatedCount));
    out.mapHeader(22);
    out.str("request_id").int64(requestId);
    writePrompt(out.str("prompt"));
    out.str("sampling_params").nil();
    out.str("inference_parameters").nil();
    tokens(out.str("prompt_tokens"), promptTokens, promptTokens.length);
    out.str("arrival_time").nil();
    out.str("status").nil();
    out.str("encoder_prompt").nil();
    out.str("generated_text");
    if (generatedText == null) {
      out.nil();
    } else {
      out.str(generatedText);
    }
    out.str("segments").nil();
    out.str("generated_segments").nil();
    out.str("generated_sequence_lengths").nil();
    tokens(out.str("generated_tokens"), generated, generatedCount);
    Numbers.write(out.str("prompt_log_probs"), promptLogProbs);
    Numbers.write(out.str("generated_log_probs"), generatedLogProbs);
    out.str("prompt_top_n_logprobs").nil();
    out.str("generated_top_n_logprobs").nil();
    out.str("generated_length").int64(generatedCount);
    out.str("tpot").nil();
    tokens(out.str("remaining_prompt_tokens"), promptTokens, promptTokens.length);
    out.str("latency").nil();
    out.str("events").arrayHeader(0);
    return out.toRawValue();
  }

  /**
   * A FAILED answer a core_v0.15 client takes ({@code DynamicInferenceRequest(**record)} accepts
   * exactly the 22 keys of {@link #record()}): status {@code "FAILED"}, no tokens generated, and
   * the events of {@link Records#failed}. That release's coordinator never fails a request.
   *
   * @param requestId the coordinator's id of the request
   * @param prompt the prompt as submitted, or nil
   * @param promptTokens its tokens, or null when they are not known
   * @param samplingParams the sampling params as submitted, or nil
   * @param unixSeconds the failure time, seconds since the epoch
   * @param reason a human-readable reason, shown to the client
   */
  public static RawValue failed(
      long requestId,
      RawValue prompt,
      long[] promptTokens,
      RawValue samplingParams,
      double unixSeconds,
      String reason) {
    RawValue.checkPresent(prompt, "prompt");
    RawValue.checkPresent(samplingParams, "samplingParams");
    RawValue.checkPresent(reason, "reason");
    int tokens = promptTokens == null ? 0 : promptTokens.length;
    FrameWriter out =
        new FrameWriter(512 + prompt.length() + samplingParams.length() + 18 * tokens);
    out.mapHeader(22);
    out.str("request_id").int64(requestId);
    out.str("prompt").raw(prompt);
    out.str("sampling_params").raw(samplingParams);
    out.str("inference_parameters").nil();
    tokensOrNil(out.str("prompt_tokens"), promptTokens);
    out.str("arrival_time").nil();
    out.str("status").str("FAILED");
    out.str("encoder_prompt").nil();
    out.str("generated_text").nil();
    out.str("segments").nil();
    out.str("generated_segments").nil();
    out.str("generated_sequence_lengths").nil();
    out.str("generated_tokens").arrayHeader(0);
    out.str("prompt_log_probs").nil();
    out.str("generated_log_probs").nil();
    out.str("prompt_top_n_logprobs").nil();
    out.str("generated_top_n_logprobs").nil();
    out.str("generated_length").int64(0);
    out.str("tpot").nil();
    tokensOrNil(out.str("remaining_prompt_tokens"), promptTokens);
    out.str("latency").nil();
    Records.failureEvents(out.str("events"), requestId, unixSeconds, reason);
    return out.toRawValue();
  }

  /** The client's prompt as Python's msgpack writes it again: a str, or a list of ints. */
  private void writePrompt(FrameWriter out) {
    if (prompt.isText()) {
      out.str(prompt.text());
    } else {
      tokens(out, prompt.tokens(), prompt.tokens().length);
    }
  }

  private static void tokensOrNil(FrameWriter out, long[] tokens) {
    if (tokens == null) {
      out.nil();
    } else {
      tokens(out, tokens, tokens.length);
    }
  }

  private static void tokens(FrameWriter out, long[] tokens, int count) {
    out.arrayHeader(count);
    for (int i = 0; i < count; i++) {
      out.int64(tokens[i]);
    }
  }

  /** A Python list of numbers, kept encoded. */
  private static final class Numbers {
    private final FrameWriter encoded = new FrameWriter(64);
    private int count;

    /** Python's {@code if not x: x = []}: a new empty list unless {@code list} holds some. */
    static Numbers orEmpty(Numbers list) {
      return list == null || list.count == 0 ? new Numbers() : list;
    }

    void extend(RawValue numbers) {
      count += numbers.writeNumbers(encoded);
    }

    static void write(FrameWriter out, Numbers list) {
      if (list == null) {
        out.nil();
      } else {
        out.arrayHeader(list.count).append(list.encoded);
      }
    }
  }
}
