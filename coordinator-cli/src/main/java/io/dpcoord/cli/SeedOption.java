package io.dpcoord.cli;

import picocli.CommandLine.Option;

/**
 * The {@code --seed} flag of the commands that generate load ({@code load}, {@code demo}).
 *
 * <p>A mixin of its own rather than part of {@link WorkloadOptions}: a mixin's flags are listed
 * together in the help, and in {@code load} the seed follows {@code --generated-tokens}, which
 * {@code demo} does not have.
 */
final class SeedOption {
  @Option(
      names = "--seed",
      paramLabel = "SEED",
      description = "Seed of the workload (default: ${DEFAULT-VALUE}).",
      defaultValue = "1")
  long value;
}
