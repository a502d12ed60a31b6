package io.dpcoord.server;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/** A ZMQ routing identity, usable as a map key (equality by content). */
final class Peer {
  private final byte[] id;
  private final int hash;

  Peer(byte[] id) {
    this.id = id;
    this.hash = Arrays.hashCode(id);
  }

  /** The identity bytes; callers must not modify them. */
  byte[] id() {
    return id;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Peer p && hash == p.hash && Arrays.equals(id, p.id);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  /** Printable form for logs: UTF-8 when the identity is printable ASCII, hex otherwise. */
  @Override
  public String toString() {
    for (byte b : id) {
      if (b < 0x20 || b > 0x7e) {
        return "0x" + HexFormat.of().formatHex(id);
      }
    }
    return new String(id, StandardCharsets.US_ASCII);
  }
}
