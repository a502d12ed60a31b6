package io.dpcoord.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.LoadConfig;
import io.dpcoord.sim.LoadGenerator;
import io.dpcoord.sim.LoadReport;
import io.dpcoord.sim.SimulatedEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class BareForwarderTest {
  private static final int ENGINES = 3;

  @Test
  void everyRequestIsAnsweredOnceThroughTheForwarder() throws Exception {
    LoadConfig load = LoadConfig.builder().requests(2_000).concurrency(32).build();

    Run run = through(load);

    assertThat(run.report.completed()).isEqualTo(2_000);
    assertThat(run.report.ok()).isTrue();
    assertThat(run.report.failed()).isZero();
    assertThat(run.report.unknownIds()).isZero();
    assertThat(run.report.invalidFrames()).isZero();
    // fewest pending first: every engine served some, and the engines' counts add up
    assertThat(run.report.perRank()).hasSize(ENGINES);
    assertThat(run.report.perRank().values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(2_000);
    assertThat(run.served).isEqualTo(2_000);
    assertThat(run.invalidAtEngines).isZero();
  }

  @Test
  void partialRepliesReachTheClientAndTheFinalOneStillComes() throws Exception {
    // 16 generated tokens in chunks of 4: three partial replies before each final one
    LoadConfig load = LoadConfig.builder().requests(300).concurrency(16).stream(true).build();

    Run run = through(load);

    assertThat(run.report.completed()).isEqualTo(300);
    assertThat(run.report.ok()).isTrue();
    assertThat(run.report.partials()).isEqualTo(3 * 300);
  }

  private record Run(LoadReport report, long served, long invalidAtEngines) {}

  private static Run through(LoadConfig load) throws Exception {
    List<SimulatedEngine> engines = new ArrayList<>();
    try (BareForwarder forwarder = BareForwarder.start()) {
      for (int rank = 0; rank < ENGINES; rank++) {
        engines.add(
            SimulatedEngine.start(
                forwarder.endpoint(), EngineConfig.builder(rank).base(Duration.ZERO).build()));
      }
      assertThat(forwarder.awaitEngines(ENGINES, 10_000)).isTrue();

      LoadReport report = new LoadGenerator(forwarder.endpoint(), load).run();

      long served = engines.stream().mapToLong(e -> e.stats().served()).sum();
      long invalid = engines.stream().mapToLong(e -> e.stats().invalidFrames()).sum();
      assertThat(forwarder.dropped()).isZero();
      return new Run(report, served, invalid);
    } finally {
      engines.forEach(SimulatedEngine::close);
    }
  }
}
