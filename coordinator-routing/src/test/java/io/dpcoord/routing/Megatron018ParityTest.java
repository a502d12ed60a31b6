package io.dpcoord.routing;

import static io.dpcoord.routing.FixtureReplay.group;
import static io.dpcoord.routing.FixtureReplay.lines;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Replays the Megatron core_v0.18.2 fixture (parity-0.18/README.md: traces with removals,
 * re-registrations of removed engines, restarts and late engines, and 0.18's decisions on them)
 * through a {@link MegatronRelease#V0_18} router and demands every decision: the engine, the match
 * depth credited to it and the number of hashes the commit records.
 */
class Megatron018ParityTest {
  private static final Pattern MATCH = Pattern.compile("\"match\":(\\d+)");
  private static final Pattern HASHES = Pattern.compile("\"hashes\":(\\d+)");

  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"LONGEST_PREFIX", "FIRST_PREFIX_BLOCK", "ROUND_ROBIN"})
  void routerMakesEveryDecisionOfMegatron018(Policy policy) throws IOException {
    RouterConfig config =
        RouterConfig.builder()
            .release(MegatronRelease.V0_18)
            .policy(policy)
            .blockSize(16)
            .alpha(0.5)
            .maxRequests(8)
            .build();
    FixtureReplay replay =
        new FixtureReplay(config, 4).run("/parity-0.18/trace-" + policy.cliName() + ".jsonl.gz");

    List<String> expected = lines("/parity-0.18/decisions-" + policy.cliName() + ".jsonl.gz");
    assertThat(replay.decisions).hasSameSizeAs(expected).hasSizeGreaterThan(1800);
    assertThat(replay.rejoined).isGreaterThan(50);
    assertThat(replay.restarted).isGreaterThan(50);
    for (int i = 0; i < expected.size(); i++) {
      long[] d = replay.decisions.get(i);
      assertThat(
              "{\"id\":%d,\"rank\":%d,\"match\":%d,\"hashes\":%d}"
                  .formatted(d[0], d[1], d[2], d[3]))
          .as("decision %d under %s", i, policy.cliName())
          .isEqualTo(expected.get(i));
    }
    if (policy == Policy.ROUND_ROBIN) {
      assertThat(expected).noneMatch(e -> Long.parseLong(group(MATCH, e)) > 0);
      assertThat(expected).anyMatch(e -> Long.parseLong(group(HASHES, e)) > 0);
    }
  }
}
