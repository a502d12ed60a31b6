package io.dpcoord.bench;

import io.dpcoord.tokenizers.TextTokenizer;
import io.dpcoord.tokenizers.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.StringJoiner;

/**
 * Inputs of the tokenizer benchmarks: tokenizers loaded from specs whose paths are relative to the
 * repository root, and text cut from a corpus of mixed English prose, code (Python, Java, Rust,
 * JavaScript, SQL, shell, JSON, XML) and a dozen other languages and scripts, with emoji.
 */
final class BenchTexts {
  /** The system property naming the repository root (default: the working directory). */
  static final String ROOT_PROPERTY = "dpcoord.root";

  private static final String CORPUS = "mixed-text.txt";

  /** How many later starts (in chars) to try for an exact count. */
  private static final int SEARCH = 128;

  private BenchTexts() {}

  /** The repository root: {@code -Ddpcoord.root=DIR}, else the working directory. */
  static Path root() {
    return Path.of(System.getProperty(ROOT_PROPERTY, ".")).toAbsolutePath().normalize();
  }

  /**
   * Loads the tokenizer {@code spec} names, its relative path taken from {@code root}; a {@code ;}
   * may stand for {@code ,} between options (JMH splits {@code -p} values at commas).
   *
   * @throws IllegalStateException naming the spec, the resolved spec and the reason, if it does not
   *     load
   */
  static TextTokenizer load(String spec, Path root) {
    String resolved = resolve(spec, root);
    try {
      return Tokenizers.fromSpec(resolved);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "cannot load tokenizer spec '"
              + spec
              + "' (as '"
              + resolved
              + "', root "
              + root
              + ", set -D"
              + ROOT_PROPERTY
              + "=DIR): "
              + e.getMessage(),
          e);
    }
  }

  /** {@code spec} with {@code ;} as {@code ,} and its path, if relative, resolved from root. */
  static String resolve(String spec, Path root) {
    String s = spec.replace(';', ',');
    int colon = s.indexOf(':');
    if (colon < 0 || isNull(s)) {
      return s;
    }
    int comma = s.indexOf(',', colon);
    String path = comma < 0 ? s.substring(colon + 1) : s.substring(colon + 1, comma);
    String options = comma < 0 ? "" : s.substring(comma);
    return s.substring(0, colon + 1) + root.resolve(path).normalize() + options;
  }

  /** Whether the spec names Megatron's NullTokenizer, whose text is ids, not words. */
  static boolean isNull(String spec) {
    String kind = spec.split("[:,;]", 2)[0].trim().toLowerCase(Locale.ROOT);
    return kind.equals("null") || kind.equals("nulltokenizer");
  }

  /** The corpus's paragraphs (separated by blank lines), each ending with its blank line. */
  static List<String> paragraphs() {
    List<String> out = new ArrayList<>();
    for (String p : corpus().split("\n\n")) {
      if (!p.isBlank()) {
        out.add(p.strip() + "\n\n");
      }
    }
    return out;
  }

  private static String corpus() {
    try (InputStream in = BenchTexts.class.getResourceAsStream(CORPUS)) {
      if (in == null) {
        throw new IllegalStateException("resource " + CORPUS + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A text that {@code tokenizer} turns into exactly {@code tokens} ids where one exists, else into
   * the closest count below: a slice of the corpus (repeated as often as needed) from near its
   * start, cut at code points. For the null tokenizer ({@code nullKind}): {@code tokens} random ids
   * below 131071 joined by spaces.
   */
  static String textOfTokens(TextTokenizer tokenizer, boolean nullKind, int tokens) {
    if (nullKind) {
      SplittableRandom random = new SplittableRandom(42);
      StringJoiner ids = new StringJoiner(" ");
      for (int i = 0; i < tokens; i++) {
        ids.add(Long.toString(random.nextLong(131_071)));
      }
      return ids.toString();
    }
    String corpus = corpus();
    StringBuilder source = new StringBuilder(corpus);
    while (count(tokenizer, source.toString()) < tokens + SEARCH) {
      source.append(corpus);
    }
    // Counts grow with the length, nearly monotonically but sometimes by two ids a char (a Hangul
    // syllable, say): look for an exact count at the end of the shortest long-enough prefix, and
    // failing that, start a char or more later.
    String best = "";
    int bestCount = -1;
    for (int start = 0; start <= SEARCH; start++) {
      if (Character.isLowSurrogate(source.charAt(start))) {
        continue;
      }
      String text = source.substring(start);
      int lo = 0;
      int hi = text.length();
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (count(tokenizer, cut(text, mid)) >= tokens) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      for (int end = Math.max(0, lo - 2); end <= Math.min(text.length(), lo + 2); end++) {
        String candidate = cut(text, end);
        int n = count(tokenizer, candidate);
        if (n == tokens) {
          return candidate;
        }
        if (n < tokens && n > bestCount) {
          best = candidate;
          bestCount = n;
        }
      }
    }
    return best;
  }

  /** The first {@code end} chars, one fewer if that would split a surrogate pair. */
  private static String cut(String text, int end) {
    return end > 0 && end < text.length() && Character.isLowSurrogate(text.charAt(end))
        ? text.substring(0, end - 1)
        : text.substring(0, end);
  }

  private static int count(TextTokenizer tokenizer, String text) {
    return tokenizer.tokenize(text).length;
  }

  /** {@code ids} with {@code tokenizer}'s eod appended, as a generation ends (none: unchanged). */
  static long[] withEod(TextTokenizer tokenizer, long[] ids) {
    if (tokenizer.eod() < 0) {
      return ids;
    }
    long[] out = Arrays.copyOf(ids, ids.length + 1);
    out[ids.length] = tokenizer.eod();
    return out;
  }
}
