package io.dpcoord.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * An address block such as {@code 10.0.0.0/8}, {@code 127.0.0.1} (one host) or {@code ::1/128}.
 * Only literal addresses are accepted: no name is ever looked up. An IPv4-mapped IPv6 peer address
 * ({@code ::ffff:10.1.2.3}) matches the IPv4 block it maps to.
 */
public final class Cidr {
  private static final Pattern LITERAL = Pattern.compile("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  private final byte[] network;
  private final int prefixBits;
  private final String text;

  private Cidr(byte[] network, int prefixBits, String text) {
    this.network = network;
    this.prefixBits = prefixBits;
    this.text = text;
  }

  /**
   * Parses {@code ADDRESS[/BITS]}.
   *
   * @throws IllegalArgumentException naming the text and what is wrong with it
   */
  public static Cidr parse(String text) {
    String s = text.strip();
    int slash = s.indexOf('/');
    String address = slash < 0 ? s : s.substring(0, slash);
    byte[] bytes = address(address, text).getAddress();
    int bits = bytes.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(s.substring(slash + 1));
      } catch (NumberFormatException e) {
        bits = -1;
      }
      if (bits < 0 || bits > bytes.length * 8) {
        throw new IllegalArgumentException(
            "'" + text + "': the prefix length must be 0 to " + bytes.length * 8);
      }
    }
    for (int i = 0; i < bytes.length; i++) { // keep only the network part
      int keep = Math.max(0, Math.min(8, bits - 8 * i));
      bytes[i] &= (byte) (0xff00 >> keep);
    }
    return new Cidr(bytes, bits, s);
  }

  /**
   * The literal address {@code text} ({@code [::1]} as well as {@code ::1}); never looks a name up.
   *
   * @throws IllegalArgumentException if it is not a literal IPv4 or IPv6 address
   */
  public static InetAddress address(String text) {
    return address(text, text);
  }

  private static InetAddress address(String address, String text) {
    String bare =
        address.startsWith("[") && address.endsWith("]")
            ? address.substring(1, address.length() - 1)
            : address;
    if (!LITERAL.matcher(bare).matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not an IP address or block (names are not looked up)");
    }
    try {
      return InetAddress.getByName(bare);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + text + "' is not an IP address or block");
    }
  }

  /** Whether {@code address} lies in this block. */
  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    if (a.length == 16 && network.length == 4 && isV4Mapped(a)) {
      a = java.util.Arrays.copyOfRange(a, 12, 16);
    }
    if (a.length != network.length) {
      return false;
    }
    for (int i = 0; i < a.length && 8 * i < prefixBits; i++) {
      int keep = Math.min(8, prefixBits - 8 * i);
      if (((a[i] ^ network[i]) & (0xff00 >> keep) & 0xff) != 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean isV4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
  }

  @Override
  public String toString() {
    return text;
  }
}
