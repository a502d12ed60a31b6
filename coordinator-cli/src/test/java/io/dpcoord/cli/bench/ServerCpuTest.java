package io.dpcoord.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ServerCpuTest {

  @Test
  void aSampleSurvivesItsLineAndOtherIsWhatTheGroupsLeave() {
    ServerCpu cpu = new ServerCpu(10, 20, 30, 40, 50, 1000);

    ServerCpu back = ServerCpu.parse(cpu.format());

    assertThat(back).isEqualTo(cpu);
    assertThat(back.other()).isEqualTo(1000 - 150);
  }

  @Test
  void minusSubtractsEveryGroup() {
    ServerCpu later = new ServerCpu(11, 22, 33, 44, 55, 1100);

    ServerCpu used = later.minus(new ServerCpu(10, 20, 30, 40, 50, 1000));

    assertThat(used).isEqualTo(new ServerCpu(1, 2, 3, 4, 5, 100));
  }

  @Test
  void aLineWithoutSixTimesIsRefused() {
    assertThatThrownBy(() -> ServerCpu.parse("1 2 3 4 5"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 2 3 4 5");
  }
}
