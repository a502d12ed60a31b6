package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.Policy;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class SimTableTest {

  @Test
  void tablesHoldEveryConfigurationInAlignedColumns() {
    List<SimResult> results = SweepResults.policiesByAlpha();

    List<String> lines = SimTable.format(results).lines().toList();

    int cacheHeader = lines.indexOf("Configurations and prefix-cache hits") + 1;
    int serviceHeader = lines.indexOf("Latency, throughput and load") + 1;
    assertThat(cacheHeader).isPositive();
    assertThat(serviceHeader).isGreaterThan(cacheHeader + results.size() + 1);
    String heading = lines.get(cacheHeader);
    int hitEnd = heading.indexOf("hit blk") + "hit blk".length();
    int policyStart = heading.indexOf("policy");
    for (int i = 0; i < results.size(); i++) {
      String row = lines.get(cacheHeader + 2 + i);
      String hit = String.format(Locale.ROOT, "%.1f%%", SweepResults.hit(i) * 100);
      assertThat(row.substring(0, hitEnd)).endsWith(" " + hit);
      assertThat(row.substring(policyStart))
          .startsWith(results.get(i).config().routing().policy().cliName() + " ");
      assertThat(row.trim()).startsWith(Integer.toString(i + 1) + " ");
    }
    String service = lines.get(serviceHeader);
    int ttftEnd = service.indexOf("TTFT p99") + "TTFT p99".length();
    for (int i = 0; i < results.size(); i++) {
      String row = lines.get(serviceHeader + 2 + i);
      String ttft = String.format(Locale.ROOT, "%.1f", SweepResults.ttft99(i));
      assertThat(row.substring(0, ttftEnd)).endsWith(" " + ttft);
      assertThat(row).endsWith(" %d/%d/%d/%d".formatted(500 + i, 507 + i, 514 + i, 521 + i));
    }
    assertThat(lines.get(serviceHeader + 2)).contains(" longest_prefix alpha=0 ");
    assertThat(lines).noneMatch(l -> l.endsWith(" "));
  }

  @Test
  void aPolicyThatIgnoresAlphaShowsADash() {
    List<SimResult> results = SweepResults.policiesByAlpha();

    List<String> lines = SimTable.format(results).lines().toList();

    String heading = lines.get(1);
    int alphaEnd = heading.indexOf("alpha") + "alpha".length();
    String loadBalanced = lines.get(2 + results.size());
    assertThat(loadBalanced).contains("load_balanced");
    assertThat(loadBalanced.substring(0, alphaEnd)).endsWith(" -");
  }

  @Test
  void manyEnginesAreShownCompactly() {
    SimResult wide =
        SweepResults.result(SweepResults.config(Policy.LONGEST_PREFIX, 0.5, 10, 64), 0);

    String table = SimTable.format(List.of(wide));

    assertThat(table).contains(" 500/507/514/521/528/535/542/549/...+2\n");
  }

  @Test
  void noResultsSaySo() {
    assertThat(SimTable.format(List.of())).isEqualTo("no results\n");
  }
}
