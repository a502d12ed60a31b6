package io.dpcoord.cli;

import picocli.CommandLine.Option;

/** The {@code --concurrency} flag of the commands that run their own closed-loop client. */
final class ConcurrencyOption {
  @Option(
      names = "--concurrency",
      paramLabel = "C",
      description = "Most requests in flight at once (default: ${DEFAULT-VALUE}).",
      defaultValue = "64")
  int value;
}
