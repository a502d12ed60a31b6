package io.dpcoord.tests;

import io.dpcoord.metrics.Metric;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import javax.management.JMException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * A coordinator's metrics read through a real JMX connection ({@code serve --jmx-port}), by the
 * names docs/OBSERVABILITY.md documents: {@code dpcoord:type=<Counter|Gauge|Histogram|Timer>,
 * name=<metric>,coordinator=<tag>}, attributes {@code Count} and {@code Value}.
 */
final class RemoteMetrics implements AutoCloseable {
  private final JMXConnector connector;
  private final MBeanServerConnection server;
  private final String tag;

  private RemoteMetrics(JMXConnector connector, String tag) throws IOException {
    this.connector = connector;
    this.server = connector.getMBeanServerConnection();
    this.tag = tag;
  }

  /** A loopback port that was free a moment ago (bound to port 0, read, closed). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The URL a JMX console connects to for {@code --jmx-port port}. */
  static String serviceUrl(int port) {
    return "service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi";
  }

  /**
   * Connects to the connector of {@code --jmx-port port}, reading the MBeans tagged {@code tag}.
   */
  static RemoteMetrics connect(int port, String tag) throws IOException {
    return new RemoteMetrics(JMXConnectorFactory.connect(new JMXServiceURL(serviceUrl(port))), tag);
  }

  /** {@code Count} of a counter, histogram or timer. */
  long count(Metric metric) {
    return ((Number) attribute(metric, "Count")).longValue();
  }

  /** {@code Value} of a gauge. */
  double value(Metric gauge) {
    return ((Number) attribute(gauge, "Value")).doubleValue();
  }

  /** An attribute of the Coordinator MBean, {@code dpcoord:type=Coordinator,coordinator=<tag>}. */
  Object summary(String attribute) {
    try {
      return attribute(new ObjectName("dpcoord:type=Coordinator,coordinator=" + tag), attribute);
    } catch (JMException e) {
      throw new AssertionError(e);
    }
  }

  private Object attribute(Metric metric, String attribute) {
    try {
      return attribute(objectName(metric), attribute);
    } catch (JMException e) {
      throw new AssertionError(e);
    }
  }

  private Object attribute(ObjectName name, String attribute) {
    try {
      return server.getAttribute(name, attribute);
    } catch (JMException e) {
      throw new AssertionError("cannot read " + attribute + " of " + name, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private ObjectName objectName(Metric metric) throws JMException {
    String kind =
        switch (metric.type()) {
          case COUNTER -> "Counter";
          case GAUGE -> "Gauge";
          case HISTOGRAM -> metric.seconds() ? "Timer" : "Histogram";
        };
    return new ObjectName(
        "dpcoord:type=" + kind + ",name=" + metric.metricName() + ",coordinator=" + tag);
  }

  /** Closes the connection; a coordinator that has already stopped is not an error. */
  @Override
  public void close() {
    try {
      connector.close();
    } catch (IOException e) {
      // the server side is gone (the process stopped): nothing is left open here
    }
  }
}
