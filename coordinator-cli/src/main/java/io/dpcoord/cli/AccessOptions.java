package io.dpcoord.cli;

import io.dpcoord.protocol.Dialect;
import io.dpcoord.server.AccessRules;
import io.dpcoord.server.Cidr;
import io.dpcoord.server.CoordinatorConfig;
import java.nio.file.Path;
import java.util.List;
import org.zeromq.ZCert;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** serve's options that say who may connect, register and control (docs/SECURITY.md). */
final class AccessOptions {
  @Option(
      names = "--allow-engines",
      paramLabel = "CIDR",
      split = ",",
      converter = CidrConverter.class,
      description =
          "Addresses that may register as engines, e.g. 10.0.1.0/24 (default: loopback only;"
              + " required when --bind is not a loopback address; with CURVE, any address).")
  List<Cidr> engines;

  @Option(
      names = "--allow-clients",
      paramLabel = "CIDR",
      split = ",",
      converter = CidrConverter.class,
      description =
          "Addresses that may connect as clients (default: loopback only; required when --bind"
              + " is not a loopback address; with CURVE, any address).")
  List<Cidr> clients;

  @Option(
      names = "--control-clients",
      paramLabel = "CIDR",
      split = ",",
      converter = CidrConverter.class,
      description =
          "Clients that may send control signals (PAUSE, UNPAUSE, SUSPEND, RESUME, STOP,"
              + " SET_GENERATION_EPOCH, SHUTDOWN, profiler); others are counted and dropped"
              + " (default: loopback clients only; with CURVE, --curve-control decides).")
  List<Cidr> control;

  @Option(
      names = "--allow-any",
      description = "Accept any peer in any role, as Megatron's coordinator does (no allow-lists).")
  boolean allowAny;

  @Option(
      names = "--engine-identity-pattern",
      paramLabel = "GLOB",
      description =
          "Identities engines may register under; * and ? are wildcards (default: "
              + AccessRules.MEGATRON_ENGINE_IDENTITY
              + ", Megatron's mp-coord-RANK; with --engine-wire 0.15, "
              + AccessRules.CORE_V015_ENGINE_IDENTITY
              + ", core_v0.15's).")
  String identityPattern; // null: the default of the engines' release

  @Option(
      names = "--curve-secret-key",
      paramLabel = "FILE",
      description =
          "Serve with CurveZMQ: peers must prove a key listed in --curve-engines, --curve-clients"
              + " or --curve-control, and all traffic is encrypted. FILE is the coordinator's"
              + " NAME.key_secret (./coordinator keygen); hand its NAME.key to the peers.")
  Path curveSecretKey;

  @Option(
      names = "--curve-engines",
      paramLabel = "DIR",
      description =
          "With --curve-secret-key: the public keys (DIR/*.key) that may register as engines."
              + " Read at start-up; restart to change.")
  Path curveEngines;

  @Option(
      names = "--curve-clients",
      paramLabel = "DIR",
      description = "With --curve-secret-key: the public keys (DIR/*.key) that may act as clients.")
  Path curveClients;

  @Option(
      names = "--curve-control",
      paramLabel = "DIR",
      description =
          "With --curve-secret-key: the client keys (DIR/*.key) that may also send control"
              + " signals; a key here is a client too (default: none may).")
  Path curveControl;

  /**
   * The rules for a coordinator bound to {@code bind} whose engines speak {@code engineDialect}
   * (without --engine-identity-pattern, their release's identities are allowed).
   *
   * @throws IllegalArgumentException with the one-line reason when the options do not fit
   */
  AccessRules toRules(String bind, Dialect engineDialect) {
    String identityPattern =
        this.identityPattern != null
            ? this.identityPattern
            : AccessRules.engineIdentityOf(engineDialect);
    if (curveSecretKey != null
        || curveEngines != null
        || curveClients != null
        || curveControl != null) {
      return curveRules(identityPattern);
    }
    if (allowAny) {
      if (engines != null || clients != null || control != null) {
        throw new IllegalArgumentException(
            "--allow-any cannot be combined with --allow-engines, --allow-clients or"
                + " --control-clients");
      }
      return AccessRules.allowAny().withEngineIdentityPattern(identityPattern);
    }
    if (!CoordinatorConfig.isLoopback(bind) && (engines == null || clients == null)) {
      throw new IllegalArgumentException(
          "--bind "
              + bind
              + " is not a loopback address: say who may connect with --allow-engines and"
              + " --allow-clients (CIDR lists), or --allow-any");
    }
    return AccessRules.of(
        orLoopback(engines), orLoopback(clients), orLoopback(control), identityPattern);
  }

  /**
   * CURVE: the key decides the role, and an address list, when given, narrows it
   * (docs/SECURITY.md); any bind address may be used.
   */
  private AccessRules curveRules(String identityPattern) {
    if (allowAny) {
      throw new IllegalArgumentException("--allow-any cannot be combined with CURVE options");
    }
    if (curveSecretKey == null) {
      throw new IllegalArgumentException(
          "--curve-engines, --curve-clients and --curve-control need --curve-secret-key");
    }
    if (curveEngines == null || curveClients == null) {
      throw new IllegalArgumentException(
          "--curve-secret-key needs --curve-engines and --curve-clients (directories of *.key)");
    }
    ZCert server =
        FlagErrors.value("--curve-secret-key", () -> CurveKeyFiles.readSecret(curveSecretKey));
    return AccessRules.of(engines, clients, control, identityPattern)
        .withCurve(
            server.getSecretKey(),
            keys("--curve-engines", curveEngines, true),
            keys("--curve-clients", curveClients, true),
            curveControl == null
                ? AccessRules.KeyList.none()
                : keys("--curve-control", curveControl, false));
  }

  private static AccessRules.KeyList keys(String flag, Path dir, boolean required) {
    return FlagErrors.value(flag, () -> CurveKeyFiles.readDirectory(dir, required));
  }

  private static List<Cidr> orLoopback(List<Cidr> list) {
    return list == null ? AccessRules.LOOPBACK : list;
  }

  /** One CIDR block of a list option. */
  static final class CidrConverter implements ITypeConverter<Cidr> {
    @Override
    public Cidr convert(String value) {
      try {
        return Cidr.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
