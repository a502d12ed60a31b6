package io.dpcoord.cli;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.zeromq.ZCert;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./coordinator keygen}: a CurveZMQ key pair for the coordinator, an engine or a client. */
@Command(
    name = "keygen",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Write a new CurveZMQ key pair: DIR/NAME.key (the public key, to hand out) and"
          + " DIR/NAME.key_secret (both keys, readable by its owner only), in the certificate"
          + " format of CZMQ and pyzmq's zmq.auth. Existing files are never overwritten.",
      "",
      "Put an engine's or a client's NAME.key into the directory serve reads for its role"
          + " (--curve-engines, --curve-clients, --curve-control); give the coordinator's NAME.key"
          + " to its peers (--curve-server-key). See docs/SECURITY.md.",
      ""
    })
final class KeygenCommand implements Callable<Integer> {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  @Spec CommandSpec spec;

  @Option(
      names = "--name",
      required = true,
      paramLabel = "NAME",
      description = "Base name of the two files, e.g. coordinator, engine-0, client-ops.")
  String name;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Directory to write to; created if missing (default: ${DEFAULT-VALUE}).",
      defaultValue = ".")
  Path out;

  @Override
  public Integer call() {
    if (!NAME.matcher(name).matches()) {
      throw usage(
          "--name '" + name + "' must be letters, digits, '.', '_' or '-' (no path separator)");
    }
    ZCert cert;
    try {
      cert = CurveKeyFiles.write(out, name);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    } catch (UncheckedIOException e) {
      spec.commandLine().getErr().println("coordinator keygen: " + e.getMessage());
      return 1;
    }
    PrintWriter w = spec.commandLine().getOut();
    w.println(out.resolve(name + CurveKeyFiles.PUBLIC_SUFFIX) + " " + cert.getPublicKeyAsZ85());
    w.println(out.resolve(name + CurveKeyFiles.PUBLIC_SUFFIX + CurveKeyFiles.SECRET_SUFFIX));
    w.flush();
    return 0;
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
