package io.dpcoord.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class LoadReportTest {

  @Test
  void percentilesUseTheNearestRank() {
    long[] nanos =
        LongStream.rangeClosed(1, 100).map(ms -> 101 - ms).map(ms -> ms * 1_000_000).toArray();

    LoadReport.Latency l = LoadReport.Latency.of(nanos, nanos.length);

    assertThat(l.count()).isEqualTo(100);
    assertThat(l.p50()).isEqualTo(50.0);
    assertThat(l.p90()).isEqualTo(90.0);
    assertThat(l.p99()).isEqualTo(99.0);
    assertThat(l.max()).isEqualTo(100.0);
  }

  @Test
  void p999IsTheSampleBelowTheTopThousandth() {
    long[] micros = LongStream.rangeClosed(1, 2000).map(us -> us * 1000).toArray();

    LoadReport.Latency l = LoadReport.Latency.of(micros, micros.length);

    assertThat(l.p99()).isEqualTo(1.980);
    assertThat(l.p999()).isEqualTo(1.998);
    assertThat(l.max()).isEqualTo(2.0);
  }

  @Test
  void noSamplesGiveZeros() {
    assertThat(LoadReport.Latency.of(new long[0], 0).max()).isZero();
  }

  @Test
  void okMeansNothingLostOrDuplicated() {
    LoadReport.Latency l = LoadReport.Latency.of(new long[] {1_000_000}, 1);
    TreeMap<Integer, Long> ranks = new TreeMap<>();
    ranks.put(0, 9L);

    LoadReport fine = new LoadReport(10, 9, 1, 0, 0, 0, 0, 0, 2_000_000_000L, l, ranks);
    LoadReport lost = new LoadReport(10, 9, 0, 1, 0, 0, 0, 0, 2_000_000_000L, l, ranks);
    LoadReport dup = new LoadReport(10, 10, 0, 0, 1, 0, 0, 0, 2_000_000_000L, l, ranks);

    assertThat(fine.ok()).isTrue();
    assertThat(fine.requestsPerSecond()).isEqualTo(5.0);
    assertThat(fine.format()).contains("failed 1").contains("5.0 req/s").contains("rank 0: 9");
    assertThat(lost.ok()).isFalse();
    assertThat(dup.ok()).isFalse();
  }
}
