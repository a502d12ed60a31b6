package io.dpcoord.cli.bench;

import java.util.Locale;

/** What the load benchmark puts between the engines and the client. */
public enum Target {
  /** The coordinator, configured as {@code serve} configures it. */
  COORDINATOR("coordinator"),
  /** {@link BareForwarder}: the floor. */
  FORWARDER("forwarder");

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
    throw new IllegalArgumentException(
        "unknown target '" + name + "' (choices: coordinator, forwarder)");
  }
}
