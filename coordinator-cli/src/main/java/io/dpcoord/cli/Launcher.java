package io.dpcoord.cli;

import io.dpcoord.jeromq.SignalerFix;
import io.dpcoord.sim.simulate.Synthetic;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./coordinator} launcher: one executable jar whose subcommands are the project's jobs.
 *
 * <p>Every subcommand exits 0 on success, 1 when the job itself fails and 2 on bad usage, with a
 * one-line reason on stderr.
 */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    versionProvider = Launcher.Version.class,
    description = "Data-parallel inference coordinator (Megatron-LM wire compatible).",
    subcommands = {
      CommandLine.HelpCommand.class,
      ServeCommand.class,
      RouteReplayCommand.class,
      EngineCommand.class,
      LoadCommand.class,
      DemoCommand.class,
      SimulateCommand.class,
      BenchCommand.class,
      KeygenCommand.class
    })
public final class Launcher implements Runnable {

  /** Exit status for bad usage: an unknown flag, a bad value, a contradictory combination. */
  public static final int USAGE = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The launcher's command line, with one-line usage errors and exit status 2. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Launcher());
    cli.setParameterExceptionHandler(Launcher::usageError);
    cli.setExitCodeExceptionMapper(e -> 1);
    cli.getSubcommands()
        .get("simulate")
        .getCommandSpec()
        .usageMessage()
        .footer("", "Synthetic workloads: " + Synthetic.usage());
    return cli;
  }

  /**
   * Prints one line, {@code coordinator <sub>: <reason> (see ...)}, never a usage dump; returns 2.
   */
  private static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    String name = cmd.getCommandSpec().qualifiedName();
    cmd.getErr().println(name + ": " + e.getMessage() + " (see '" + name + " --help')");
    return USAGE;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Launcher.class.getPackage().getImplementationVersion();
      return new String[] {
        "coordinator " + (v == null ? "dev" : v),
        "jeromq signaler: "
            + (SignalerFix.isLoaded()
                ? "fixed (coordinator-jeromq)"
                : "jeromq's own, which may spin (docs/DESIGN.md, \"jeromq's signaler\")")
      };
    }
  }
}
