package io.dpcoord.sim;

import java.util.Arrays;
import org.zeromq.ZMQ;

/**
 * The keys of a peer that connects to a coordinator with CurveZMQ (docs/SECURITY.md): the
 * coordinator's public key, which the peer checks, and the peer's own key pair, whose public half
 * the coordinator looks up in its lists. Keys are the 32 raw bytes of a CURVE key.
 */
public record CurveClient(byte[] serverKey, byte[] publicKey, byte[] secretKey) {
  /** The length of a CURVE key. */
  public static final int KEY_BYTES = 32;

  /**
   * @throws IllegalArgumentException if a key is not {@value #KEY_BYTES} bytes long
   */
  public CurveClient {
    serverKey = checked(serverKey, "server public key");
    publicKey = checked(publicKey, "public key");
    secretKey = checked(secretKey, "secret key");
  }

  private static byte[] checked(byte[] key, String what) {
    if (key == null || key.length != KEY_BYTES) {
      throw new IllegalArgumentException(
          "the "
              + what
              + " must be "
              + KEY_BYTES
              + " bytes, got "
              + (key == null ? "none" : key.length));
    }
    return key.clone();
  }

  /** Makes {@code socket}, not yet connected, a CURVE client with these keys. */
  public void applyTo(ZMQ.Socket socket) {
    socket.setCurveServerKey(serverKey);
    socket.setCurvePublicKey(publicKey);
    socket.setCurveSecretKey(secretKey);
  }

  @Override
  public byte[] serverKey() {
    return serverKey.clone();
  }

  @Override
  public byte[] publicKey() {
    return publicKey.clone();
  }

  @Override
  public byte[] secretKey() {
    return secretKey.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CurveClient c
        && Arrays.equals(serverKey, c.serverKey)
        && Arrays.equals(publicKey, c.publicKey)
        && Arrays.equals(secretKey, c.secretKey);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(publicKey);
  }

  /** Names the public keys only: the secret key stays out of logs. */
  @Override
  public String toString() {
    return "CurveClient{server="
        + ZMQ.Curve.z85Encode(serverKey)
        + ", public="
        + ZMQ.Curve.z85Encode(publicKey)
        + "}";
  }
}
