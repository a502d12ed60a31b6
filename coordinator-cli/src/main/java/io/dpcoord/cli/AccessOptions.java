package io.dpcoord.cli;

import io.dpcoord.server.AccessRules;
import io.dpcoord.server.Cidr;
import io.dpcoord.server.CoordinatorConfig;
import java.util.List;
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
              + " required when --bind is not a loopback address).")
  List<Cidr> engines;

  @Option(
      names = "--allow-clients",
      paramLabel = "CIDR",
      split = ",",
      converter = CidrConverter.class,
      description =
          "Addresses that may connect as clients (default: loopback only; required when --bind"
              + " is not a loopback address).")
  List<Cidr> clients;

  @Option(
      names = "--control-clients",
      paramLabel = "CIDR",
      split = ",",
      converter = CidrConverter.class,
      description =
          "Clients that may send control signals (PAUSE, UNPAUSE, SUSPEND, RESUME, STOP,"
              + " SET_GENERATION_EPOCH, SHUTDOWN, profiler); others are counted and dropped"
              + " (default: loopback clients only).")
  List<Cidr> control;

  @Option(
      names = "--allow-any",
      description = "Accept any peer in any role, as Megatron's coordinator does (no allow-lists).")
  boolean allowAny;

  @Option(
      names = "--engine-identity-pattern",
      paramLabel = "GLOB",
      description =
          "Identities engines may register under; * and ? are wildcards (default:"
              + " ${DEFAULT-VALUE}, Megatron's mp-coord-RANK; Megatron core_v0.15 used"
              + " tp-coord-*).",
      defaultValue = AccessRules.MEGATRON_ENGINE_IDENTITY)
  String identityPattern;

  /**
   * The rules for a coordinator bound to {@code bind}.
   *
   * @throws IllegalArgumentException with the one-line reason when the options do not fit
   */
  AccessRules toRules(String bind) {
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
