package io.dpcoord.tokenizers;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 as Python has it: decoding with Python's error handlers: {@code IGNORE} for {@code
 * errors='ignore'}, {@code REPLACE} (one U+FFFD per maximal ill-formed subsequence) for {@code
 * errors='replace'}.
 */
final class Utf8 {
  private Utf8() {}

  static String decode(byte[] bytes, int length, CodingErrorAction onError) {
    try {
      CharBuffer chars =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(onError)
              .onUnmappableCharacter(onError)
              .decode(ByteBuffer.wrap(bytes, 0, length));
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw new IllegalStateException("cannot happen with " + onError, e);
    }
  }

  /**
   * The index of the first surrogate at or after {@code from} that is not half of a pair, or -1.
   */
  static int loneSurrogate(String text, int from) {
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }
}
