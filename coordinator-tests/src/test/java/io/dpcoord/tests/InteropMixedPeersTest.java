package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.LoadConfig;
import io.dpcoord.sim.LoadGenerator;
import io.dpcoord.sim.LoadReport;
import io.dpcoord.sim.SimulatedEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Python peers and Java peers on one coordinator: either side can be the Megatron one. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropMixedPeersTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private InteropPython python;
  private Coordinator coordinator;
  private final List<SimulatedEngine> javaEngines = new ArrayList<>();

  @AfterEach
  void tearDown() {
    if (python != null) {
      python.close();
    }
    javaEngines.forEach(SimulatedEngine::kill);
    if (coordinator != null) {
      coordinator.close();
    }
  }

  @Test
  void pythonClientIsServedBySimulatedEngines() throws Exception {
    python = InteropPython.in(dir);
    coordinator = Coordinator.start(CoordinatorConfig.builder().expectedEngines(2).build());
    for (int rank = 0; rank < 2; rank++) {
      javaEngines.add(
          SimulatedEngine.start(
              coordinator.endpoint(),
              EngineConfig.builder(rank)
                  .extensionFields(false) // a deserializing Megatron client rejects unknown keys
                  .base(Duration.ZERO)
                  .perPromptToken(Duration.ZERO)
                  .perGeneratedToken(Duration.ofNanos(20_000))
                  .build()));
    }
    assertThat(coordinator.status().awaitStarted(WAIT)).as("engines registered").isTrue();

    InteropProcess client =
        python.client(
            "client",
            coordinator.endpoint(),
            "requests",
            "--batches",
            "100,50",
            "--stream-every",
            "4");
    client.awaitExit(0, WAIT);

    List<InteropProcess.Event> replies = client.events("reply");
    assertThat(replies).hasSize(150).allMatch(e -> e.get("status").equals("COMPLETED"));
    assertThat(replies.stream().map(e -> e.getLong("cid")).distinct()).hasSize(150);
    assertThat(client.events("partial")).isNotEmpty();
    long served = 0;
    for (SimulatedEngine engine : javaEngines) {
      served += engine.stats().served();
      assertThat(engine.stats().invalidFrames()).as("%s invalid frames", engine).isZero();
    }
    assertThat(served).isEqualTo(150);
  }

  @Test
  void loadGeneratorIsServedByPythonEngines() throws Exception {
    python = InteropPython.in(dir);
    coordinator = Coordinator.start(CoordinatorConfig.builder().expectedEngines(3).build());
    List<InteropProcess> engines = python.engines(coordinator, 3, WAIT);

    LoadReport report =
        new LoadGenerator(
                coordinator.endpoint(),
                LoadConfig.builder()
                    .requests(300)
                    .concurrency(32)
                    .systemPrompts(4)
                    .systemTokens(64)
                    .suffixTokens(16)
                    .generatedTokens(6)
                    .stream(true)
                    .idleTimeout(Duration.ofSeconds(10))
                    .build())
            .run();
    engines.forEach(InteropProcess::close); // all their output is read once they are gone

    assertThat(report.sent()).isEqualTo(300);
    assertThat(report.completed()).isEqualTo(300);
    assertThat(report.failed()).isZero();
    assertThat(report.lost()).isZero();
    assertThat(report.duplicated()).isZero();
    assertThat(report.unknownIds()).isZero();
    assertThat(report.invalidFrames()).isZero();
    int finals = 0;
    int partials = 0;
    for (InteropProcess engine : engines) {
      finals += engine.events("reply").size();
      partials += engine.events("partial").size();
    }
    assertThat(finals).isEqualTo(300);
    assertThat(report.partials()).isEqualTo(partials).isEqualTo(300);
  }
}
