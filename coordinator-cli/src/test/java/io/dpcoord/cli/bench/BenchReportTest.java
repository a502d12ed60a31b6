package io.dpcoord.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.sim.LoadReport;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class BenchReportTest {
  private static final LoadBench.Case FORWARDER = new LoadBench.Case(Target.FORWARDER, 256, null);
  private static final LoadBench.Case ROUTED = new LoadBench.Case(Target.COORDINATOR, 256, true);

  /** A run of 1,000 requests whose server took {@code processMicros} µs a request in all. */
  private static BenchRow row(LoadBench.Case c, int round, double processMicros, double p99) {
    long nanos = Math.round(processMicros * 1000 * 1000);
    return row(c, round, new ServerCpu(nanos / 2, nanos / 4, 0, 0, 0, nanos), p99);
  }

  /** A run of 1,000 requests in one second whose server used {@code cpu}. */
  private static BenchRow row(LoadBench.Case c, int round, ServerCpu cpu, double p99) {
    LoadReport.Latency latency = new LoadReport.Latency(1000, 1, 2, p99, 2 * p99, 3 * p99);
    LoadReport report =
        new LoadReport(1000, 1000, 0, 0, 0, 0, 0, 0, 1_000_000_000L, latency, new TreeMap<>());
    return new BenchRow(c, round, 1000, report, cpu, 0);
  }

  @Test
  void theSummaryGivesMediansAndRangesAndTheRatioWithinEachRound() {
    // hand computation: coordinator 30, 24, 33 µs against the forwarder's 20, 12, 20 in rounds 1
    // to 3: ratios 1.50, 2.00, 1.65 (median 1.65), whereas the medians' ratio would be 30 / 20
    List<BenchRow> rows =
        List.of(
            row(FORWARDER, 1, 20, 4),
            row(ROUTED, 1, 30, 5),
            row(FORWARDER, 2, 12, 6),
            row(ROUTED, 2, 24, 7),
            row(FORWARDER, 3, 20, 5),
            row(ROUTED, 3, 33, 9));

    List<String> lines = BenchReport.summary(rows).lines().toList();

    assertThat(lines).hasSize(2 + 2);
    assertThat(lines.get(0))
        .startsWith(
            "| target | prompt tokens | routing | rounds | requests/s | CPU µs/req | loop |")
        .endsWith("| vs forwarder | added p50 µs | added p99 µs | added p99.9 µs |");
    assertThat(lines.get(1)).startsWith("|---|---|---|--:|--:|");
    assertThat(lines.get(2))
        .isEqualTo(
            "| forwarder | 256 | - | 3 | 1000 (1000 to 1000) | 20.0 (12.0 to 20.0) | 10.0 (6.0 to"
                + " 10.0) | 5.0 (3.0 to 5.0) | 0.0 (0.0 to 0.0) | 0.0 (0.0 to 0.0) | 0.0 (0.0 to 0.0)"
                + " | 5.0 (3.0 to 5.0) | 1.00 (1.00 to 1.00) | 1000 (1000 to 1000) | 5000 (4000 to"
                + " 6000) | 10000 (8000 to 12000) |");
    assertThat(lines.get(3))
        .startsWith("| coordinator | 256 | on | 3 | 1000 (1000 to 1000) | 30.0 (24.0 to 33.0) |")
        .contains("| 1.65 (1.50 to 2.00) |")
        .endsWith("| 7000 (5000 to 9000) | 14000 (10000 to 18000) |");
  }

  @Test
  void anEvenNumberOfRoundsTakesTheMeanOfTheMiddleTwo() {
    List<BenchRow> rows =
        List.of(
            row(ROUTED, 1, 30, 5),
            row(ROUTED, 2, 10, 5),
            row(ROUTED, 3, 21, 5),
            row(ROUTED, 4, 40, 5));

    String line = BenchReport.summary(rows).lines().toList().get(2);

    // sorted 10, 21, 30, 40: (21 + 30) / 2 = 25.5; without a forwarder, no ratio
    assertThat(line)
        .startsWith("| coordinator | 256 | on | 4 | 1000 (1000 to 1000) | 25.5 (10.0 to 40.0) |");
    assertThat(line).contains("|  |");
  }

  @Test
  void eachRunIsComparedWithTheForwarderOfItsOwnRound() {
    List<BenchRow> rows =
        List.of(
            row(FORWARDER, 1, 20, 4),
            row(ROUTED, 1, 30, 5),
            row(FORWARDER, 2, 10, 4),
            row(ROUTED, 2, 30, 5));

    List<String> csv = BenchReport.csv(rows).lines().toList();

    assertThat(csv.get(0))
        .endsWith(",cpu_vs_forwarder,added_p50_us,added_p99_us,added_p999_us,round");
    assertThat(csv.get(2)).startsWith("coordinator,256,on,1000,").contains(",1.50,").endsWith(",1");
    assertThat(csv.get(4)).startsWith("coordinator,256,on,1000,").contains(",3.00,").endsWith(",2");
    assertThat(BenchReport.table(rows).lines().toList().get(5))
        .startsWith("| coordinator | 256 | on | 1000 | 1000 | 30.0 |")
        .contains("| 3.00 |")
        .endsWith("| 2 |");
  }

  @Test
  void aTimeThatRoundsToZeroPrintsWithoutASign() {
    // the process sampled 30 ns short of its groups' sum: other is -0.00003 µs a request
    BenchRow row = row(ROUTED, 1, new ServerCpu(2_000_000, 1_000_000, 0, 0, 0, 2_999_970), 5);

    String line = BenchReport.csv(List.of(row)).lines().toList().get(1);

    // target, tokens, routing, requests, rate, total 3.0, loop 2.0, I/O 1.0, workers, GC, JIT,
    // other
    assertThat(line).startsWith("coordinator,256,on,1000,1000,3.0,2.0,1.0,0.0,0.0,0.0,0.0,");
  }
}
