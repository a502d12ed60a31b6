package io.dpcoord.tokenizers;

import java.util.Arrays;

/** A minimal reader of the protobuf wire format: fields of one message, in order. */
final class ProtoReader {
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
