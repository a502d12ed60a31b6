package io.dpcoord.tokenizers;

import java.nio.file.Path;

/** Not written yet. */
final class HuggingFaceTokenizer {
  private HuggingFaceTokenizer() {}

  static TextTokenizer load(Path file, boolean includeSpecialTokens) {
    throw new IllegalArgumentException("HuggingFaceTokenizer is not available yet");
  }
}
