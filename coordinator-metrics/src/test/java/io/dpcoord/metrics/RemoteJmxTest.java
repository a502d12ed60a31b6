package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RemoteJmxTest {

  @Test
  void portZeroPicksAFreePortServingThePlatformMBeans() throws Exception {
    try (RemoteJmx remote = RemoteJmx.start(0)) {
      assertThat(remote.port()).isPositive();
      assertThat(remote.serviceUrl())
          .isEqualTo(
              new JMXServiceURL(
                  "service:jmx:rmi:///jndi/rmi://127.0.0.1:" + remote.port() + "/jmxrmi"));
      try (JMXConnector connector = JMXConnectorFactory.connect(remote.serviceUrl())) {
        Object vmName =
            connector
                .getMBeanServerConnection()
                .getAttribute(new ObjectName("java.lang:type=Runtime"), "VmName");
        assertThat(vmName).isEqualTo(ManagementFactory.getRuntimeMXBean().getVmName());
      }
    }
  }

  @Test
  void closeStopsTheConnectorAndFreesThePort() throws Exception {
    RemoteJmx remote = RemoteJmx.start(0);
    int port = remote.port();
    JMXServiceURL url = remote.serviceUrl();
    remote.close();
    remote.close(); // idempotent

    assertThatThrownBy(() -> JMXConnectorFactory.connect(url).close())
        .isInstanceOf(IOException.class);
    // RMI closes the listening socket asynchronously: poll, with a deadline, until the same
    // port can be served again
    try (RemoteJmx again = startWithin(port, Duration.ofSeconds(20))) {
      assertThat(again.port()).isEqualTo(port);
      try (JMXConnector connector = JMXConnectorFactory.connect(again.serviceUrl())) {
        assertThat(connector.getMBeanServerConnection().getMBeanCount()).isPositive();
      }
    }
  }

  private static RemoteJmx startWithin(int port, Duration timeout) throws Exception {
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      try {
        return RemoteJmx.start(port);
      } catch (IOException stillBound) {
        if (Instant.now().isAfter(deadline)) {
          throw stillBound;
        }
        Thread.onSpinWait();
      }
    }
  }

  @Test
  void aTakenPortFailsWithIOException() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(() -> RemoteJmx.start(taken.getLocalPort()))
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void portsOutsideTheTcpRangeAreRejected() {
    assertThatThrownBy(() -> RemoteJmx.start(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("JMX port must be in 0..65535, got -1");
    assertThatThrownBy(() -> RemoteJmx.start(65536))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("JMX port must be in 0..65535, got 65536");
  }

  @Test
  void aNonLoopbackRmiHostnameIsRefusedBeforeAnythingStarts() {
    String property = "java.rmi.server.hostname";
    String previous = System.getProperty(property);
    System.setProperty(property, "192.0.2.1");
    try {
      assertThatThrownBy(() -> RemoteJmx.start(0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("java.rmi.server.hostname=192.0.2.1 is not a loopback address");
    } finally {
      if (previous == null) {
        System.clearProperty(property);
      } else {
        System.setProperty(property, previous);
      }
    }
  }
}
