package io.dpcoord.routing;

import static io.dpcoord.routing.FixtureReplay.RANK;
import static io.dpcoord.routing.FixtureReplay.group;
import static io.dpcoord.routing.FixtureReplay.id;
import static io.dpcoord.routing.FixtureReplay.lines;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Replays the parity fixture (decisions recorded from the reference implementation) through the
 * router and demands every rank.
 */
class ParityFixtureTest {
  private static final int RANKS = 4;

  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"LONGEST_PREFIX", "FIRST_PREFIX_BLOCK", "LOAD_BALANCED"})
  void routerReproducesEveryReferenceDecision(Policy policy) throws IOException {
    RouterConfig config =
        RouterConfig.builder().policy(policy).blockSize(16).alpha(0.5).maxRequests(16).build();
    List<long[]> decisions =
        new FixtureReplay(config, RANKS).run("/parity/trace.jsonl.gz").decisions;

    List<String> expected = lines("/parity/decisions-" + policy.cliName() + ".jsonl.gz");
    assertThat(decisions).hasSize(expected.size()).hasSize(2000);
    for (int i = 0; i < expected.size(); i++) {
      String e = expected.get(i);
      assertThat(decisions.get(i)[0]).as("id of decision %d", i).isEqualTo(id(e));
      assertThat(decisions.get(i)[1])
          .as("rank of request %d under %s", decisions.get(i)[0], policy.cliName())
          .isEqualTo(Long.parseLong(group(RANK, e)));
    }
  }
}
