package io.dpcoord.cli;

import io.dpcoord.metrics.RemoteJmx;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Option;

/**
 * serve's options that protect the remote JMX connector of {@code --jmx-port}, named after the
 * JDK's {@code com.sun.management.jmxremote.*} properties and with their meaning
 * (docs/SECURITY.md).
 */
final class JmxSecurityOptions {
  @Option(
      names = "--jmx-password-file",
      paramLabel = "FILE",
      description =
          "Require a login on the --jmx-port connector: 'USER PASSWORD' lines, the file readable"
              + " by its owner only (as com.sun.management.jmxremote.password.file; the JDK"
              + " replaces clear-text passwords by hashes when the file is writable).")
  Path passwordFile;

  @Option(
      names = "--jmx-access-file",
      paramLabel = "FILE",
      description =
          "'USER readonly|readwrite' lines (as com.sun.management.jmxremote.access.file; default:"
              + " the JDK's, monitorRole readonly and controlRole readwrite). Needs"
              + " --jmx-password-file.")
  Path accessFile;

  @Option(
      names = "--jmx-ssl",
      description =
          "Serve the --jmx-port connector (and its registry) over TLS with the JVM's"
              + " javax.net.ssl.keyStore properties (as com.sun.management.jmxremote.ssl).")
  boolean ssl;

  @Option(
      names = "--jmx-ssl-config",
      paramLabel = "FILE",
      description =
          "TLS with the key store named in FILE: javax.net.ssl.keyStore, .keyStorePassword and"
              + " optionally .trustStore, .trustStorePassword (as"
              + " com.sun.management.jmxremote.ssl.config.file); implies --jmx-ssl.")
  Path sslConfig;

  @Option(
      names = "--jmx-ssl-need-client-auth",
      description =
          "With TLS, require a client certificate trusted by the trust store (as"
              + " com.sun.management.jmxremote.ssl.need.client.auth).")
  boolean needClientAuth;

  /** Whether any of these options was given. */
  boolean given() {
    return passwordFile != null || accessFile != null || ssl || sslConfig != null || needClientAuth;
  }

  /**
   * The connector's security.
   *
   * @throws IllegalArgumentException naming the flag, when the options do not fit
   */
  RemoteJmx.Security toSecurity() {
    if (accessFile != null && passwordFile == null) {
      throw new IllegalArgumentException("--jmx-access-file needs --jmx-password-file");
    }
    if (passwordFile != null) {
      FlagErrors.check("--jmx-password-file", () -> RemoteJmx.checkPasswordFile(passwordFile));
    }
    if (accessFile != null) {
      FlagErrors.check("--jmx-access-file", () -> RemoteJmx.checkAccessFile(accessFile));
    }
    boolean tls = ssl || sslConfig != null;
    if (needClientAuth && !tls) {
      throw new IllegalArgumentException("--jmx-ssl-need-client-auth needs --jmx-ssl");
    }
    SSLContext context = null;
    if (sslConfig != null) {
      context = FlagErrors.value("--jmx-ssl-config", () -> RemoteJmx.sslContext(sslConfig));
    } else if (tls) {
      try {
        context = SSLContext.getDefault();
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalArgumentException("--jmx-ssl: no default TLS context: " + e, e);
      }
    }
    return new RemoteJmx.Security(passwordFile, accessFile, context, needClientAuth);
  }
}
