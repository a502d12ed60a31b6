package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PeerTest {
  @Test
  void equalIdentitiesAreOneKey() {
    Set<Peer> peers = new HashSet<>();
    peers.add(new Peer("mp-coord-0".getBytes(StandardCharsets.US_ASCII)));
    peers.add(new Peer("mp-coord-0".getBytes(StandardCharsets.US_ASCII)));
    peers.add(new Peer("mp-coord-1".getBytes(StandardCharsets.US_ASCII)));
    assertThat(peers).hasSize(2);
  }

  @Test
  void printsEngineNamesAsTextAndZmqIdentitiesAsHex() {
    assertThat(new Peer("mp-coord-3".getBytes(StandardCharsets.US_ASCII)))
        .hasToString("mp-coord-3");
    assertThat(new Peer(new byte[] {0, 0x6b, (byte) 0x8b, 0x45, 0x67})).hasToString("0x006b8b4567");
  }
}
