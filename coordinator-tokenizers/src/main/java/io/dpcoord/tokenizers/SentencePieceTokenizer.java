package io.dpcoord.tokenizers;

import java.nio.file.Path;

/** Not written yet. */
final class SentencePieceTokenizer {
  private SentencePieceTokenizer() {}

  static TextTokenizer load(Path file) {
    throw new IllegalArgumentException("SentencePieceTokenizer is not available yet");
  }
}
