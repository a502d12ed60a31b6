package io.dpcoord.cli.bench;

import java.util.Locale;
import java.util.StringJoiner;

/** What the load benchmark puts between the engines and the client. */
public enum Target {
  /** The coordinator, configured as {@code serve} configures it (Dropwizard metrics). */
  COORDINATOR("coordinator"),
  /** The same with the no-op metrics binding: what the metrics cost, side by side. */
  COORDINATOR_NO_METRICS("coordinator-no-metrics"),
  /** {@link BareForwarder}: the floor. */
  FORWARDER("forwarder"),
  /**
   * Megatron-LM's own Python coordinator, from a source tree the user names ({@link Megatron}):
   * what the "5x less CPU than Megatron" compares with, measured on the same machine.
   */
  MEGATRON("megatron");

  private final String cliName;

  Target(String cliName) {
    this.cliName = cliName;
  }

  /** The name on the command line and in the table. */
  public String cliName() {
    return cliName;
  }

  /**
   * The target called {@code name}.
   *
   * @throws IllegalArgumentException naming the bad value and the choices
   */
  public static Target parse(String name) {
    for (Target t : values()) {
      if (t.cliName.equals(name.trim().toLowerCase(Locale.ROOT))) {
        return t;
      }
    }
    StringJoiner choices = new StringJoiner(", ");
    for (Target t : values()) {
      choices.add(t.cliName);
    }
    throw new IllegalArgumentException("unknown target '" + name + "' (choices: " + choices + ")");
  }
}
