package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.BindException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class CoordinatorTest {

  @Test
  void bindsAnEphemeralLoopbackPortAndReportsIt() throws Exception {
    try (Coordinator c = Coordinator.start(CoordinatorConfig.builder().build())) {
      assertThat(c.endpoint()).startsWith("tcp://127.0.0.1:");
      assertThat(c.port()).isPositive();
      assertThat(c.status().awaitStarted(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void aTakenPortIsABindExceptionNamingThePort() throws Exception {
    try (Coordinator first = Coordinator.start(CoordinatorConfig.builder().build())) {
      int port = first.port();
      assertThatThrownBy(() -> Coordinator.start(CoordinatorConfig.builder().port(port).build()))
          .isInstanceOf(BindException.class)
          .hasMessageContaining("port " + port);
    }
  }

  @Test
  void shutdownStopsTheLoopAndFreesThePort() throws Exception {
    Coordinator c = Coordinator.start(CoordinatorConfig.builder().build());
    int port = c.port();
    c.shutdown();
    assertThat(c.awaitTermination(Duration.ofSeconds(10))).isTrue();
    assertThat(c.isTerminated()).isTrue();
    try (Coordinator again = Coordinator.start(CoordinatorConfig.builder().port(port).build())) {
      assertThat(again.port()).isEqualTo(port);
    }
  }

  @Test
  void waitsForItsStartUpEngines() throws Exception {
    try (Coordinator c =
        Coordinator.start(CoordinatorConfig.builder().expectedEngines(2).build())) {
      assertThat(c.status().started()).isFalse();
      assertThat(c.status().activeEngines()).isZero();
    }
  }
}
