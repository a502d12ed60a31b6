package io.dpcoord.tokenizers;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 decoding with Python's error handlers: {@code IGNORE} for {@code errors='ignore'}, {@code
 * REPLACE} (one U+FFFD per maximal ill-formed subsequence) for {@code errors='replace'}.
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
}
