package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LineChartTest {

  @Test
  void axesEndAtARoundNumberWithFourToSevenTicks() {
    LineChart.Axis ms = LineChart.Axis.upTo(1350);
    LineChart.Axis small = LineChart.Axis.upTo(0.3);
    LineChart.Axis empty = LineChart.Axis.upTo(0);

    assertThat(ms.max()).isEqualTo(1500);
    assertThat(ms.ticks()).containsExactly(0.0, 250.0, 500.0, 750.0, 1000.0, 1250.0, 1500.0);
    assertThat(ms.label().apply(1250)).isEqualTo("1250");
    assertThat(small.max()).isEqualTo(0.3, within(1e-12));
    assertThat(small.ticks()).hasSize(7);
    assertThat(small.label().apply(small.ticks().get(1))).isEqualTo("0.05");
    assertThat(empty.max()).isEqualTo(1.0, within(1e-12));
    for (double top : new double[] {0.7, 3, 17, 99, 101, 512, 4096, 12_345.6}) {
      LineChart.Axis a = LineChart.Axis.upTo(top);
      assertThat(a.max()).isGreaterThanOrEqualTo(top);
      assertThat(a.ticks()).hasSizeBetween(4, 7);
    }
  }

  @Test
  void percentAxisLabelsTicksAsPercentages() {
    LineChart.Axis p = LineChart.Axis.percent();

    assertThat(p.ticks()).hasSize(11);
    assertThat(p.label().apply(p.ticks().get(3))).isEqualTo("30%");
  }
}
