package io.dpcoord.tokenizers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Builds a {@link TextTokenizer} from a spec: {@code KIND[:PATH][,KEY=VALUE]...}.
 *
 * <table>
 *   <caption>Kinds and their options</caption>
 *   <tr><th>kind (Megatron's {@code --tokenizer-type})</th><th>spec</th></tr>
 *   <tr><td>null (NullTokenizer)</td><td>{@code null[:VOCAB_SIZE][,eod=ID]}, vocabulary 131072
 *       by default</td></tr>
 *   <tr><td>bytes (ByteLevelTokenizer)</td><td>{@code bytes}</td></tr>
 *   <tr><td>huggingface (HuggingFaceTokenizer)</td><td>{@code huggingface:PATH} (a directory with
 *       tokenizer.json and tokenizer_config.json, or a tokenizer.json), option {@code
 *       no-special-tokens} for {@code --tokenizer-hf-no-include-special-tokens}</td></tr>
 *   <tr><td>tiktoken (TikTokenizer)</td><td>{@code tiktoken:PATH[,pattern=v1|v2][,vocab-size=N]
 *       [,num-special-tokens=N]}, defaults v2, 131072, 1000</td></tr>
 *   <tr><td>sentencepiece (SentencePieceTokenizer)</td><td>{@code sentencepiece:PATH}</td></tr>
 * </table>
 *
 * <p>Megatron's type names ({@code NullTokenizer}, {@code HuggingFaceTokenizer}, {@code
 * TikTokenizer}, {@code SentencePieceTokenizer}, {@code GPTSentencePieceTokenizer}, {@code
 * Llama2Tokenizer}, {@code ByteLevelTokenizer}) are accepted as kinds too, in any case.
 */
public final class Tokenizers {
  private Tokenizers() {}

  /** The kinds, by every name they are accepted under (lower case). */
  private static final Map<String, String> KINDS = new LinkedHashMap<>();

  static {
    alias("null", "null", "nulltokenizer");
    alias("bytes", "bytes", "byte-level", "bytelevel", "byteleveltokenizer");
    alias("huggingface", "huggingface", "hf", "huggingfacetokenizer");
    alias("tiktoken", "tiktoken", "tiktokenizer");
    alias(
        "sentencepiece",
        "sentencepiece",
        "sentencepiecetokenizer",
        "gptsentencepiecetokenizer",
        "llama2tokenizer");
  }

  private static void alias(String kind, String... names) {
    for (String name : names) {
      KINDS.put(name, kind);
    }
  }

  /**
   * Builds the tokenizer a spec names, loading its files.
   *
   * @throws IllegalArgumentException with one line naming the spec and what is wrong with it (an
   *     unknown kind or option, a missing or unreadable file, a file of the wrong format)
   */
  public static TextTokenizer fromSpec(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("empty tokenizer spec");
    }
    try {
      return build(Spec.parse(spec));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("tokenizer '" + spec + "': " + e.getMessage(), e);
    }
  }

  private static TextTokenizer build(Spec spec) {
    switch (spec.kind) {
      case "null":
        {
          long vocab = spec.path == null ? 131072 : spec.longValue("vocab size", spec.path);
          Long eod = spec.options.containsKey("eod") ? spec.longOption("eod") : null;
          spec.only("eod");
          if (vocab <= 0) {
            throw new IllegalArgumentException("the vocabulary size must be positive");
          }
          return new NullTokenizer(vocab, eod);
        }
      case "bytes":
        spec.noPath();
        spec.only();
        return new ByteLevelTokenizer();
      case "huggingface":
        spec.only("no-special-tokens");
        return HuggingFaceTokenizer.load(
            spec.file(), !spec.options.containsKey("no-special-tokens"));
      case "tiktoken":
        spec.only("pattern", "vocab-size", "num-special-tokens");
        return TikTokenizer.load(
            spec.file(),
            spec.options.getOrDefault("pattern", "v2"),
            spec.options.containsKey("vocab-size") ? spec.longOption("vocab-size") : 131072,
            spec.options.containsKey("num-special-tokens")
                ? spec.longOption("num-special-tokens")
                : 1000);
      case "sentencepiece":
        spec.only();
        return SentencePieceTokenizer.load(spec.file());
      default:
        throw new IllegalStateException(spec.kind);
    }
  }

  /** A parsed spec. */
  private static final class Spec {
    final String kind;
    final String path;
    final Map<String, String> options = new LinkedHashMap<>();

    private Spec(String kind, String path) {
      this.kind = kind;
      this.path = path;
    }

    static Spec parse(String text) {
      String[] parts = text.split(",", -1);
      String head = parts[0];
      int colon = head.indexOf(':');
      String name = (colon < 0 ? head : head.substring(0, colon)).trim();
      String kind = KINDS.get(name.toLowerCase(Locale.ROOT));
      if (kind == null) {
        throw new IllegalArgumentException(
            "unknown kind '"
                + name
                + "' (choices: null, bytes, huggingface, tiktoken, "
                + "sentencepiece)");
      }
      Spec spec = new Spec(kind, colon < 0 ? null : head.substring(colon + 1));
      for (int i = 1; i < parts.length; i++) {
        String option = parts[i].trim();
        int eq = option.indexOf('=');
        String key = eq < 0 ? option : option.substring(0, eq).trim();
        if (key.isEmpty()
            || spec.options.put(key, eq < 0 ? "" : option.substring(eq + 1)) != null) {
          throw new IllegalArgumentException("empty or repeated option '" + option + "'");
        }
      }
      return spec;
    }

    void only(String... allowed) {
      for (String key : options.keySet()) {
        if (!java.util.Arrays.asList(allowed).contains(key)) {
          throw new IllegalArgumentException(
              "unknown option '"
                  + key
                  + "' for "
                  + kind
                  + (allowed.length == 0
                      ? " (it takes none)"
                      : " (options: " + String.join(", ", allowed) + ")"));
        }
      }
    }

    void noPath() {
      if (path != null) {
        throw new IllegalArgumentException(kind + " takes no path");
      }
    }

    Path file() {
      if (path == null || path.isEmpty()) {
        throw new IllegalArgumentException(kind + " needs a path: " + kind + ":PATH");
      }
      Path p = Path.of(path);
      if (!Files.exists(p)) {
        throw new IllegalArgumentException(path + " does not exist");
      }
      if (!Files.isReadable(p)) {
        throw new IllegalArgumentException(path + " is not readable");
      }
      return p;
    }

    long longOption(String key) {
      return longValue(key, options.get(key));
    }

    long longValue(String what, String value) {
      try {
        return Long.parseLong(value.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(what + " must be an integer, got '" + value + "'");
      }
    }
  }
}
