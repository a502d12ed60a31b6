package io.dpcoord.server;

import io.dpcoord.protocol.Dialect;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.zeromq.ZMQ;

/**
 * Who may connect to the coordinator, and in which role (docs/SECURITY.md).
 *
 * <p>A peer's rights are a set of {@link #ENGINE}, {@link #CLIENT} and {@link #CONTROL}, fixed when
 * its connection is accepted: from its address (the allow-lists) and, with CurveZMQ ({@link
 * #withCurve}), from the lists that hold its public key, checked by the ZAP handler during the ZMTP
 * handshake, which refuses a peer with no right at all. With CURVE the key decides the role and an
 * address list, when one is given, narrows it further: a right needs both. The event loop then
 * checks each message against the rights of the connection it came on: a registration needs ENGINE
 * and an identity that matches {@link #engineIdentityPattern()}, a client's message CLIENT, a
 * control signal CONTROL.
 */
public final class AccessRules {
  /** May register as an engine and receive requests. */
  public static final int ENGINE = 1;

  /** May connect as a client and submit requests. */
  public static final int CLIENT = 2;

  /** May send control signals (PAUSE ... STOP, SET_GENERATION_EPOCH, SHUTDOWN, profiler). */
  public static final int CONTROL = 4;

  /** Every right: a peer of a coordinator that checks nothing. */
  public static final int ALL = ENGINE | CLIENT | CONTROL;

  /** Megatron's engines: {@code mp-coord-<dp rank>} since core_v0.16. */
  public static final String MEGATRON_ENGINE_IDENTITY = "mp-coord-*";

  /** Megatron core_v0.15's engines: {@code tp-coord-<dp rank>}. */
  public static final String CORE_V015_ENGINE_IDENTITY = "tp-coord-*";

  /** The identities the engines of a release register under, the default pattern for them. */
  public static String engineIdentityOf(Dialect engines) {
    return engines == Dialect.V0_15 ? CORE_V015_ENGINE_IDENTITY : MEGATRON_ENGINE_IDENTITY;
  }

  /** The loopback addresses: {@code 127.0.0.0/8} and {@code ::1}. */
  public static final List<Cidr> LOOPBACK = List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1"));

  private final List<Cidr> engines;
  private final List<Cidr> clients;
  private final List<Cidr> control;
  private final String engineIdentityPattern;
  private final Pattern engineIdentity;
  private final Curve curve;

  /**
   * The public keys (32 bytes each) of one role's CURVE list, and where they came from (a
   * directory, named in log lines and refusals).
   */
  public record KeyList(String source, List<byte[]> keys) {
    public KeyList {
      Objects.requireNonNull(source, "source");
      for (byte[] key : keys) {
        if (key.length != 32) {
          throw new IllegalArgumentException(
              "a CURVE public key is 32 bytes, got " + key.length + " in " + source);
        }
      }
      keys = List.copyOf(keys);
    }

    /** No key: nobody has the role. */
    public static KeyList none() {
      return new KeyList("(none)", List.of());
    }

    private Set<String> z85() {
      return keys.stream().map(ZMQ.Curve::z85Encode).collect(Collectors.toUnmodifiableSet());
    }
  }

  /** The coordinator's CURVE secret key and the public keys of each role (Z85 text). */
  private record Curve(
      byte[] secretKey,
      KeyList engineList,
      KeyList clientList,
      KeyList controlList,
      Set<String> engines,
      Set<String> clients,
      Set<String> control) {

    /** A key in the control list is a client's too: it is the same client, allowed more. */
    int rightsOf(byte[] publicKey) {
      String key = ZMQ.Curve.z85Encode(publicKey);
      return (engines.contains(key) ? ENGINE : 0)
          | (clients.contains(key) ? CLIENT : 0)
          | (control.contains(key) ? CLIENT | CONTROL : 0);
    }
  }

  private AccessRules(
      List<Cidr> engines,
      List<Cidr> clients,
      List<Cidr> control,
      String identityPattern,
      Curve curve) {
    this.engines = engines;
    this.clients = clients;
    this.control = control;
    this.engineIdentityPattern = Objects.requireNonNull(identityPattern, "identityPattern");
    this.engineIdentity = glob(identityPattern);
    this.curve = curve;
  }

  /**
   * Loopback peers only, in every role, and engines named as Megatron names them: the default of a
   * coordinator bound to a loopback address.
   */
  public static AccessRules loopbackOnly() {
    return new AccessRules(LOOPBACK, LOOPBACK, LOOPBACK, MEGATRON_ENGINE_IDENTITY, null);
  }

  /** Any peer in any role, any engine identity: Megatron's own coordinator (serve --allow-any). */
  public static AccessRules allowAny() {
    return new AccessRules(null, null, null, "*", null);
  }

  /** Explicit lists; null means any address for that role. */
  public static AccessRules of(
      List<Cidr> engines, List<Cidr> clients, List<Cidr> control, String identityPattern) {
    return new AccessRules(copy(engines), copy(clients), copy(control), identityPattern, null);
  }

  private static List<Cidr> copy(List<Cidr> list) {
    return list == null ? null : List.copyOf(list);
  }

  /** The same rules with another engine identity pattern ({@code *} and {@code ?} wildcards). */
  public AccessRules withEngineIdentityPattern(String pattern) {
    return new AccessRules(engines, clients, control, pattern, curve);
  }

  /**
   * The same rules with CurveZMQ: the coordinator's socket becomes a CURVE server with {@code
   * secretKey}, and a peer's rights are those of the lists that hold its public key, within those
   * its address gives. A key in {@code control} may also act as a client.
   *
   * @throws IllegalArgumentException if the secret key is not 32 bytes
   */
  public AccessRules withCurve(
      byte[] secretKey, KeyList engines, KeyList clients, KeyList control) {
    if (secretKey.length != 32) {
      throw new IllegalArgumentException("a CURVE secret key is 32 bytes, got " + secretKey.length);
    }
    return new AccessRules(
        this.engines,
        this.clients,
        this.control,
        engineIdentityPattern,
        new Curve(
            secretKey.clone(),
            engines,
            clients,
            control,
            engines.z85(),
            clients.z85(),
            control.z85()));
  }

  /** Whether peers connect with CurveZMQ ({@link #withCurve}). */
  public boolean usesCurve() {
    return curve != null;
  }

  /** The coordinator's CURVE secret key, or null when peers connect in plain text. */
  public byte[] curveSecretKey() {
    return curve == null ? null : curve.secretKey().clone();
  }

  /**
   * The rights of a CURVE peer with {@code publicKey} connecting from {@code address}: those of its
   * key's lists within those of its address; 0 when it may not connect.
   *
   * @throws IllegalStateException if these rules have no CURVE keys
   */
  public int rightsOf(InetAddress address, byte[] publicKey) {
    if (curve == null) {
      throw new IllegalStateException("no CURVE keys configured");
    }
    return rightsOf(address) & keyRightsOf(publicKey);
  }

  /** The rights the lists of CURVE keys give {@code publicKey}, whatever its address (0: none). */
  public int keyRightsOf(byte[] publicKey) {
    return curve == null || publicKey.length != 32 ? 0 : curve.rightsOf(publicKey);
  }

  /** The rights of a peer connecting from {@code address}: 0 when it may not connect at all. */
  public int rightsOf(InetAddress address) {
    return (in(engines, address) ? ENGINE : 0)
        | (in(clients, address) ? CLIENT : 0)
        | (in(control, address) ? CONTROL : 0);
  }

  private static boolean in(List<Cidr> list, InetAddress address) {
    if (list == null) {
      return true;
    }
    for (Cidr c : list) {
      if (c.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** Whether connections must be checked at all (false: every peer has every right). */
  public boolean checksPeers() {
    return engines != null || clients != null || control != null || curve != null;
  }

  /** Whether an engine may register under {@code identity}. */
  public boolean engineIdentityAllowed(byte[] identity) {
    return engineIdentity.matcher(new String(identity, StandardCharsets.ISO_8859_1)).matches();
  }

  public String engineIdentityPattern() {
    return engineIdentityPattern;
  }

  /** The option that grants {@code right}, and its list, for log lines and refusals. */
  public String describe(int right) {
    String addresses =
        switch (right) {
          case ENGINE -> "--allow-engines " + text(engines);
          case CLIENT -> "--allow-clients " + text(clients);
          case CONTROL -> "--control-clients " + text(control);
          default -> throw new IllegalArgumentException("no such right: " + right);
        };
    if (curve == null) {
      return addresses;
    }
    String keys =
        switch (right) {
          case ENGINE -> "--curve-engines " + curve.engineList().source();
          case CLIENT -> "--curve-clients " + curve.clientList().source();
          default -> "--curve-control " + curve.controlList().source();
        };
    List<Cidr> list = right == ENGINE ? engines : right == CLIENT ? clients : control;
    return list == null ? keys : keys + " and " + addresses;
  }

  private static String text(List<Cidr> list) {
    return list == null
        ? "(any)"
        : list.stream().map(Cidr::toString).collect(Collectors.joining(","));
  }

  /** The rights as a ZAP User-Id, e.g. {@code engine,client}; see {@link #parseRights}. */
  static String userId(int rights) {
    List<String> names = new ArrayList<>(3);
    for (int r = ENGINE; r <= CONTROL; r <<= 1) {
      if ((rights & r) != 0) {
        names.add(name(r));
      }
    }
    return String.join(",", names);
  }

  /** The rights a ZAP User-Id written by {@link #userId} names (0 for anything else). */
  static int parseRights(String userId) {
    int rights = 0;
    for (String name : userId.split(",")) {
      for (int r = ENGINE; r <= CONTROL; r <<= 1) {
        if (name(r).equals(name)) {
          rights |= r;
        }
      }
    }
    return rights;
  }

  private static String name(int right) {
    return switch (right) {
      case ENGINE -> "engine";
      case CLIENT -> "client";
      default -> "control";
    };
  }

  private static Pattern glob(String pattern) {
    StringBuilder regex = new StringBuilder();
    for (String part : pattern.split("((?<=[*?])|(?=[*?]))")) {
      regex.append(
          switch (part) {
            case "*" -> ".*";
            case "?" -> ".";
            default -> Pattern.quote(part);
          });
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL);
  }

  @Override
  public String toString() {
    return Arrays.asList(describe(ENGINE), describe(CLIENT), describe(CONTROL))
        + " --engine-identity-pattern "
        + engineIdentityPattern;
  }
}
