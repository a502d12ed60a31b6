package io.dpcoord.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadBenchTest {

  @Test
  void theForwarderRunsOncePerPromptLengthAndTheCoordinatorPerRoutingSetting() {
    LoadBench.Config config =
        new LoadBench.Config(
            List.of(256, 2048),
            List.of(true, false),
            List.of(Target.FORWARDER, Target.COORDINATOR),
            1000,
            100,
            64,
            4,
            Duration.ZERO,
            0,
            1,
            null,
            List.of());

    assertThat(config.cases())
        .extracting(c -> c.target().cliName() + " " + c.promptTokens() + " " + c.routingName())
        .containsExactly(
            "forwarder 256 -",
            "coordinator 256 on",
            "coordinator 256 off",
            "forwarder 2048 -",
            "coordinator 2048 on",
            "coordinator 2048 off");
  }

  @Test
  void theCoordinatorWithoutMetricsIsATargetOfItsOwnThatRunsPerRoutingSetting() {
    assertThat(Target.parse(" Coordinator-No-Metrics")).isEqualTo(Target.COORDINATOR_NO_METRICS);
    LoadBench.Config config =
        new LoadBench.Config(
            List.of(256),
            List.of(true),
            List.of(Target.COORDINATOR, Target.COORDINATOR_NO_METRICS),
            1000,
            100,
            64,
            4,
            Duration.ZERO,
            0,
            1,
            null,
            List.of());
    assertThat(config.cases())
        .extracting(c -> c.target().cliName() + " " + c.routingName())
        .containsExactly("coordinator on", "coordinator-no-metrics on");
    assertThatThrownBy(() -> Target.parse("router"))
        .hasMessage(
            "unknown target 'router' (choices: coordinator, coordinator-no-metrics, forwarder,"
                + " megatron)");
  }

  @Test
  void longerPromptsGetFewerRequests() {
    assertThat(LoadBench.Config.requestsFor(40_000, 64)).isEqualTo(40_000);
    assertThat(LoadBench.Config.requestsFor(40_000, 256)).isEqualTo(40_000);
    assertThat(LoadBench.Config.requestsFor(40_000, 1024)).isEqualTo(20_000);
    assertThat(LoadBench.Config.requestsFor(40_000, 4096)).isEqualTo(10_000);
    assertThat(LoadBench.Config.requestsFor(1, 8192)).isEqualTo(1);
  }
}
