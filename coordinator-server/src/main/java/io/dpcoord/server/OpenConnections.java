package io.dpcoord.server;

import java.net.InetAddress;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The ROUTER socket's open connections, by peer address, from its monitor's ACCEPTED and
 * DISCONNECTED events; used by the ZAP handler's thread only. A connection that ZMQ closes without
 * a DISCONNECTED event (an engine torn down without an error) is found closed before a limit
 * refuses anyone, so the counts never drift upwards.
 */
final class OpenConnections {
  private final Map<SocketChannel, InetAddress> open = new HashMap<>();
  private final Map<InetAddress, Integer> perAddress = new HashMap<>();

  /** A connection was accepted. */
  void accepted(SocketChannel channel) {
    // still known after the channel closes ("continues to return the connected address")
    InetAddress address = channel.socket().getInetAddress();
    if (address != null && open.putIfAbsent(channel, address) == null) {
      perAddress.merge(address, 1, Integer::sum);
    }
  }

  /** A connection ended. */
  void closed(SocketChannel channel) {
    InetAddress address = open.remove(channel);
    if (address != null) {
      decrement(address);
    }
  }

  private void decrement(InetAddress address) {
    perAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
  }

  /** Open connections, all addresses. */
  int total() {
    return open.size();
  }

  /** Open connections from {@code address}. */
  int from(InetAddress address) {
    return perAddress.getOrDefault(address, 0);
  }

  /** Forgets connections that closed without an event. */
  void forgetClosed() {
    for (Iterator<SocketChannel> i = open.keySet().iterator(); i.hasNext(); ) {
      SocketChannel channel = i.next();
      if (!channel.isOpen()) {
        decrement(open.get(channel));
        i.remove();
      }
    }
  }
}
