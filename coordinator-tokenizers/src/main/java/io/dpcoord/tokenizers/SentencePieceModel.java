package io.dpcoord.tokenizers;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The parts of a SentencePiece {@code ModelProto} that encoding and decoding here need. */
final class SentencePieceModel {
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
  BytesTable normalPieces;

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
  static SentencePieceModel parse(Path file, byte[] bytes) {
    SentencePieceModel model = new SentencePieceModel();
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
    normalPieces = new BytesTable(normalKeys, normalIds);
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
