package io.dpcoord.tokenizers;

/**
 * One of Megatron-LM's text tokenizers, as Megatron's coordinator uses it: {@link #tokenize} to
 * hash text prompts for routing, {@link #generatedText} to fill a finished record's {@code
 * generated_text}.
 *
 * <p>Implementations are immutable and safe to call from several threads at once.
 */
public interface TextTokenizer {

  /**
   * Megatron's {@code tokenizer.tokenize(text)}: the library's {@code text_to_ids(text)}.
   *
   * @throws IllegalArgumentException if the library cannot tokenize the text (the null tokenizer
   *     given something other than space-separated integers)
   */
  long[] tokenize(String text);

  /**
   * Megatron's {@code tokenizer.detokenize(ids, skip_special_tokens=True)}: the library's {@code
   * ids_to_text}, with {@code remove_special_tokens=True} where the library takes it.
   *
   * @throws IllegalArgumentException if the library cannot detokenize the ids (an id outside its
   *     vocabulary where Megatron's library raises)
   */
  String detokenize(long[] ids);

  /** The tokenizer's {@code eod} id, or -1 when it has none (nothing is then removed). */
  long eod();

  /**
   * Megatron's {@code TextGenerationController.detokenize(tokenizer, tokens, remove_EOD)}: when
   * {@code removeEod}, the trailing {@link #eod} ids (only trailing ones) are dropped first.
   */
  default String generatedText(long[] tokens, boolean removeEod) {
    int length = tokens.length;
    long eod = eod();
    if (removeEod && eod >= 0) {
      while (length > 0 && tokens[length - 1] == eod) {
        length--;
      }
    }
    return detokenize(length == tokens.length ? tokens : java.util.Arrays.copyOf(tokens, length));
  }
}
