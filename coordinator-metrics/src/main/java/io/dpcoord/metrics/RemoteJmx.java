package io.dpcoord.metrics;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.rmi.NoSuchObjectException;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.RMIServerSocketFactory;
import java.rmi.server.UnicastRemoteObject;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;

/**
 * An RMI JMX connector server on 127.0.0.1 (for {@code serve --jmx-port}): port 0 picks a free one;
 * {@link #close()} stops it.
 *
 * <p>It serves the platform MBean server, so a console sees the JVM's own MBeans next to the {@code
 * dpcoord} domain. Connect with {@code jconsole 127.0.0.1:<port>} or the URL of {@link
 * #serviceUrl()}. There is no authentication and no TLS: anyone who can open a loopback connection
 * on this host can read and invoke MBeans, which is why the connector never listens on another
 * interface (use an SSH tunnel to watch from elsewhere).
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
 * nobody can reach.
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
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("JMX port must be in 0..65535, got " + port);
    }
    requireLoopbackStubs();
    LoopbackSockets sockets = new LoopbackSockets(port);
    int actualPort = sockets.port();
    Registry registry = null;
    try {
      registry = LocateRegistry.createRegistry(actualPort, null, sockets);
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
      Map<String, Object> environment =
          Map.of(RMIConnectorServer.RMI_SERVER_SOCKET_FACTORY_ATTRIBUTE, sockets);
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
    private ServerSocket first;
    private final int port;

    LoopbackSockets(int port) throws IOException {
      this.first = new ServerSocket(port, 0, InetAddress.getLoopbackAddress());
      this.port = first.getLocalPort();
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
      return new ServerSocket(requested, 0, InetAddress.getLoopbackAddress());
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
