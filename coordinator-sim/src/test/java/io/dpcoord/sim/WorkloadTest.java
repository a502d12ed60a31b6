package io.dpcoord.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WorkloadTest {

  @Test
  void theSameSeedGivesTheSamePrompts() {
    Workload a = new Workload(4, 64, 16, 42);
    Workload b = new Workload(4, 64, 16, 42);

    for (int i = 0; i < 100; i++) {
      assertThat(a.next()).containsExactly(b.next());
    }
  }

  @Test
  void promptsShareOneOfTheSystemPromptsAndEndInAUniqueSuffix() {
    Workload w = new Workload(3, 64, 16, 7);
    Set<String> heads = new HashSet<>();
    Set<String> tails = new HashSet<>();

    for (int i = 0; i < 300; i++) {
      long[] p = w.next();
      assertThat(p).hasSize(80);
      assertThat(Arrays.stream(p).min().getAsLong()).isGreaterThanOrEqualTo(1);
      assertThat(Arrays.stream(p).max().getAsLong()).isLessThan(Workload.VOCABULARY);
      heads.add(Arrays.toString(Arrays.copyOfRange(p, 0, 64)));
      tails.add(Arrays.toString(Arrays.copyOfRange(p, 64, 80)));
    }

    assertThat(heads).hasSize(3);
    assertThat(tails).hasSize(300);
  }

  @Test
  void badShapesAreRejectedByName() {
    assertThatThrownBy(() -> new Workload(0, 8, 8, 1)).hasMessageContaining("system prompts");
    assertThatThrownBy(() -> new Workload(1, -1, 8, 1)).hasMessageContaining("token counts");
    assertThatThrownBy(() -> new Workload(1, 0, 0, 1)).hasMessageContaining("at least one token");
  }
}
