package io.dpcoord.routing;

import java.nio.charset.StandardCharsets;

/** One token per UTF-8 byte of the prompt. */
final class Utf8ByteTokenizer implements Tokenizer {
  static final Utf8ByteTokenizer INSTANCE = new Utf8ByteTokenizer();

  private Utf8ByteTokenizer() {}

  @Override
  public long[] tokenize(String text) {
    if (text == null) {
      throw new IllegalArgumentException("prompt text is null");
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    long[] tokens = new long[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      tokens[i] = bytes[i] & 0xFF;
    }
    return tokens;
  }

  @Override
  public String toString() {
    return "utf8-bytes";
  }
}
