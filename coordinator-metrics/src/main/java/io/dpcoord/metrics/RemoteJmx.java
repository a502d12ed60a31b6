package io.dpcoord.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.rmi.NoSuchObjectException;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.RMIClientSocketFactory;
import java.rmi.server.RMIServerSocketFactory;
import java.rmi.server.UnicastRemoteObject;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.rmi.ssl.SslRMIClientSocketFactory;

/**
 * An RMI JMX connector server on 127.0.0.1 (for {@code serve --jmx-port}): port 0 picks a free one;
 * {@link #close()} stops it.
 *
 * <p>It serves the platform MBean server, so a console sees the JVM's own MBeans next to the {@code
 * dpcoord} domain. Connect with {@code jconsole 127.0.0.1:<port>} or the URL of {@link
 * #serviceUrl()}. Without {@link Security} there is no authentication and no TLS: anyone who can
 * open a loopback connection on this host can read and invoke MBeans. With it, as the JDK's own
 * agent does with {@code com.sun.management.jmxremote.password.file}, {@code .access.file}, {@code
 * .ssl} and {@code .ssl.config.file}, users log in from a password file, their rights come from an
 * access file, and the connection may be TLS. The connector never listens on another interface (use
 * an SSH tunnel to watch from elsewhere).
 *
 * <p>Design notes: the RMI registry and the connector's remote object share the one port, as the
 * JDK's own management agent does when {@code com.sun.management.jmxremote.rmi.port} equals the
 * registry port, so a tunnel needs one port only. Both are exported through one server socket
 * factory bound to the loopback address. For port 0 the factory binds a free port first and hands
 * that socket to the registry, so the port is explicit for RMI: an explicitly numbered RMI endpoint
 * closes its server socket when the last object on it is unexported, whereas the shared anonymous
 * endpoint of port 0 would stay open for the JVM's lifetime. RMI stubs carry the host named by the
 * system property {@code java.rmi.server.hostname}, by default this host's address, which the
 * loopback-only socket would refuse; so when the property is unset, {@link #start} sets it to
 * 127.0.0.1, and when it names a host that is not loopback it fails instead of handing out stubs
 * nobody can reach. With TLS the registry is served over TLS too (the JDK's {@code
 * com.sun.management.jmxremote.registry.ssl}), since it shares the connector's port: a client looks
 * it up with {@code com.sun.jndi.rmi.factory.socket} set to an {@link SslRMIClientSocketFactory}.
 */
public final class RemoteJmx implements AutoCloseable {
  private static final String HOSTNAME_PROPERTY = "java.rmi.server.hostname";
  private static final String LOOPBACK = "127.0.0.1";

  private final int port;
  private final JMXServiceURL serviceUrl;
  private final JMXConnectorServer connector;
  private final Registry registry;
  private final AtomicBoolean closed = new AtomicBoolean();

  private RemoteJmx(int port, JMXServiceURL serviceUrl, JMXConnectorServer connector, Registry r) {
    this.port = port;
    this.serviceUrl = serviceUrl;
    this.connector = connector;
    this.registry = r;
  }

  /**
   * Starts a connector server for the platform MBean server on 127.0.0.1.
   *
   * @param port the TCP port, or 0 for a free one chosen now (see {@link #port()})
   * @throws IllegalArgumentException if {@code port} is outside 0..65535
   * @throws IllegalStateException if {@code java.rmi.server.hostname} names a non-loopback host
   * @throws IOException if the port is taken or the connector cannot start
   */
  public static RemoteJmx start(int port) throws IOException {
    return start(port, Security.NONE);
  }

  /**
   * Who may use the connector, and whether it speaks TLS (see {@link RemoteJmx}).
   *
   * @param passwordFile users and passwords, one {@code user password} a line, readable by its
   *     owner only (as the JDK's agent requires); null: no login
   * @param accessFile {@code user readonly|readwrite} a line; null with a password file: the JDK's
   *     default ({@code $JAVA_HOME/conf/management/jmxremote.access}: monitorRole readonly,
   *     controlRole readwrite)
   * @param ssl the TLS context of the server socket, or null for plain TCP
   * @param needClientAuth whether clients must present a certificate the context trusts
   */
  public record Security(
      Path passwordFile, Path accessFile, SSLContext ssl, boolean needClientAuth) {
    /** No login, no TLS: loopback only. */
    public static final Security NONE = new Security(null, null, null, false);
  }

  /**
   * Starts a connector server as {@link #start(int)} does, with {@code security}.
   *
   * @throws IllegalArgumentException also if the password file is missing or readable by others
   *     than its owner, or an access file is given without a password file
   */
  public static RemoteJmx start(int port, Security security) throws IOException {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("JMX port must be in 0..65535, got " + port);
    }
    Map<String, Object> environment = environment(security);
    requireLoopbackStubs();
    LoopbackSockets sockets = new LoopbackSockets(port, security);
    int actualPort = sockets.port();
    Registry registry = null;
    try {
      RMIClientSocketFactory clients =
          security.ssl() == null ? null : new SslRMIClientSocketFactory();
      registry = LocateRegistry.createRegistry(actualPort, clients, sockets);
      JMXServiceURL serviceUrl =
          new JMXServiceURL(
              "service:jmx:rmi:///jndi/rmi://" + LOOPBACK + ":" + actualPort + "/jmxrmi");
      JMXServiceURL address =
          new JMXServiceURL(
              "service:jmx:rmi://"
                  + LOOPBACK
                  + ":"
                  + actualPort
                  + "/jndi/rmi://"
                  + LOOPBACK
                  + ":"
                  + actualPort
                  + "/jmxrmi");
      environment.put(RMIConnectorServer.RMI_SERVER_SOCKET_FACTORY_ATTRIBUTE, sockets);
      if (clients != null) {
        environment.put(RMIConnectorServer.RMI_CLIENT_SOCKET_FACTORY_ATTRIBUTE, clients);
        // the connector binds its stub into the registry, which speaks TLS too
        environment.put("com.sun.jndi.rmi.factory.socket", clients);
      }
      JMXConnectorServer connector =
          JMXConnectorServerFactory.newJMXConnectorServer(
              address, environment, ManagementFactory.getPlatformMBeanServer());
      connector.start();
      return new RemoteJmx(actualPort, serviceUrl, connector, registry);
    } catch (IOException | RuntimeException e) {
      if (registry != null) {
        unexportQuietly(registry);
      }
      sockets.closeUnused();
      throw e;
    }
  }

  /**
   * The connector's environment for {@code security}: the JDK's RMI connector reads the password
   * file ({@code jmx.remote.x.password.file}, through its file login module, which replaces
   * clear-text passwords by salted hashes when the file is writable) and the access file ({@code
   * jmx.remote.x.access.file}) itself.
   */
  private static Map<String, Object> environment(Security security) {
    Map<String, Object> environment = new HashMap<>();
    if (security.passwordFile() == null) {
      if (security.accessFile() != null) {
        throw new IllegalArgumentException(
            "a JMX access file needs a password file: without a login nobody has a name to look"
                + " up");
      }
      return environment;
    }
    Path passwords = security.passwordFile();
    checkPasswordFile(passwords);
    Path access =
        security.accessFile() != null
            ? security.accessFile()
            : Path.of(System.getProperty("java.home"), "conf", "management", "jmxremote.access");
    checkAccessFile(access);
    environment.put("jmx.remote.x.password.file", passwords.toString());
    environment.put("jmx.remote.x.access.file", access.toString());
    return environment;
  }

  /**
   * Refuses, as the JDK's agent does, a password file that cannot be read or that others than its
   * owner can read.
   *
   * @throws IllegalArgumentException starting with the file's name
   */
  public static void checkPasswordFile(Path file) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(file + " cannot be read");
    }
    try {
      Set<PosixFilePermission> modes = Files.getPosixFilePermissions(file);
      for (PosixFilePermission p : modes) {
        if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
          throw new IllegalArgumentException(
              file
                  + " must be readable by its owner only (chmod 600), as the JDK requires; it is "
                  + PosixFilePermissions.toString(modes));
        }
      }
    } catch (UnsupportedOperationException e) {
      // no POSIX modes here (Windows): the JDK checks ACLs there; nothing to compare
    } catch (IOException e) {
      throw new IllegalArgumentException(file + " cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * Refuses an access file that cannot be read.
   *
   * @throws IllegalArgumentException starting with the file's name
   */
  public static void checkAccessFile(Path file) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(file + " cannot be read");
    }
  }

  /**
   * The TLS context described by {@code file}, a properties file as the JDK's {@code
   * com.sun.management.jmxremote.ssl.config.file}: {@code javax.net.ssl.keyStore}, {@code
   * javax.net.ssl.keyStorePassword}, and optionally {@code javax.net.ssl.trustStore} and {@code
   * javax.net.ssl.trustStorePassword} (for client certificates); store types as {@code
   * javax.net.ssl.keyStoreType} and {@code javax.net.ssl.trustStoreType}, by default the JDK's
   * (PKCS12).
   *
   * @throws IllegalArgumentException naming the file and what is wrong with it
   */
  public static SSLContext sslContext(Path file) {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
    String keyStore = p.getProperty("javax.net.ssl.keyStore");
    if (keyStore == null) {
      throw new IllegalArgumentException(file + " has no javax.net.ssl.keyStore");
    }
    try {
      char[] keyPassword = password(p, "javax.net.ssl.keyStorePassword");
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store(p, "javax.net.ssl.keyStore", keyPassword), keyPassword);
      TrustManagerFactory trust = null;
      if (p.getProperty("javax.net.ssl.trustStore") != null) {
        trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(
            store(p, "javax.net.ssl.trustStore", password(p, "javax.net.ssl.trustStorePassword")));
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static char[] password(Properties p, String name) {
    String value = p.getProperty(name);
    return value == null ? null : value.toCharArray();
  }

  private static KeyStore store(Properties p, String name, char[] password)
      throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance(p.getProperty(name + "Type", KeyStore.getDefaultType()));
    try (InputStream in = Files.newInputStream(Path.of(p.getProperty(name)))) {
      store.load(in, password);
    }
    return store;
  }

  /** The port the connector listens on (the one chosen if started with 0). */
  public int port() {
    return port;
  }

  /** {@code service:jmx:rmi:///jndi/rmi://127.0.0.1:<port>/jmxrmi}, for JMXConnectorFactory. */
  public JMXServiceURL serviceUrl() {
    return serviceUrl;
  }

  /** Stops the connector and the registry, which frees the port. Idempotent; never throws. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        connector.stop();
      } catch (IOException | RuntimeException e) {
        // a client that went away mid-close; the registry is still unexported below
      }
      unexportQuietly(registry);
    }
  }

  @Override
  public String toString() {
    return "RemoteJmx{" + serviceUrl + (closed.get() ? ", closed}" : "}");
  }

  private static void requireLoopbackStubs() {
    String host = System.getProperty(HOSTNAME_PROPERTY);
    if (host == null || host.isEmpty()) {
      System.setProperty(HOSTNAME_PROPERTY, LOOPBACK);
      return;
    }
    boolean loopback;
    try {
      loopback = InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      loopback = false;
    }
    if (!loopback) {
      throw new IllegalStateException(
          HOSTNAME_PROPERTY
              + "="
              + host
              + " is not a loopback address, but the JMX connector listens on "
              + LOOPBACK
              + " only; unset it or set it to "
              + LOOPBACK);
    }
  }

  private static void unexportQuietly(Registry registry) {
    try {
      UnicastRemoteObject.unexportObject(registry, true);
    } catch (NoSuchObjectException e) {
      // already unexported
    }
  }

  /**
   * Server sockets bound to the loopback address. The first socket is bound eagerly, so that port 0
   * resolves to a real port before RMI sees it; RMI then asks for that port and gets it. Identity
   * equality (the default) is what lets RMI share one endpoint between the registry and the
   * connector.
   */
  private static final class LoopbackSockets implements RMIServerSocketFactory {
    private final Security security;
    private ServerSocket first;
    private final int port;

    LoopbackSockets(int port, Security security) throws IOException {
      this.security = security;
      this.first = open(port);
      this.port = first.getLocalPort();
    }

    private ServerSocket open(int port) throws IOException {
      if (security.ssl() == null) {
        return new ServerSocket(port, 0, InetAddress.getLoopbackAddress());
      }
      SSLServerSocket socket =
          (SSLServerSocket)
              security
                  .ssl()
                  .getServerSocketFactory()
                  .createServerSocket(port, 0, InetAddress.getLoopbackAddress());
      socket.setNeedClientAuth(security.needClientAuth());
      return socket;
    }

    int port() {
      return port;
    }

    @Override
    public synchronized ServerSocket createServerSocket(int requested) throws IOException {
      if (first != null && requested == port) {
        ServerSocket socket = first;
        first = null;
        return socket;
      }
      return open(requested);
    }

    synchronized void closeUnused() {
      if (first != null) {
        try {
          first.close();
        } catch (IOException e) {
          // nothing to do: the socket was never used
        }
        first = null;
      }
    }
  }
}
