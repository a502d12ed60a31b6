package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class EnginesTest {
  private final Router router = new Router(RouterConfig.builder().build());

  private static Peer peer(String name) {
    return new Peer(name.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void startUpEnginesWaitThenTakeTheUnsignedByteRankOrder() {
    Engines engines = new Engines(router, 3);
    Peer two = peer("mp-coord-2");
    Peer ten = peer("mp-coord-10");
    Peer one = peer("mp-coord-1");

    assertThat(engines.register(two)).isEqualTo(-1);
    assertThat(engines.register(two)).as("a repeat does not count twice").isEqualTo(-1);
    assertThat(engines.register(ten)).isEqualTo(-1);
    assertThat(engines.started()).isFalse();
    assertThat(engines.activeCount()).isZero();
    assertThat(engines.idOf(two)).as("not routable while waiting").isEqualTo(-1);
    assertThat(engines.isEngine(two)).isTrue();

    engines.register(one);

    assertThat(engines.started()).isTrue();
    assertThat(engines.activeCount()).isEqualTo(3);
    assertThat(engines.active()).containsExactly(one, ten, two);
    for (Peer p : engines.active()) {
      assertThat(engines.peerOf(engines.idOf(p))).isEqualTo(p);
    }
  }

  @Test
  void aStartUpEngineThatLeavesIsNotRanked() {
    Engines engines = new Engines(router, 2);
    Peer a = peer("a");
    Peer b = peer("b");
    Peer c = peer("c");
    engines.register(a);
    assertThat(engines.remove(a, "disconnected", true)).isEqualTo(-1);
    engines.register(b);
    assertThat(engines.started()).isFalse();

    engines.register(c);

    assertThat(engines.active()).containsExactly(b, c);
    assertThat(engines.isEngine(a)).as("a former engine is still no client").isTrue();
    assertThat(engines.idOf(a)).isEqualTo(-1);
  }

  @Test
  void aRestartKeepsTheRankUnderANewIdAndReportsTheOldOne() {
    Engines engines = new Engines(router, 0);
    Peer a = peer("a");
    Peer b = peer("b");
    engines.register(a);
    engines.register(b);
    int old = engines.idOf(a);

    assertThat(engines.register(a)).isEqualTo(old);

    int now = engines.idOf(a);
    assertThat(now).isNotEqualTo(old);
    assertThat(engines.peerOf(now)).isEqualTo(a);
    assertThat(engines.peerOf(old)).isNull();
    assertThat(engines.active()).containsExactly(a, b);
    assertThat(router.rankOf(now)).isZero();
  }

  @Test
  void aRemovedEngineLeavesRoutingAndComesBackLastUnderANewId() {
    Engines engines = new Engines(router, 0);
    Peer a = peer("a");
    Peer b = peer("b");
    engines.register(a);
    engines.register(b);
    int id = engines.idOf(a);

    assertThat(engines.remove(a, "unreachable", false)).isEqualTo(id);
    assertThat(engines.remove(a, "unreachable", false)).as("only once").isEqualTo(-1);
    assertThat(engines.remove(peer("stranger"), "disconnected", true)).isEqualTo(-1);
    assertThat(engines.idOf(a)).isEqualTo(-1);
    assertThat(engines.peerOf(id)).isNull();
    assertThat(engines.active()).containsExactly(b);

    assertThat(engines.register(a)).as("a return is no restart").isEqualTo(-1);
    assertThat(engines.idOf(a)).isNotEqualTo(id);
    assertThat(engines.active()).containsExactly(b, a);
  }

  @Test
  void onlyAnEngineWhoseConnectionDroppedRejoinsWhenItSpeaksAgain() {
    Engines engines = new Engines(router, 0);
    Peer dropped = peer("dropped");
    Peer left = peer("left");
    Peer unreachable = peer("unreachable");
    Peer active = peer("active");
    for (Peer p : List.of(dropped, left, unreachable, active)) {
      engines.register(p);
    }
    engines.remove(dropped, "disconnected", true);
    engines.remove(left, "disconnected", false);
    engines.remove(unreachable, "unreachable", false);

    assertThat(engines.rejoinIfReconnected(left)).isFalse();
    assertThat(engines.rejoinIfReconnected(unreachable)).isFalse();
    assertThat(engines.rejoinIfReconnected(active)).as("already routable").isFalse();
    assertThat(engines.rejoinIfReconnected(peer("stranger"))).isFalse();
    assertThat(engines.rejoinIfReconnected(dropped)).isTrue();
    assertThat(engines.rejoinIfReconnected(dropped)).as("only once").isFalse();

    assertThat(engines.active()).containsExactly(active, dropped);
    assertThat(engines.idOf(dropped)).isNotNegative();
    assertThat(engines.idOf(left)).isEqualTo(-1);
  }
}
