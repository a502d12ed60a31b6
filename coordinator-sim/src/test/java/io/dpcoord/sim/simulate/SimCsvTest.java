package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dpcoord.routing.Policy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SimCsvTest {

  @Test
  void csvParsesBackToTheResultsValues() {
    List<SimResult> results = SweepResults.policiesByAlpha();

    List<List<String>> rows = parse(SimCsv.format(results));

    assertThat(rows).hasSize(results.size() + 1);
    List<String> header = rows.get(0);
    assertThat(header)
        .startsWith("policy", "alpha", "ttl_s", "index_capacity", "engines", "cache_blocks")
        .contains(
            "hit_ratio_blocks",
            "hit_ratio_tokens",
            "predicted_hit_ratio",
            "precision",
            "bound_single",
            "bound_routed",
            "best_now",
            "ttft_p50_ms",
            "ttft_p90_ms",
            "ttft_p99_ms",
            "e2e_p50_ms",
            "e2e_p90_ms",
            "e2e_p99_ms",
            "requests_per_s",
            "load_cv",
            "load_max_over_median")
        .endsWith("requests_per_engine", "busy_s_per_engine")
        .doesNotHaveDuplicates();
    for (int i = 0; i < results.size(); i++) {
      SimResult r = results.get(i);
      List<String> row = rows.get(i + 1);
      assertThat(row).hasSameSizeAs(header);
      Map<String, String> v = new HashMap<>();
      for (int c = 0; c < header.size(); c++) {
        v.put(header.get(c), row.get(c));
      }
      assertThat(v.get("policy")).isEqualTo(r.config().routing().policy().cliName());
      assertThat(Double.parseDouble(v.get("alpha"))).isEqualTo(r.config().routing().alpha());
      assertThat(v.get("ttl_s")).isEqualTo("30");
      assertThat(Integer.parseInt(v.get("index_capacity"))).isEqualTo(1 << 20);
      assertThat(Integer.parseInt(v.get("engines"))).isEqualTo(4);
      assertThat(Integer.parseInt(v.get("cache_blocks"))).isEqualTo(16_384);
      assertThat(v.get("eviction")).isEqualTo("lineage");
      assertThat(Long.parseLong(v.get("requests"))).isEqualTo(4096);
      assertThat(Double.parseDouble(v.get("hit_ratio_blocks")))
          .isCloseTo(SweepResults.hit(i), within(5e-7));
      assertThat(Double.parseDouble(v.get("hit_ratio_tokens")))
          .isCloseTo((850_000 + 1_000.0 * i) / 1_700_000, within(5e-7));
      assertThat(Double.parseDouble(v.get("predicted_hit_ratio"))).isCloseTo(0.6, within(5e-7));
      assertThat(Double.parseDouble(v.get("precision")))
          .isCloseTo((45_000 + 500.0 * i) / 60_000, within(5e-7));
      assertThat(Double.parseDouble(v.get("bound_single"))).isCloseTo(0.81234, within(5e-7));
      assertThat(Double.parseDouble(v.get("bound_routed")))
          .isCloseTo((70_000 + 100.0 * i) / 100_000, within(5e-7));
      assertThat(Double.parseDouble(v.get("best_now")))
          .isCloseTo((60_000 + 200.0 * i) / 100_000, within(5e-7));
      assertThat(Long.parseLong(v.get("best_now_blocks"))).isEqualTo(60_000 + 200L * i);
      assertThat(Double.parseDouble(v.get("ttft_p50_ms"))).isEqualTo(r.ttftMs()[0]);
      assertThat(Double.parseDouble(v.get("ttft_p90_ms"))).isEqualTo(r.ttftMs()[1]);
      assertThat(Double.parseDouble(v.get("ttft_p99_ms"))).isEqualTo(SweepResults.ttft99(i));
      assertThat(Double.parseDouble(v.get("e2e_p50_ms"))).isEqualTo(r.e2eMs()[0]);
      assertThat(Double.parseDouble(v.get("e2e_p90_ms"))).isEqualTo(r.e2eMs()[1]);
      assertThat(Double.parseDouble(v.get("e2e_p99_ms"))).isEqualTo(r.e2eMs()[2]);
      assertThat(Double.parseDouble(v.get("requests_per_s")))
          .isCloseTo(4096 / (64.0 + i), within(5e-4));
      assertThat(Double.parseDouble(v.get("load_cv"))).isCloseTo(r.loadCv(), within(5e-7));
      assertThat(Double.parseDouble(v.get("load_max_over_median")))
          .isCloseTo(r.loadMaxOverMedian(), within(5e-7));
      assertThat(Double.parseDouble(v.get("makespan_s"))).isEqualTo(64.0 + i);
      assertThat(Long.parseLong(v.get("evictions"))).isEqualTo(12_345 + i);
      assertThat(Long.parseLong(v.get("cached_blocks"))).isEqualTo(SweepResults.cachedBlocks(i));
      assertThat(
              Arrays.stream(v.get("requests_per_engine").split(";"))
                  .mapToLong(Long::parseLong)
                  .toArray())
          .containsExactly(r.requestsPerEngine());
      assertThat(
              Arrays.stream(v.get("busy_s_per_engine").split(";"))
                  .mapToDouble(Double::parseDouble)
                  .toArray())
          .containsExactly(r.busySeconds());
    }
  }

  @Test
  void sameResultsGiveIdenticalBytesWhateverTheDefaultLocale() {
    String first = SimCsv.format(SweepResults.policiesByAlpha());
    Locale saved = Locale.getDefault();
    String german;
    try {
      Locale.setDefault(Locale.GERMANY);
      german = SimCsv.format(SweepResults.policiesByAlpha());
    } finally {
      Locale.setDefault(saved);
    }

    assertThat(german).isEqualTo(first);
    assertThat(SimCsv.format(SweepResults.policiesByAlpha())).isEqualTo(first);
    assertThat(first).contains(",0.530000,").doesNotContain("\r");
  }

  @Test
  void fieldsWithSeparatorsQuotesOrLineBreaksAreQuoted() {
    String[] awkward = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", ""};
    StringBuilder line = new StringBuilder();
    for (String s : awkward) {
      line.append(line.length() == 0 ? "" : ",").append(SimCsv.field(s));
    }

    assertThat(SimCsv.field("plain")).isEqualTo("plain");
    assertThat(SimCsv.field("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
    assertThat(parse(line + "\n")).containsExactly(List.of(awkward));
  }

  @Test
  void noResultsGiveTheHeaderOnly() {
    String csv = SimCsv.format(List.of());

    assertThat(csv.lines()).hasSize(1);
    assertThat(csv).startsWith("policy,alpha,").endsWith("\n");
  }

  @Test
  void perEngineListsHoldEveryEngine() {
    SimResult wide =
        SweepResults.result(SweepResults.config(Policy.LONGEST_PREFIX, 0.5, 40, 64), 0);

    List<List<String>> rows = parse(SimCsv.format(List.of(wide)));
    int column = rows.get(0).indexOf("requests_per_engine");

    assertThat(rows.get(1).get(column).split(";")).hasSize(40);
  }

  /** RFC 4180 by hand: fields split on commas outside quotes, "" inside quotes is one quote. */
  static List<List<String>> parse(String csv) {
    List<List<String>> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < csv.length(); i++) {
      char c = csv.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < csv.length() && csv.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        row.add(field.toString());
        field.setLength(0);
      } else if (c == '\n') {
        row.add(field.toString());
        field.setLength(0);
        rows.add(row);
        row = new ArrayList<>();
      } else {
        field.append(c);
      }
    }
    assertThat(quoted).as("unterminated quote").isFalse();
    assertThat(field.length() == 0 && row.isEmpty()).as("last line ends with LF").isTrue();
    return rows;
  }
}
