package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Counting open connections by address, over real loopback TCP connections. */
@Timeout(20)
class OpenConnectionsTest {
  private final List<AutoCloseable> opened = new ArrayList<>();
  private ServerSocketChannel server;

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : opened) {
      c.close();
    }
    if (server != null) {
      server.close();
    }
  }

  /** The accepted side of a new connection from {@code source} (an address in 127.0.0.0/8). */
  private SocketChannel accept(String source) throws IOException {
    if (server == null) {
      server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
    }
    SocketChannel client = SocketChannel.open();
    opened.add(client);
    client.bind(new InetSocketAddress(source, 0));
    client.connect(server.getLocalAddress());
    SocketChannel accepted = server.accept();
    opened.add(accepted);
    return accepted;
  }

  @Test
  void countsByAddressAndForgetsWhatClosedWithOrWithoutAnEvent() throws Exception {
    OpenConnections open = new OpenConnections();
    InetAddress one = InetAddress.getByName("127.0.0.1");
    InetAddress two = InetAddress.getByName("127.0.0.2");
    SocketChannel a = accept("127.0.0.1");
    SocketChannel b = accept("127.0.0.1");
    SocketChannel c = accept("127.0.0.2");
    open.accepted(a);
    open.accepted(b);
    open.accepted(c);
    open.accepted(c); // the same connection twice counts once
    assertThat(open.total()).isEqualTo(3);
    assertThat(open.from(one)).isEqualTo(2);
    assertThat(open.from(two)).isEqualTo(1);

    a.close();
    open.closed(a);
    open.closed(a); // a second event changes nothing
    assertThat(open.from(one)).isEqualTo(1);

    b.close(); // no event: still counted until the closed ones are forgotten
    assertThat(open.from(one)).isEqualTo(1);
    open.forgetClosed();
    assertThat(open.from(one)).isZero();
    assertThat(open.from(two)).isEqualTo(1);
    assertThat(open.total()).isEqualTo(1);
  }
}
