package io.dpcoord.protocol;

/**
 * A prompt: a str or an array of int64 token ids, with its raw bytes for forwarding.
 *
 * <p>Equality is by the raw bytes, so the same tokens in a different int encoding are a different
 * prompt as far as {@link #equals} goes (they are forwarded as they came).
 */
public final class Prompt {
  private final RawValue raw;
  private final String text;
  private final long[] tokens;
  private final long overLimitTokens;

  Prompt(RawValue raw, String text, long[] tokens) {
    this(raw, text, tokens, 0);
  }

  private Prompt(RawValue raw, String text, long[] tokens, long overLimitTokens) {
    this.raw = raw;
    this.text = text;
    this.tokens = tokens;
    this.overLimitTokens = overLimitTokens;
  }

  /**
   * A token prompt longer than its decoder's limit: its {@code count} tokens were skipped, not read
   * ({@link #tokens()} is null).
   */
  static Prompt overLimit(RawValue raw, long count) {
    return new Prompt(raw, null, null, count);
  }

  /** The token count of a prompt over its decoder's limit, else 0. */
  public long overLimitTokens() {
    return overLimitTokens;
  }

  /** A token prompt, encoded as Python's msgpack would encode the list. */
  public static Prompt ofTokens(long... tokens) {
    RawValue.checkPresent(tokens, "tokens");
    long[] copy = tokens.clone();
    FrameWriter out = new FrameWriter(5 + 9 * copy.length).arrayHeader(copy.length);
    for (long t : copy) {
      out.int64(t);
    }
    return new Prompt(out.toRawValue(), null, copy);
  }

  /** A text prompt, encoded as a msgpack str. */
  public static Prompt ofText(String text) {
    return new Prompt(RawValue.ofString(text), text, null);
  }

  /** The prompt's bytes exactly as received (or as encoded by a factory). */
  public RawValue raw() {
    return raw;
  }

  /** Whether the prompt is a str (else it is token ids). */
  public boolean isText() {
    return text != null;
  }

  /** The prompt text, or null for a token prompt. */
  public String text() {
    return text;
  }

  /**
   * The token ids, or null for a text prompt or one over the limit. Shared, not copied: do not
   * mutate.
   */
  public long[] tokens() {
    return tokens;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Prompt other && raw.equals(other.raw);
  }

  @Override
  public int hashCode() {
    return raw.hashCode();
  }

  @Override
  public String toString() {
    return isText()
        ? "Prompt[text, " + text.length() + " chars]"
        : "Prompt[" + tokens.length + " tokens]";
  }
}
