package io.dpcoord.tokenizers;

import java.math.BigInteger;

/**
 * Megatron's {@code NullTokenizer}: a text is integers separated by single spaces, ids print back
 * as decimal numbers joined by single spaces; {@code eod} is {@code vocab_size - 1} unless given.
 */
final class NullTokenizer implements TextTokenizer {
  private final long eod;

  NullTokenizer(long vocabSize, Long eodId) {
    this.eod = eodId != null ? eodId : vocabSize - 1;
  }

  /**
   * Python's {@code [int(x) for x in text.split(' ')]}: each piece may carry surrounding white
   * space, a sign, underscores between digits and any Unicode decimal digits; an empty piece (a
   * double, leading or trailing space) is an error, as is a value outside int64 (which Megatron
   * could not put in a token tensor either).
   */
  @Override
  public long[] tokenize(String text) {
    String[] pieces = text.split(" ", -1);
    long[] ids = new long[pieces.length];
    for (int i = 0; i < pieces.length; i++) {
      ids[i] = pythonInt(pieces[i]);
    }
    return ids;
  }

  private static long pythonInt(String piece) {
    long plain = plainDecimal(piece);
    if (plain >= 0) {
      return plain;
    }
    String s = stripPythonSpace(piece);
    int start = 0;
    boolean negative = false;
    if (!s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-')) {
      negative = s.charAt(0) == '-';
      start = 1;
    }
    StringBuilder digits = new StringBuilder();
    boolean lastUnderscore = true; // no leading underscore
    for (int i = start; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      if (c == '_' && !lastUnderscore) {
        lastUnderscore = true;
        continue;
      }
      if (!Character.isDigit(c)) {
        throw new IllegalArgumentException("not an integer: '" + piece + "'");
      }
      digits.append(Character.digit(c, 10));
      lastUnderscore = false;
    }
    if (digits.length() == 0 || lastUnderscore) {
      throw new IllegalArgumentException("not an integer: '" + piece + "'");
    }
    BigInteger value = new BigInteger(digits.toString());
    value = negative ? value.negate() : value;
    if (value.bitLength() > 63) {
      throw new IllegalArgumentException("outside int64: '" + piece + "'");
    }
    return value.longValue();
  }

  /**
   * The value of 1 to 18 ASCII digits with nothing else around them, the common case, read without
   * allocating; -1 for anything else (the general rule then applies).
   */
  private static long plainDecimal(String piece) {
    int n = piece.length();
    if (n == 0 || n > 18) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < n; i++) {
      char c = piece.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** Python's {@code str.strip()}: white space as {@code str.isspace} has it. */
  private static String stripPythonSpace(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && isPythonSpace(s.codePointAt(start))) {
      start += Character.charCount(s.codePointAt(start));
    }
    while (end > start && isPythonSpace(s.codePointBefore(end))) {
      end -= Character.charCount(s.codePointBefore(end));
    }
    return s.substring(start, end);
  }

  static boolean isPythonSpace(int c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
  }

  @Override
  public String detokenize(long[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < ids.length; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(ids[i]);
    }
    return sb.toString();
  }

  @Override
  public long eod() {
    return eod;
  }

  @Override
  public String toString() {
    return "null(eod=" + eod + ")";
  }
}
