package io.dpcoord.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;

/** One run of {@code coordinator args} through the launcher, with stdout and stderr captured. */
record CliRun(int status, String out, String err) {

  static CliRun of(String... args) {
    CommandLine cli = Launcher.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int status = cli.execute(args);
    return new CliRun(status, out.toString(), err.toString());
  }

  List<String> errLines() {
    return err.lines().toList();
  }
}
