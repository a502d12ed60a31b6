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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
  private final Model model;

  private SentencePieceTokenizer(String name, SpProcessor processor, Model model) {
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
    Model model = Model.parse(file, bytes);
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
      if (model.modelType != Model.UNIGRAM) {
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
      if (model.types[ids[i]] == Model.BYTE) {
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
        if (piece < 0 || model.types[piece] == Model.UNUSED) {
          continue;
        }
        float pieceScore =
            model.types[piece] == Model.USER_DEFINED
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
      boolean unknown = model.types[piece] == Model.UNKNOWN;
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
      if (model.types[id] == Model.BYTE) {
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
      case Model.CONTROL:
        return false;
      case Model.UNKNOWN:
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

  /** The parts of a SentencePiece {@code ModelProto} that encoding and decoding here need. */
  static final class Model {
    static final int UNIGRAM = 1;

    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    private final List<byte[]> pieceList = new ArrayList<>();
    private final List<Integer> typeList = new ArrayList<>();
    private final List<Float> scoreList = new ArrayList<>();

    // from the file, proto2 defaults where absent
    int modelType = UNIGRAM;
    boolean byteFallback;
    byte[] unknownSurface = " \u2047 ".getBytes(StandardCharsets.UTF_8);
    private byte[] eosPiece = new byte[0];
    boolean addDummyPrefix = true;
    boolean removeExtraWhitespaces = true;
    private boolean denormalizer;

    // derived
    byte[][] pieces;
    int[] types;
    float[] scores;

    /** {@code PieceToId(IdToPiece(id))}: a reserved piece wins over a normal one of equal text. */
    int[] pieceToId;

    /** The byte of each byte piece {@code <0xXX>}. */
    byte[] byteValues;

    /** The byte pieces' ids by byte. */
    int[] bytePieceIds = new int[256];

    /** The pieces a segmentation can use: normal, user-defined and unused ones. */
    TikTokenizer.BytesTable normalPieces;

    int unknownId = -1;

    /** {@code min_score - kUnkPenalty} over normal pieces. */
    float unknownScore;

    float maxScore;
    int eosId;

    /**
     * Reads a serialized {@code ModelProto} (sentencepiece_model.proto, proto2 wire format).
     *
     * @throws IllegalArgumentException if it is not one, or has a denormalizer
     */
    static Model parse(Path file, byte[] bytes) {
      Model model = new Model();
      try {
        new ProtoReader(bytes, 0, bytes.length).forEach(model::modelField);
        if (model.pieceList.isEmpty()) {
          throw new IllegalStateException("no pieces");
        }
        model.finish();
      } catch (IllegalStateException e) {
        throw new IllegalArgumentException(
            file + ": not a SentencePiece model (" + e.getMessage() + ")");
      }
      if (model.denormalizer) {
        throw new IllegalArgumentException(
            file + ": the model has a denormalization rule, which is not supported");
      }
      return model;
    }

    private void modelField(int field, ProtoReader.Value value) {
      switch (field) {
        case 1:
          piece(value.message());
          break;
        case 2:
          value.message().forEach(this::trainerField);
          break;
        case 3:
          value.message().forEach(this::normalizerField);
          break;
        case 5:
          value
              .message()
              .forEach(
                  (f, v) -> {
                    if (f == 2) {
                      denormalizer = v.bytes().length > 0;
                    }
                  });
          break;
        default:
          break;
      }
    }

    private void piece(ProtoReader message) {
      byte[][] piece = {new byte[0]};
      int[] type = {NORMAL};
      float[] score = {0};
      message.forEach(
          (f, v) -> {
            if (f == 1) {
              piece[0] = v.bytes();
            } else if (f == 2) {
              score[0] = v.fixed32();
            } else if (f == 3) {
              long t = v.varint();
              type[0] = t >= NORMAL && t <= BYTE ? (int) t : NORMAL; // unknown enum: the default
            }
          });
      pieceList.add(piece[0]);
      typeList.add(type[0]);
      scoreList.add(score[0]);
    }

    private void trainerField(int field, ProtoReader.Value value) {
      switch (field) {
        case 3:
          modelType = (int) value.varint();
          break;
        case 35:
          byteFallback = value.varint() != 0;
          break;
        case 44:
          unknownSurface = value.bytes();
          break;
        case 47:
          eosPiece = value.bytes();
          break;
        default:
          break;
      }
    }

    private void normalizerField(int field, ProtoReader.Value value) {
      if (field == 3) {
        addDummyPrefix = value.varint() != 0;
      } else if (field == 4) {
        removeExtraWhitespaces = value.varint() != 0;
      }
    }

    /** What {@code ModelInterface::InitializePieces} and the unigram model's constructor make. */
    private void finish() {
      int n = pieceList.size();
      pieces = pieceList.toArray(new byte[0][]);
      types = new int[n];
      scores = new float[n];
      byteValues = new byte[n];
      Map<String, Integer> reserved = new HashMap<>();
      Map<String, Integer> normal = new HashMap<>();
      float minScore = Float.MAX_VALUE;
      maxScore = Float.MIN_NORMAL; // C++ FLT_MIN
      for (int i = 0; i < n; i++) {
        types[i] = typeList.get(i);
        scores[i] = scoreList.get(i);
        boolean isNormal = types[i] == NORMAL || types[i] == USER_DEFINED || types[i] == UNUSED;
        (isNormal ? normal : reserved).putIfAbsent(key(pieces[i]), i);
        if (types[i] == UNKNOWN && unknownId < 0) {
          unknownId = i;
        }
        if (types[i] == BYTE) {
          byteValues[i] = (byte) byteOfPiece(key(pieces[i]));
        }
        if (types[i] == NORMAL) {
          minScore = Math.min(minScore, scores[i]);
          maxScore = Math.max(maxScore, scores[i]);
        }
      }
      if (unknownId < 0) {
        throw new IllegalStateException("unk is not defined");
      }
      unknownScore = minScore - 10.0f;
      pieceToId = new int[n];
      for (int i = 0; i < n; i++) {
        pieceToId[i] = pieceToId(reserved, normal, key(pieces[i]));
      }
      for (int b = 0; b < 256; b++) {
        bytePieceIds[b] = pieceToId(reserved, normal, String.format("<0x%02X>", b));
      }
      int[] normalIds = normal.values().stream().mapToInt(Integer::intValue).toArray();
      byte[][] normalKeys = new byte[normalIds.length][];
      for (int i = 0; i < normalIds.length; i++) {
        normalKeys[i] = pieces[normalIds[i]];
      }
      normalPieces = new TikTokenizer.BytesTable(normalKeys, normalIds);
      // eos_id(): the id of the eos piece ("</s>" unless set) if that is a control piece, else -1
      int eos = pieceToId(reserved, normal, eosPiece.length == 0 ? "</s>" : key(eosPiece));
      eosId = types[eos] == CONTROL ? eos : -1;
    }

    /** A piece's bytes as a map key. */
    private static String key(byte[] piece) {
      return new String(piece, StandardCharsets.ISO_8859_1);
    }

    /** {@code ModelInterface::PieceToId}: reserved pieces first, then normal ones, else unk. */
    private int pieceToId(Map<String, Integer> reserved, Map<String, Integer> normal, String key) {
      Integer id = reserved.get(key);
      return id != null ? id : normal.getOrDefault(key, unknownId);
    }

    /** {@code <0xAB>} to 0xAB; SentencePiece refuses to load a model with another byte piece. */
    private static int byteOfPiece(String piece) {
      if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
        try {
          return Integer.parseInt(piece.substring(3, 5), 16);
        } catch (NumberFormatException e) {
          // falls through
        }
      }
      throw new IllegalStateException("byte piece " + piece + " is invalid");
    }
  }

  /** A minimal reader of the protobuf wire format: fields of one message, in order. */
  static final class ProtoReader {
    private final byte[] bytes;
    private int pos;
    private final int end;

    ProtoReader(byte[] bytes, int from, int to) {
      this.bytes = bytes;
      this.pos = from;
      this.end = to;
    }

    interface FieldConsumer {
      void accept(int field, Value value);
    }

    /** One field's value: a varint, or the bytes of a length-delimited field. */
    final class Value {
      private final long varint;
      private final int from;
      private final int to;

      Value(long varint, int from, int to) {
        this.varint = varint;
        this.from = from;
        this.to = to;
      }

      long varint() {
        return varint;
      }

      float fixed32() {
        return Float.intBitsToFloat((int) varint);
      }

      byte[] bytes() {
        return Arrays.copyOfRange(bytes, from, to);
      }

      ProtoReader message() {
        return new ProtoReader(bytes, from, to);
      }
    }

    void forEach(FieldConsumer consumer) {
      while (pos < end) {
        long tag = varint();
        int field = (int) (tag >>> 3);
        switch ((int) (tag & 7)) {
          case 0:
            consumer.accept(field, new Value(varint(), 0, 0));
            break;
          case 1:
            skip(8);
            break;
          case 2:
            {
              long length = varint();
              if (length < 0 || length > end - pos) {
                throw new IllegalStateException("a field runs past its message");
              }
              int from = pos;
              skip((int) length);
              consumer.accept(field, new Value(0, from, pos));
              break;
            }
          case 5:
            {
              skip(4);
              long bits = 0;
              for (int k = 1; k <= 4; k++) {
                bits = (bits << 8) | (bytes[pos - k] & 0xff); // little-endian
              }
              consumer.accept(field, new Value(bits, 0, 0));
              break;
            }
          default:
            throw new IllegalStateException("wire type " + (tag & 7) + " at byte " + pos);
        }
      }
    }

    private long varint() {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          throw new IllegalStateException("truncated");
        }
        byte b = bytes[pos++];
        value |= (long) (b & 0x7f) << shift;
        if (b >= 0) {
          return value;
        }
      }
      throw new IllegalStateException("malformed varint");
    }

    private void skip(int n) {
      if (n > end - pos) {
        throw new IllegalStateException("truncated");
      }
      pos += n;
    }
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
