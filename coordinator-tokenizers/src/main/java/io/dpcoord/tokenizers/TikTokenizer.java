package io.dpcoord.tokenizers;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Megatron's {@code TikTokenTokenizer} ({@code megatron/core/tokenizers/text/libraries/
 * tiktoken_tokenizer.py}) on tiktoken, with the default special tokens.
 *
 * <ul>
 *   <li>Ids {@code 0..numSpecialTokens-1} are the special tokens {@code <unk>, <s>, </s>, <mask>,
 *       <pad>, <cls>, <sep>}, then {@code <SPECIAL_7>}...; the vocabulary file's entry {@code i} is
 *       id {@code numSpecialTokens + i}; {@code eod} is {@code </s>} (2).
 *   <li>{@link #tokenize} is {@code encode(text, allowed_special="all")}: a special token's text
 *       anywhere in the prompt becomes its id; the text between them is split by the v1 or v2
 *       pattern and each piece byte-pair encoded as tiktoken does.
 *   <li>{@link #detokenize} is {@code ids_to_text(ids, remove_special_tokens=True)}: special ids
 *       are dropped, the rest's bytes concatenated and decoded as UTF-8 with U+FFFD for malformed
 *       bytes; an id past the vocabulary is an error, as in tiktoken.
 * </ul>
 *
 * <p>Why not jtokkit (1.1.0): its {@code encode} refuses special tokens, and pieces of 500 bytes or
 * more go through its {@code TokenEncoderLarge}, which merges differently from tiktoken on some
 * inputs (found by comparing both on random texts); its decoder caches into a plain {@code HashMap}
 * from several threads, and a byte missing from a vocabulary truncated below 256 entries silently
 * becomes id 2147483646 where tiktoken fails. The byte-pair merge below is tiktoken's own ({@code
 * _byte_pair_merge_large} in its {@code src/lib.rs}, equal to its quadratic one for short pieces):
 * always merge the leftmost pair of lowest rank.
 *
 * <p>The regex is Java's with {@link Pattern#UNICODE_CHARACTER_CLASS}, so that {@code \s} is
 * Unicode white space as in Rust's fancy-regex. The one difference left is the Unicode version:
 * characters assigned after the JDK's Unicode version (13.0 for Java 17) have no letter or number
 * category here.
 */
final class TikTokenizer implements TextTokenizer {
  static final String PATTERN_V1 =
      "[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)"
          + "|\\s+";
  static final String PATTERN_V2 =
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
          + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
          + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  /** Megatron's {@code SPECIAL_TOKENS}; the rest are {@code <SPECIAL_id>}. */
  static final List<String> SPECIAL_TOKENS =
      List.of("<unk>", "<s>", "</s>", "<mask>", "<pad>", "<cls>", "<sep>");

  private static final int BOS = 1;
  private static final int EOS = 2;

  /** Anything shaped like a special token; {@link #specialId} says whether it is one. */
  private static final Pattern SPECIAL_CANDIDATE =
      Pattern.compile("<(?:unk|s|/s|mask|pad|cls|sep|SPECIAL_([0-9]+))>");

  private static final Set<String> ENTRY_KEYS = Set.of("rank", "token_bytes", "token_str");

  private final String name;
  private final Pattern pattern;
  private final int numSpecialTokens;

  /** Entry {@code i} of the (truncated) vocabulary file: the bytes of id {@code nst + i}. */
  private final byte[][] tokens;

  private final BytesTable ranks;

  private TikTokenizer(
      String name, Pattern pattern, int numSpecialTokens, byte[][] tokens, BytesTable ranks) {
    this.name = name;
    this.pattern = pattern;
    this.numSpecialTokens = numSpecialTokens;
    this.tokens = tokens;
    this.ranks = ranks;
  }

  /**
   * Loads a Megatron tiktoken vocabulary as {@code TikTokenTokenizer(file, pattern=pattern,
   * vocab_size=vocabSize, num_special_tokens=numSpecialTokens)} does, with its checks.
   *
   * @throws IllegalArgumentException with one line saying what is wrong with the options or file
   */
  static TextTokenizer load(Path file, String pattern, long vocabSize, long numSpecialTokens) {
    String regex;
    if ("v1".equals(pattern)) {
      regex = PATTERN_V1;
    } else if ("v2".equals(pattern)) {
      regex = PATTERN_V2;
    } else {
      throw new IllegalArgumentException(
          "the tiktoken pattern must be v1 or v2, got '" + pattern + "'");
    }
    if (numSpecialTokens < SPECIAL_TOKENS.size() || numSpecialTokens >= vocabSize) {
      throw new IllegalArgumentException(
          "tiktoken needs "
              + SPECIAL_TOKENS.size()
              + " <= num-special-tokens < vocab-size, got num-special-tokens="
              + numSpecialTokens
              + " and vocab-size="
              + vocabSize);
    }
    if (vocabSize > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("vocab-size " + vocabSize + " is too large");
    }
    if (!file.toString().endsWith(".json")) {
      throw new IllegalArgumentException(
          file + ": a tiktoken vocabulary must be a .json file (as Megatron requires)");
    }
    int innerSize = (int) (vocabSize - numSpecialTokens);
    byte[][] tokens = readVocabulary(file, innerSize);
    return new TikTokenizer(
        "tiktoken(" + file.getFileName() + ", " + pattern + ", vocab-size=" + vocabSize + ")",
        Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS),
        (int) numSpecialTokens,
        tokens,
        rankTable(file, tokens, (int) numSpecialTokens));
  }

  /**
   * Token bytes to id; Megatron's {@code assert len(ranks) == len(vocab)}: no two entries with the
   * same bytes.
   */
  private static BytesTable rankTable(Path file, byte[][] tokens, int numSpecialTokens) {
    int[] ids = new int[tokens.length];
    Arrays.setAll(ids, i -> numSpecialTokens + i);
    try {
      return new BytesTable(tokens, ids);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage() + " (token_bytes)");
    }
  }

  /**
   * Megatron's {@code reload_mergeable_ranks} and the size check after it: a JSON list of {@code
   * {"rank", "token_bytes", "token_str"}} objects with {@code rank} equal to the index, {@code
   * token_bytes} base64, the first 256 the single bytes, no bytes twice; the first {@code size}
   * entries are used and there must be that many.
   */
  private static byte[][] readVocabulary(Path file, int size) {
    byte[][] tokens = new byte[size][];
    int count = 0;
    try (InputStream in = Files.newInputStream(file);
        JsonParser parser = new ObjectMapper().createParser(in)) {
      if (parser.nextToken() != JsonToken.START_ARRAY) {
        throw new IllegalArgumentException(file + ": a tiktoken vocabulary must be a JSON list");
      }
      // Megatron reads all of the file, then uses its first `size` entries: read them one by one
      // and parse (but do not keep) the rest.
      while (parser.nextToken() != JsonToken.END_ARRAY) {
        JsonNode entry = parser.readValueAsTree();
        if (count < size) {
          tokens[count] = entry(file, count, entry);
        }
        count++;
      }
      if (parser.nextToken() != null) {
        throw new IllegalArgumentException(file + ": not JSON: text after the list");
      }
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          file
              + ": not JSON at line "
              + e.getLocation().getLineNr()
              + ", column "
              + e.getLocation().getColumnNr()
              + ": "
              + e.getOriginalMessage().lines().findFirst().orElse(""));
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (count < size) {
      throw new IllegalArgumentException(
          file + ": has " + count + " tokens, vocab-size minus num-special-tokens needs " + size);
    }
    return tokens;
  }

  private static byte[] entry(Path file, int index, JsonNode entry) {
    String where = file + ": entry " + index;
    if (!entry.isObject()) {
      throw new IllegalArgumentException(where + " is not an object");
    }
    Set<String> keys = new TreeSet<>();
    entry.fieldNames().forEachRemaining(keys::add);
    if (!keys.equals(ENTRY_KEYS)) {
      throw new IllegalArgumentException(
          where + " has keys " + keys + ", expected [rank, token_bytes, token_str]");
    }
    JsonNode rank = entry.get("rank");
    if (!rank.isIntegralNumber() || !rank.canConvertToInt() || rank.intValue() != index) {
      throw new IllegalArgumentException(where + " has rank " + rank + ", expected " + index);
    }
    JsonNode base64 = entry.get("token_bytes");
    byte[] bytes = base64.isTextual() ? decodeBase64(base64.textValue()) : null;
    if (bytes == null) {
      throw new IllegalArgumentException(where + ": token_bytes " + base64 + " is not base64");
    }
    if (index < 256 && (bytes.length != 1 || (bytes[0] & 0xff) != index)) {
      throw new IllegalArgumentException(
          where + ": the first 256 entries must be the bytes 0 to 255 in order");
    }
    return bytes;
  }

  /**
   * Python's {@code base64.b64decode(s)}: characters outside the alphabet are skipped, but the rest
   * must come in whole groups of four (padding included), else "Incorrect padding".
   */
  private static byte[] decodeBase64(String s) {
    int significant = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '+'
          || c == '/'
          || c == '=') {
        significant++;
      }
    }
    if (significant % 4 != 0) {
      return null;
    }
    try {
      return Base64.getMimeDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  @Override
  public long[] tokenize(String text) {
    String t = replaceLoneSurrogates(text);
    IdList out = new IdList(Math.max(16, t.length() / 3));
    Matcher special = SPECIAL_CANDIDATE.matcher(t);
    int start = 0;
    int from = 0;
    while (true) {
      int id = -1;
      while (special.find(from)) {
        id = specialId(special);
        if (id >= 0) {
          break;
        }
        from = special.start() + 1;
      }
      int end = id >= 0 ? special.start() : t.length();
      encodeOrdinary(t.substring(start, end), out);
      if (id < 0) {
        return out.toArray();
      }
      out.add(id);
      start = special.end();
      from = start;
    }
  }

  /** The id of the special token just matched, or -1 if it is not one of this tokenizer's. */
  private int specialId(Matcher m) {
    String digits = m.group(1);
    if (digits == null) {
      return SPECIAL_TOKENS.indexOf(m.group());
    }
    if (digits.length() > 10 || (digits.length() > 1 && digits.charAt(0) == '0')) {
      return -1; // "<SPECIAL_07>" is not "<SPECIAL_7>"
    }
    long id = Long.parseLong(digits);
    return id >= SPECIAL_TOKENS.size() && id < numSpecialTokens ? (int) id : -1;
  }

  /**
   * tiktoken's Python side retries a text that is not valid UTF-8 after {@code
   * text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")}: each lone surrogate
   * becomes U+FFFD.
   */
  private static String replaceLoneSurrogates(String text) {
    int lone = Utf8.loneSurrogate(text, 0);
    if (lone < 0) {
      return text;
    }
    StringBuilder sb = new StringBuilder(text.length());
    int from = 0;
    for (; lone >= 0; lone = Utf8.loneSurrogate(text, from)) {
      sb.append(text, from, lone).append('\uFFFD');
      from = lone + 1;
    }
    return sb.append(text, from, text.length()).toString();
  }

  /** tiktoken's {@code encode_ordinary} on the text between special tokens. */
  private void encodeOrdinary(String text, IdList out) {
    if (text.isEmpty()) {
      return;
    }
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      byte[] piece = text.substring(m.start(), m.end()).getBytes(StandardCharsets.UTF_8);
      int whole = ranks.get(piece, 0, piece.length);
      if (whole >= 0) {
        out.add(whole);
      } else {
        bytePairEncode(piece, out);
      }
    }
  }

  /**
   * tiktoken's {@code byte_pair_encode} of a piece that is not a token itself: start from single
   * bytes and repeatedly merge the adjacent pair whose concatenation has the lowest rank, the
   * leftmost of equal ones, until no adjacent pair is a token. A min-heap of (rank, start) keys
   * finds the pair; a key whose rank is no longer its part's pair rank is stale and skipped.
   */
  private void bytePairEncode(byte[] piece, IdList out) {
    int n = piece.length;
    int[] end = new int[n]; // part starting at i ends at end[i] (exclusive)
    int[] prev = new int[n]; // start of the part before the one at i
    int[] pairRank = new int[n]; // rank of part i merged with the next one, or -1
    LongHeap heap = new LongHeap(n);
    for (int i = 0; i < n; i++) {
      end[i] = i + 1;
      prev[i] = i - 1;
      pairRank[i] = i + 2 <= n ? ranks.get(piece, i, i + 2) : -1;
      if (pairRank[i] >= 0) {
        heap.push(key(pairRank[i], i));
      }
    }
    while (!heap.isEmpty()) {
      long k = heap.pop();
      int start = (int) k;
      int rank = (int) (k >>> 32);
      if (pairRank[start] != rank) {
        continue;
      }
      int right = end[start];
      int rightEnd = end[right];
      end[start] = rightEnd;
      pairRank[right] = -1;
      if (rightEnd < n) {
        prev[rightEnd] = start;
        pairRank[start] = ranks.get(piece, start, end[rightEnd]);
        if (pairRank[start] >= 0) {
          heap.push(key(pairRank[start], start));
        }
      } else {
        pairRank[start] = -1;
      }
      if (start > 0) {
        int before = prev[start];
        pairRank[before] = ranks.get(piece, before, rightEnd);
        if (pairRank[before] >= 0) {
          heap.push(key(pairRank[before], before));
        }
      }
    }
    for (int i = 0; i < n; i = end[i]) {
      int id = ranks.get(piece, i, end[i]);
      if (id < 0) {
        // tiktoken panics here: a vocabulary truncated below 256 entries lacks this byte
        throw new IllegalArgumentException(
            String.format(
                "the byte 0x%02x is not in the vocabulary (it has %d entries)",
                piece[i] & 0xff, tokens.length));
      }
      out.add(id);
    }
  }

  private static long key(int rank, int start) {
    return ((long) rank << 32) | start;
  }

  @Override
  public String detokenize(long[] ids) {
    byte[] bytes = new byte[16];
    int n = 0;
    for (long id : ids) {
      if (id == BOS || id == EOS || id < numSpecialTokens) {
        continue;
      }
      if (id - numSpecialTokens >= tokens.length) {
        throw new IllegalArgumentException(
            "id "
                + id
                + " is outside the vocabulary (size "
                + (numSpecialTokens + (long) tokens.length)
                + ")");
      }
      byte[] token = tokens[(int) (id - numSpecialTokens)];
      if (n + token.length > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(2 * bytes.length, n + token.length));
      }
      System.arraycopy(token, 0, bytes, n, token.length);
      n += token.length;
    }
    return Utf8.decode(bytes, n, CodingErrorAction.REPLACE);
  }

  @Override
  public long eod() {
    return EOS;
  }

  @Override
  public String toString() {
    return name;
  }

  /** A growable list of ids. */
  private static final class IdList {
    private long[] ids;
    private int size;

    IdList(int capacity) {
      ids = new long[capacity];
    }

    void add(long id) {
      if (size == ids.length) {
        ids = Arrays.copyOf(ids, 2 * size);
      }
      ids[size++] = id;
    }

    long[] toArray() {
      return Arrays.copyOf(ids, size);
    }
  }

  /** A binary min-heap of longs. */
  private static final class LongHeap {
    private long[] heap;
    private int size;

    LongHeap(int capacity) {
      heap = new long[Math.max(4, capacity)];
    }

    boolean isEmpty() {
      return size == 0;
    }

    void push(long value) {
      if (size == heap.length) {
        heap = Arrays.copyOf(heap, 2 * size);
      }
      int i = size++;
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (heap[parent] <= value) {
          break;
        }
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = value;
    }

    long pop() {
      long top = heap[0];
      long last = heap[--size];
      int i = 0;
      while (true) {
        int child = 2 * i + 1;
        if (child >= size) {
          break;
        }
        if (child + 1 < size && heap[child + 1] < heap[child]) {
          child++;
        }
        if (heap[child] >= last) {
          break;
        }
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
      return top;
    }
  }
}
