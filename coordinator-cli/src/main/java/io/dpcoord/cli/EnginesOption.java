package io.dpcoord.cli;

import picocli.CommandLine.Option;

/** The {@code --engines} flag of the commands that run simulated engines in process. */
final class EnginesOption {
  static final int MAX = 64;

  @Option(
      names = "--engines",
      paramLabel = "N",
      description = "Simulated engines, 1..64 (default: ${DEFAULT-VALUE}).",
      defaultValue = "4")
  int value;

  /** The value, or the message of a usage error when it is outside 1..64. */
  String problem() {
    return value < 1 || value > MAX ? "--engines must be in 1.." + MAX + ", got " + value : null;
  }
}
