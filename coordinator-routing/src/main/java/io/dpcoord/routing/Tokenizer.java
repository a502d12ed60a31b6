package io.dpcoord.routing;

/**
 * Turns a text prompt into tokens for block hashing.
 *
 * <p>Megatron tokenizes string prompts with the model's tokenizer before hashing them. Without that
 * tokenizer the hashes of a string prompt cannot match an engine's own block hashes, but the
 * coordinator only needs them to be equal for equal prefixes, so that requests sharing a prefix
 * still go to the engine that cached it.
 */
public interface Tokenizer {

  /** Returns the prompt's tokens; never null. */
  long[] tokenize(String text);

  /**
   * The default approximation: one token per UTF-8 byte (values 0..255).
   *
   * <p>Two prompts with a common prefix of {@code k} bytes share their first {@code k / blockSize}
   * block hashes, so affinity still works; a block covers {@code blockSize} bytes instead of {@code
   * blockSize} model tokens, so the match depth is measured in byte blocks.
   */
  static Tokenizer utf8Bytes() {
    return Utf8ByteTokenizer.INSTANCE;
  }
}
