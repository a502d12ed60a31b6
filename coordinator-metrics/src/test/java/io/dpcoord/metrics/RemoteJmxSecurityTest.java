package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.management.Attribute;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.net.ssl.SSLContext;
import javax.rmi.ssl.SslRMIClientSocketFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The remote JMX connector with a password file, an access file and TLS, over a real connector: a
 * wrong password is refused, the right one works, a read-only user cannot write, and a TLS
 * connector serves a TLS client only.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RemoteJmxSecurityTest {
  private static final ObjectName MEMORY = name("java.lang:type=Memory");

  @TempDir Path dir;

  private static ObjectName name(String text) {
    try {
      return new ObjectName(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  private Path ownerOnly(String name, String text) throws IOException {
    Path file = Files.writeString(dir.resolve(name), text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  private RemoteJmx startWithLogins() throws IOException {
    Path passwords = ownerOnly("jmx.password", "ops s3cret-ops\nwatcher s3cret-watch\n");
    Path access = ownerOnly("jmx.access", "ops readwrite\nwatcher readonly\n");
    return RemoteJmx.start(0, new RemoteJmx.Security(passwords, access, null, false));
  }

  private static JMXConnector connect(RemoteJmx remote, String user, String password)
      throws IOException {
    return JMXConnectorFactory.connect(
        remote.serviceUrl(), Map.of(JMXConnector.CREDENTIALS, new String[] {user, password}));
  }

  @Test
  void aWrongPasswordIsRefusedAndTheRightOneWorks() throws Exception {
    try (RemoteJmx remote = startWithLogins()) {
      assertThatThrownBy(() -> connect(remote, "ops", "guess").close())
          .isInstanceOf(SecurityException.class);
      assertThatThrownBy(() -> JMXConnectorFactory.connect(remote.serviceUrl()).close())
          .as("no credentials")
          .isInstanceOf(SecurityException.class);
      try (JMXConnector c = connect(remote, "ops", "s3cret-ops")) {
        MBeanServerConnection mbeans = c.getMBeanServerConnection();
        assertThat(mbeans.getMBeanCount()).isPositive();
        mbeans.setAttribute(MEMORY, new Attribute("Verbose", false)); // readwrite
      }
    }
  }

  @Test
  void aReadOnlyUserReadsButCannotWrite() throws Exception {
    try (RemoteJmx remote = startWithLogins();
        JMXConnector c = connect(remote, "watcher", "s3cret-watch")) {
      MBeanServerConnection mbeans = c.getMBeanServerConnection();
      assertThat(mbeans.getAttribute(MEMORY, "Verbose")).isInstanceOf(Boolean.class);
      assertThatThrownBy(() -> mbeans.setAttribute(MEMORY, new Attribute("Verbose", false)))
          .isInstanceOf(SecurityException.class);
      assertThatThrownBy(() -> mbeans.invoke(MEMORY, "gc", null, null))
          .isInstanceOf(SecurityException.class);
    }
  }

  @Test
  void aPasswordFileOthersCanReadIsRefusedAsTheJdkRefusesIt() throws Exception {
    Path passwords = Files.writeString(dir.resolve("open.password"), "ops x\n");
    Files.setPosixFilePermissions(passwords, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(
            () -> RemoteJmx.start(0, new RemoteJmx.Security(passwords, null, null, false)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(passwords + " must be readable by its owner only");
    Path access = ownerOnly("a.access", "ops readwrite\n");
    assertThatThrownBy(() -> RemoteJmx.start(0, new RemoteJmx.Security(null, access, null, false)))
        .hasMessageContaining("needs a password file");
  }

  @Test
  void aTlsConnectorServesATlsClientOnly() throws Exception {
    Path keystore = dir.resolve("jmx.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "jmx",
                "-keyalg",
                "EC",
                "-dname",
                "CN=127.0.0.1",
                "-ext",
                "SAN=ip:127.0.0.1",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                keystore.toString(),
                "-storepass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    assertThat(keytool.waitFor(30, TimeUnit.SECONDS) && keytool.exitValue() == 0)
        .as("keytool: %s", new String(keytool.getInputStream().readAllBytes()))
        .isTrue();
    Path config =
        ownerOnly(
            "ssl.properties",
            "javax.net.ssl.keyStore="
                + keystore
                + "\njavax.net.ssl.keyStorePassword=changeit\n"
                + "javax.net.ssl.trustStore="
                + keystore
                + "\njavax.net.ssl.trustStorePassword=changeit\n");
    SSLContext tls = RemoteJmx.sslContext(config);
    SSLContext before = SSLContext.getDefault();
    // the client side: RMI's SSL socket factories use the default context, here one that trusts
    // the test's self-signed certificate
    SSLContext.setDefault(tls);
    try (RemoteJmx remote = RemoteJmx.start(0, new RemoteJmx.Security(null, null, tls, false))) {
      assertThatThrownBy(() -> JMXConnectorFactory.connect(remote.serviceUrl()).close())
          .as("a plain client")
          .isInstanceOf(IOException.class);
      try (JMXConnector c =
          JMXConnectorFactory.connect(
              remote.serviceUrl(),
              Map.of("com.sun.jndi.rmi.factory.socket", new SslRMIClientSocketFactory()))) {
        assertThat(c.getMBeanServerConnection().getMBeanCount()).isPositive();
      }
    } finally {
      SSLContext.setDefault(before);
    }
  }
}
