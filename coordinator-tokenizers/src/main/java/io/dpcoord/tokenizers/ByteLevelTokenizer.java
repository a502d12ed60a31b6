package io.dpcoord.tokenizers;

import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Megatron's {@code ByteLevelTokenizer} with its defaults: a text is its UTF-8 bytes; ids at or
 * above the special range (512) are dropped, the rest decode as UTF-8 with malformed bytes left out
 * and trailing white space stripped; an id from 256 to 511 is an error; {@code eod} is 0.
 */
final class ByteLevelTokenizer implements TextTokenizer {
  private static final int SPECIAL_START = 512;

  @Override
  public long[] tokenize(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    long[] ids = new long[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      ids[i] = bytes[i] & 0xff;
    }
    return ids;
  }

  @Override
  public String detokenize(long[] ids) {
    byte[] bytes = new byte[ids.length];
    int n = 0;
    for (long id : ids) {
      if (id >= SPECIAL_START) {
        continue;
      }
      if (id < 0 || id > 255) {
        throw new IllegalArgumentException("id " + id + " is not a byte");
      }
      bytes[n++] = (byte) id;
    }
    String text = Utf8.decode(bytes, n, CodingErrorAction.IGNORE);
    int end = text.length();
    while (end > 0 && NullTokenizer.isPythonSpace(text.codePointBefore(end))) {
      end -= Character.charCount(text.codePointBefore(end));
    }
    return text.substring(0, end);
  }

  @Override
  public long eod() {
    return 0;
  }

  @Override
  public String toString() {
    return "bytes";
  }
}
