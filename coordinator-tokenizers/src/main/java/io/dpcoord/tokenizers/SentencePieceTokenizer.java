package io.dpcoord.tokenizers;

import ai.djl.engine.EngineException;
import ai.djl.sentencepiece.SpProcessor;
import ai.djl.sentencepiece.SpTokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Megatron's {@code SentencePieceTokenizer} ({@code megatron/core/tokenizers/text/libraries/
 * sentencepiece_tokenizer.py}) on its default path: {@link #tokenize} is {@code
 * encode_as_ids(text)}, {@link #detokenize} is {@code decode_ids(ids)} (special pieces are not
 * filtered; SentencePiece renders control pieces as nothing), {@code eod} is {@code eos_id()}.
 *
 * <p>SentencePiece itself (C++ 0.2.0) runs through DJL's JNI binding, whose native library for
 * linux-x86_64, linux-aarch64, macOS-aarch64 and Windows-x86_64 is in its jar, offline and without
 * telemetry ({@link Djl}).
 *
 * <p>Two parts are redone in Java, to give what Python's sentencepiece 0.2.2 gives:
 *
 * <ul>
 *   <li>Unigram models: the binding normalizes the text and segments it, but its Viterbi (0.2.0)
 *       adds a piece's score to the path's in {@code double} and compares that with a stored {@code
 *       float}, so exact ties (say "000" as "0"+"00" or "00"+"0", equal sums) go either way with
 *       rounding; Python's 0.2.2 behaves as if it summed in {@code float} and kept the first path
 *       found. The segmentation is therefore redone here on the normalized text (the concatenation
 *       of the binding's pieces) as {@code EncodeOptimized} in unigram_model.cc does, in {@code
 *       float}. Checked against Python's 0.2.2 on random texts and four trained unigram models: the
 *       binding alone differed on 4% to 13% of them, this on none but a few texts where a
 *       user-defined symbol comes before such a tie (4 of 7,500; 0.2.2's source, which would tell
 *       its rule there, was not at hand). BPE, word and char models use the binding's ids as they
 *       are (BPE: no difference found).
 *   <li>Decoding: the binding returns the text through JNI's {@code NewStringUTF}, which cuts it at
 *       the first NUL byte and garbles characters outside the BMP (emoji), so SentencePiece's
 *       {@code Decode} (sentencepiece_processor.cc) is done here from the pieces read out of the
 *       model file. Models with a denormalizer (a {@code denormalizer_spec} with a character map,
 *       rare) are refused for that reason.
 * </ul>
 */
final class SentencePieceTokenizer implements TextTokenizer {
  private static final byte[] SPACE_SYMBOL = "\u2581".getBytes(StandardCharsets.UTF_8);
  private static final byte[] REPLACEMENT = "\uFFFD".getBytes(StandardCharsets.UTF_8);

  private final String name;
  private final SpProcessor processor;
  private final SentencePieceModel model;

  private SentencePieceTokenizer(String name, SpProcessor processor, SentencePieceModel model) {
    this.name = name;
    this.processor = processor;
    this.model = model;
  }

  /**
   * Loads a SentencePiece model file as {@code SentencePieceProcessor().Load(file)} does.
   *
   * @throws IllegalArgumentException with one line saying why the file cannot be used, or why
   *     SentencePiece cannot run here
   */
  static TextTokenizer load(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
    }
    SentencePieceModel model = SentencePieceModel.parse(file, bytes);
    Djl.configure();
    SpProcessor processor;
    try {
      processor = new SpTokenizer(bytes).getProcessor();
    } catch (EngineException e) {
      throw new IllegalArgumentException(
          file + ": SentencePiece cannot load it: " + firstLine(e.getMessage()), e);
    } catch (LinkageError | RuntimeException e) {
      throw new IllegalArgumentException(
          "SentencePiece's native library (from DJL's ai.djl.sentencepiece) cannot be loaded"
              + " here: "
              + firstLine(e.toString()),
          e);
    }
    return new SentencePieceTokenizer(
        "sentencepiece(" + file.getFileName() + ")", processor, model);
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.lines().findFirst().orElse("");
  }

  /**
   * {@code encode_as_ids(text)}. Python cannot pass a string with a lone surrogate to SentencePiece
   * (an error), so neither can this.
   */
  @Override
  public long[] tokenize(String text) {
    int lone = Utf8.loneSurrogate(text, 0);
    if (lone >= 0) {
      throw new IllegalArgumentException(
          String.format(
              "the text has a lone surrogate U+%04X at index %d", (int) text.charAt(lone), lone));
    }
    try {
      if (model.modelType != SentencePieceModel.UNIGRAM) {
        return toLongs(processor.encode(text));
      }
      return unigram(normalized(processor.encode(text), processor.tokenize(text)));
    } catch (EngineException e) {
      throw new IllegalArgumentException(
          "SentencePiece cannot encode the text: " + firstLine(e.getMessage()), e);
    }
  }

  private static long[] toLongs(int[] ids) {
    long[] out = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = ids[i];
    }
    return out;
  }

  /**
   * The normalized text, from the binding's segmentation of it: byte pieces stand for their byte,
   * every other piece (a run of unknown characters too) for its own text.
   */
  private Bytes normalized(int[] ids, String[] pieces) {
    if (ids.length != pieces.length) {
      throw new IllegalStateException(ids.length + " ids but " + pieces.length + " pieces");
    }
    Bytes text = new Bytes(4 * ids.length);
    for (int i = 0; i < ids.length; i++) {
      if (model.types[ids[i]] == SentencePieceModel.BYTE) {
        text.append(model.byteValues[ids[i]]);
      } else {
        byte[] piece = pieces[i].getBytes(StandardCharsets.UTF_8);
        text.append(piece, 0, piece.length);
      }
    }
    return text;
  }

  /**
   * The unigram model's best segmentation of a normalized text ({@code EncodeOptimized}): for each
   * end position the best-scoring path, the first found of equal ones, scores summed in {@code
   * float}; user-defined pieces score {@code length * max_score - 0.1}, unused pieces are skipped,
   * a character no piece starts with is unknown ({@code min_score - 10}). Then, as {@code Encode}:
   * an unknown piece becomes its bytes' byte pieces with byte fallback, else a run of unknown
   * pieces one unknown id.
   */
  private long[] unigram(Bytes normalized) {
    byte[] s = normalized.bytes;
    int size = normalized.size;
    float[] score = new float[size + 1];
    int[] start = new int[size + 1];
    int[] id = new int[size + 1];
    Arrays.fill(start, -1);
    for (int at = 0; at < size; ) {
      float till = score[at];
      int charLength = Math.min(UTF8_LENGTH[(s[at] & 0xff) >> 4], size - at);
      boolean singleCharacter = false;
      int longest = Math.min(model.normalPieces.maxLength(), size - at);
      for (int length = 1; length <= longest; length++) {
        int piece = model.normalPieces.get(s, at, at + length);
        if (piece < 0 || model.types[piece] == SentencePieceModel.UNUSED) {
          continue;
        }
        float pieceScore =
            model.types[piece] == SentencePieceModel.USER_DEFINED
                ? (float) (length * model.maxScore - 0.1)
                : model.scores[piece];
        float candidate = pieceScore + till;
        int end = at + length;
        if (start[end] == -1 || candidate > score[end]) {
          score[end] = candidate;
          start[end] = at;
          id[end] = piece;
        }
        singleCharacter |= length == charLength;
      }
      if (!singleCharacter) {
        float candidate = model.unknownScore + till;
        int end = at + charLength;
        if (start[end] == -1 || candidate > score[end]) {
          score[end] = candidate;
          start[end] = at;
          id[end] = model.unknownId;
        }
      }
      at += charLength;
    }
    int count = 0;
    for (int end = size; end > 0; end = start[end]) {
      count++;
    }
    int[] ends = new int[count];
    for (int end = size, i = count; end > 0; end = start[end]) {
      ends[--i] = end;
    }
    long[] out = new long[size]; // at most one id per byte
    int n = 0;
    boolean previousUnknown = false;
    for (int end : ends) {
      int piece = id[end];
      boolean unknown = model.types[piece] == SentencePieceModel.UNKNOWN;
      if (unknown && model.byteFallback) {
        for (int i = start[end]; i < end; i++) {
          out[n++] = model.bytePieceIds[s[i] & 0xff];
        }
      } else if (!(unknown && previousUnknown)) {
        out[n++] = piece;
      }
      previousUnknown = unknown;
    }
    return Arrays.copyOf(out, n);
  }

  /**
   * SentencePiece's {@code OneCharLen}: a UTF-8 sequence's length by its first byte's high bits.
   */
  private static final int[] UTF8_LENGTH = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};

  /**
   * {@code decode_ids(ids)}: SentencePiece's {@code Decode}. Control pieces give nothing, the
   * unknown piece its surface (" ⁇ "), runs of byte pieces their bytes as UTF-8 with each malformed
   * byte replaced by U+FFFD, other pieces their text with ▁ as a space; leading white space is
   * dropped as the model's normalizer says. An id outside the vocabulary is an error, as in Python
   * ({@code IndexError}).
   */
  @Override
  public String detokenize(long[] ids) {
    int size = model.pieces.length;
    int[] pieceIds = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= size) {
        throw new IllegalArgumentException(
            "id " + ids[i] + " is outside the vocabulary (size " + size + ")");
      }
      // Decode(ids) turns ids into pieces and the pieces back into ids
      pieceIds[i] = model.pieceToId[(int) ids[i]];
    }
    Bytes text = new Bytes(ids.length * 4);
    int byteStart = 0;
    boolean bosWhitespace = true; // a leading ▁ may still be dropped
    boolean bosWhitespaceSeen = false;
    for (int i = 0; i < pieceIds.length; i++) {
      int id = pieceIds[i];
      if (model.types[id] == SentencePieceModel.BYTE) {
        continue;
      }
      appendBytePieces(pieceIds, byteStart, i, text);
      if (bosWhitespaceSeen || text.size > 0) {
        bosWhitespace = false;
      }
      byteStart = i + 1;
      bosWhitespaceSeen = appendPiece(id, bosWhitespace, text);
    }
    appendBytePieces(pieceIds, byteStart, pieceIds.length, text);
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .decode(ByteBuffer.wrap(text.bytes, 0, text.size))
          .toString();
    } catch (CharacterCodingException e) {
      // Python turns SentencePiece's output into a str strictly; only a model with pieces that are
      // not UTF-8 gets here
      throw new IllegalArgumentException("the decoded text is not UTF-8", e);
    }
  }

  /**
   * One non-byte piece; returns whether it consumed a leading ▁ that counts as the beginning of the
   * text (SentencePiece's {@code DecodeSentencePiece}).
   */
  private boolean appendPiece(int id, boolean bosWhitespace, Bytes text) {
    switch (model.types[id]) {
      case SentencePieceModel.CONTROL:
        return false;
      case SentencePieceModel.UNKNOWN:
        text.append(model.unknownSurface, 0, model.unknownSurface.length);
        return false;
      default:
        break;
    }
    byte[] piece = model.pieces[id];
    int from = 0;
    boolean consumed = false;
    if (bosWhitespace
        && (model.addDummyPrefix || model.removeExtraWhitespaces)
        && startsWith(piece, 0, SPACE_SYMBOL)) {
      from = SPACE_SYMBOL.length;
      consumed = !model.removeExtraWhitespaces; // then all leading white space goes
    }
    for (int i = from; i < piece.length; ) {
      if (startsWith(piece, i, SPACE_SYMBOL)) {
        text.append(' ');
        i += SPACE_SYMBOL.length;
      } else {
        text.append(piece[i++]);
      }
    }
    return consumed;
  }

  /**
   * SentencePiece's {@code ProcessBytePieces}: the byte pieces' bytes, each character of valid
   * UTF-8 (by its {@code DecodeUTF8}) as is, each other byte as U+FFFD.
   */
  private void appendBytePieces(int[] pieceIds, int from, int to, Bytes text) {
    if (from >= to) {
      return;
    }
    byte[] bytes = new byte[to - from];
    for (int i = from; i < to; i++) {
      bytes[i - from] = model.byteValues[pieceIds[i]];
    }
    for (int i = 0; i < bytes.length; ) {
      int length = utf8Length(bytes, i);
      if (length == 0) {
        text.append(REPLACEMENT, 0, REPLACEMENT.length);
        i++;
      } else {
        text.append(bytes, i, length);
        i += length;
      }
    }
  }

  /**
   * The length of the valid UTF-8 character at {@code bytes[i]}, or 0 if it is malformed
   * (SentencePiece's {@code IsValidDecodeUTF8}: no overlong forms, surrogates or values past
   * U+10FFFF).
   */
  static int utf8Length(byte[] bytes, int i) {
    int b = bytes[i] & 0xff;
    int left = bytes.length - i;
    if (b < 0x80) {
      return 1;
    }
    int length;
    int cp;
    int min;
    if ((b & 0xe0) == 0xc0) {
      length = 2;
      cp = b & 0x1f;
      min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
      length = 3;
      cp = b & 0x0f;
      min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
      length = 4;
      cp = b & 0x07;
      min = 0x10000;
    } else {
      return 0;
    }
    if (left < length) {
      return 0;
    }
    for (int k = 1; k < length; k++) {
      int trail = bytes[i + k] & 0xff;
      if ((trail & 0xc0) != 0x80) {
        return 0;
      }
      cp = (cp << 6) | (trail & 0x3f);
    }
    boolean valid = cp >= min && (cp < 0xd800 || (cp >= 0xe000 && cp <= 0x10ffff));
    return valid ? length : 0;
  }

  private static boolean startsWith(byte[] bytes, int from, byte[] prefix) {
    return bytes.length - from >= prefix.length
        && Arrays.equals(bytes, from, from + prefix.length, prefix, 0, prefix.length);
  }

  @Override
  public long eod() {
    return model.eosId;
  }

  @Override
  public String toString() {
    return name;
  }

  /** A growable byte array. */
  private static final class Bytes {
    byte[] bytes;
    int size;

    Bytes(int capacity) {
      bytes = new byte[Math.max(16, capacity)];
    }

    void append(byte b) {
      if (size == bytes.length) {
        bytes = Arrays.copyOf(bytes, 2 * size);
      }
      bytes[size++] = b;
    }

    void append(char c) {
      append((byte) c);
    }

    void append(byte[] b, int from, int length) {
      if (size + length > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(2 * bytes.length, size + length));
      }
      System.arraycopy(b, from, bytes, size, length);
      size += length;
    }
  }
}
