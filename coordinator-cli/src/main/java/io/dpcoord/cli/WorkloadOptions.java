package io.dpcoord.cli;

import io.dpcoord.sim.LoadConfig;
import picocli.CommandLine.Option;

/**
 * The prompt-shape flags shared by the commands that generate load ({@code load}, {@code demo}).
 * Their {@code --seed} is {@link SeedOption}.
 */
final class WorkloadOptions {
  @Option(
      names = "--system-prompts",
      paramLabel = "K",
      description = "Shared system prompts (default: ${DEFAULT-VALUE}).",
      defaultValue = "8")
  int systemPrompts;

  @Option(
      names = "--system-tokens",
      paramLabel = "S",
      description = "Tokens per system prompt (default: ${DEFAULT-VALUE}).",
      defaultValue = "256")
  int systemTokens;

  @Option(
      names = "--suffix-tokens",
      paramLabel = "U",
      description = "Unique tokens after the system prompt (default: ${DEFAULT-VALUE}).",
      defaultValue = "32")
  int suffixTokens;

  /**
   * Sets the prompt shape on {@code builder}.
   *
   * @throws IllegalArgumentException if a value is out of range (the caller makes it a usage error)
   */
  LoadConfig.Builder applyTo(LoadConfig.Builder builder) {
    return builder
        .systemPrompts(systemPrompts)
        .systemTokens(systemTokens)
        .suffixTokens(suffixTokens);
  }
}
