package io.dpcoord.cli;

import io.dpcoord.sim.LoadConfig;
import picocli.CommandLine.Option;

/**
 * The prompt-shape flags shared by the commands that generate load ({@code load}, {@code demo}).
 *
 * <p>{@code --seed} stays with each command: a mixin's flags are listed together in the help, and
 * in {@code load} the seed follows {@code --generated-tokens}, which {@code demo} does not have.
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
