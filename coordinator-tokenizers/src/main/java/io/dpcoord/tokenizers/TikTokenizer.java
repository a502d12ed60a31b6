package io.dpcoord.tokenizers;

import java.nio.file.Path;

/** Not written yet. */
final class TikTokenizer {
  private TikTokenizer() {}

  static TextTokenizer load(Path file, String pattern, long vocabSize, long numSpecialTokens) {
    throw new IllegalArgumentException("TikTokenizer is not available yet");
  }
}
