package io.dpcoord.cli;

import io.dpcoord.sim.CurveClient;
import java.nio.file.Path;
import org.zeromq.ZCert;
import picocli.CommandLine.Option;

/**
 * The CurveZMQ options of the commands that dial a coordinator ({@code engine}, {@code load}): both
 * or neither (docs/SECURITY.md).
 */
final class CurveClientOptions {
  @Option(
      names = "--curve-server-key",
      paramLabel = "FILE",
      description =
          "Connect with CurveZMQ to the coordinator whose public key is in FILE (its NAME.key,"
              + " from keygen or pyzmq); needs --curve-key.")
  Path serverKey;

  @Option(
      names = "--curve-key",
      paramLabel = "FILE",
      description =
          "This peer's secret key file (NAME.key_secret); its public key must be in the"
              + " coordinator's list for this role.")
  Path key;

  /**
   * The keys to connect with, or null for a plain connection.
   *
   * @throws IllegalArgumentException naming the flag, when only one is given or a file is bad
   */
  CurveClient load() {
    if (serverKey == null && key == null) {
      return null;
    }
    if (serverKey == null) {
      throw new IllegalArgumentException("--curve-key needs --curve-server-key");
    }
    if (key == null) {
      throw new IllegalArgumentException("--curve-server-key needs --curve-key");
    }
    byte[] server =
        FlagErrors.value("--curve-server-key", () -> CurveKeyFiles.readPublic(serverKey));
    ZCert own = FlagErrors.value("--curve-key", () -> CurveKeyFiles.readSecret(key));
    return new CurveClient(server, own.getPublicKey(), own.getSecretKey());
  }
}
