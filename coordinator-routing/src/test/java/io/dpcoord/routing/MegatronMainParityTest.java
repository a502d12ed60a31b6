package io.dpcoord.routing;

import static io.dpcoord.routing.FixtureReplay.RANK;
import static io.dpcoord.routing.FixtureReplay.group;
import static io.dpcoord.routing.FixtureReplay.id;
import static io.dpcoord.routing.FixtureReplay.lines;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays the parity-main cases (parity-main/README.md: traces with 1 to 16 engines, block sizes 1
 * to 64, alpha 0 to 1 and max_requests 1 to 100 under each of Megatron's three policies, with
 * removals, late engines and removed engines registering again) and demands every decision that
 * Megatron-LM main's own coordinator made on them: the engine and the number of hashes recorded.
 */
class MegatronMainParityTest {
  private static final String DIR = "/parity-main/";
  private static final Pattern HASHES = Pattern.compile("\"hashes\":(\\d+)");

  /** One line of cases.properties: {@code name=policy,ranks,block_size,alpha,max_requests}. */
  record Case(String name, Policy policy, int ranks, int blockSize, double alpha, int maxRequests) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<Case> cases() throws IOException {
    Properties cases = new Properties();
    try (InputStream in =
        MegatronMainParityTest.class.getResourceAsStream(DIR + "cases.properties")) {
      cases.load(in);
    }
    List<Case> out = new ArrayList<>();
    for (String name : new TreeSet<>(cases.stringPropertyNames())) {
      String[] v = cases.getProperty(name).split(",");
      out.add(
          new Case(
              name,
              Policy.parse(v[0]),
              Integer.parseInt(v[1]),
              Integer.parseInt(v[2]),
              Double.parseDouble(v[3]),
              Integer.parseInt(v[4])));
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void routerMakesEveryDecisionOfMegatronMain(Case c) throws IOException {
    RouterConfig config =
        RouterConfig.builder()
            .policy(c.policy())
            .blockSize(c.blockSize())
            .alpha(c.alpha())
            .maxRequests(c.maxRequests())
            .build();
    FixtureReplay replay =
        new FixtureReplay(config, c.ranks()).run(DIR + c.name() + "-trace.jsonl.gz");

    List<String> expected = lines(DIR + c.name() + "-decisions.jsonl.gz");
    assertThat(replay.decisions).hasSameSizeAs(expected).hasSizeGreaterThanOrEqualTo(300);
    assertThat(replay.restarted).as("no add of an active engine (not Megatron's)").isZero();
    for (int i = 0; i < expected.size(); i++) {
      long[] d = replay.decisions.get(i);
      String e = expected.get(i);
      assertThat(d[0]).as("id of decision %d of %s", i, c).isEqualTo(id(e));
      assertThat(d[1]).as("rank of request %d of %s", d[0], c).isEqualTo(number(RANK, e));
      // load_balanced never reads the index: Megatron still writes every hash to its table, the
      // router none (docs/design/routing.md, "Parity")
      assertThat(d[3])
          .as("hashes recorded for request %d of %s", d[0], c)
          .isEqualTo(c.policy() == Policy.LOAD_BALANCED ? 0 : number(HASHES, e));
    }
  }

  private static long number(Pattern p, String line) {
    return Long.parseLong(group(p, line));
  }
}
