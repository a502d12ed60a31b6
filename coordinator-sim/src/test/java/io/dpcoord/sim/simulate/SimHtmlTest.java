package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.Policy;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class SimHtmlTest {
  private static final String SVG_NS = "http://www.w3.org/2000/svg";

  @Test
  void everySeriesIsThereWithItsPoints() throws Exception {
    List<SimResult> results = SweepResults.policiesByAlpha();

    Map<String, Element> series = series(parse(SimHtml.format("trace.jsonl", 16, results)));

    assertThat(series.keySet())
        .startsWith(
            "bound:single",
            "hit:longest_prefix",
            "hit:first_prefix_block",
            "hit:load_balanced",
            "ttft99:longest_prefix",
            "ttft99:first_prefix_block",
            "ttft99:load_balanced")
        .contains("load:longest_prefix alpha=0", "busy:longest_prefix alpha=0.25")
        .contains("load:first_prefix_block alpha=1", "load:load_balanced", "busy:load_balanced")
        .hasSize(7 + 2 * results.size());
    for (String policy : List.of("longest_prefix", "first_prefix_block")) {
      int first = policy.equals("longest_prefix") ? 0 : 5;
      List<String[]> hits = points(series.get("hit:" + policy), "circle");
      List<String[]> ttfts = points(series.get("ttft99:" + policy), "circle");
      assertThat(hits).hasSize(5);
      assertThat(ttfts).hasSize(5);
      for (int k = 0; k < 5; k++) {
        assertThat(Double.parseDouble(hits.get(k)[0])).isEqualTo(SweepResults.ALPHAS[k]);
        assertThat(hits.get(k)[1]).isEqualTo(ratio(SweepResults.hit(first + k)));
        assertThat(Double.parseDouble(ttfts.get(k)[0])).isEqualTo(SweepResults.ALPHAS[k]);
        assertThat(Double.parseDouble(ttfts.get(k)[1])).isEqualTo(SweepResults.ttft99(first + k));
      }
      assertThat(series.get("hit:" + policy).getElementsByTagName("polyline").getLength())
          .isEqualTo(1);
    }
    Element loadBalanced = series.get("hit:load_balanced");
    assertThat(loadBalanced.getAttribute("data-constant")).isEqualTo("true");
    assertThat(loadBalanced.getElementsByTagName("line").getLength()).isEqualTo(1);
    assertThat(points(loadBalanced, "circle")).hasSize(1);
    assertThat(points(loadBalanced, "circle").get(0)[1]).isEqualTo(ratio(SweepResults.hit(10)));
    assertThat(series.get("bound:single").getAttribute("data-y")).isEqualTo("0.812340");
    assertThat(series.get("bound:single").getElementsByTagName("circle").getLength()).isZero();

    List<String[]> bars = points(series.get("load:longest_prefix alpha=0.25"), "rect");
    assertThat(bars).hasSize(4);
    for (int e = 0; e < 4; e++) {
      assertThat(bars.get(e)[0]).isEqualTo(Integer.toString(e));
      assertThat(Long.parseLong(bars.get(e)[1])).isEqualTo(500 + 7L * e + 1);
    }
    List<String[]> busy = points(series.get("busy:load_balanced"), "rect");
    assertThat(busy).hasSize(4);
    assertThat(Double.parseDouble(busy.get(3)[1])).isEqualTo(10.25 + 1.5 + 10 / 8.0);
  }

  @Test
  void theWorkloadNameIsEscaped() throws Exception {
    String page = SimHtml.format("<a&b>\"'", 16, SweepResults.policiesByAlpha());

    Document doc = parse(page);

    assertThat(page).doesNotContain("<a&b>");
    assertThat(doc.getElementsByTagName("title").item(0).getTextContent())
        .isEqualTo("Routing simulation: <a&b>\"'");
    assertThat(doc.getElementsByTagName("h1").item(0).getTextContent()).contains("<a&b>\"'");
  }

  @Test
  void theOnlyUrlIsTheSvgNamespace() throws Exception {
    String page = SimHtml.format("trace", 16, SweepResults.policiesByAlpha());

    for (String scheme : List.of("http://", "https://")) {
      for (int i = page.indexOf(scheme); i >= 0; i = page.indexOf(scheme, i + 1)) {
        assertThat(page.startsWith(SVG_NS, i)).as("URL at %d", i).isTrue();
      }
    }
    assertThat(page.toLowerCase(Locale.ROOT)).doesNotContain("url(", "@import", "<script", "<link");
    NodeList all = parse(page).getElementsByTagName("*");
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      assertThat(e.hasAttribute("src") || e.hasAttribute("href") || e.hasAttribute("xlink:href"))
          .as(e.getTagName())
          .isFalse();
    }
  }

  @Test
  void sameResultsGiveIdenticalBytes() {
    assertThat(SimHtml.format("trace", 16, SweepResults.policiesByAlpha()))
        .isEqualTo(SimHtml.format("trace", 16, SweepResults.policiesByAlpha()));
  }

  @Test
  void otherVaryingSettingsMakeTheirOwnSeries() throws Exception {
    List<SimResult> results = new ArrayList<>();
    for (int cache : new int[] {4096, 16_384}) {
      for (double a : SweepResults.ALPHAS) {
        results.add(
            SweepResults.result(
                SweepResults.config(Policy.LONGEST_PREFIX, a, 4, cache), results.size()));
      }
    }

    Map<String, Element> series = series(parse(SimHtml.format("trace", 16, results)));

    assertThat(series)
        .containsKeys("hit:longest_prefix cache=4096", "hit:longest_prefix cache=16384")
        .containsKeys(
            "ttft99:longest_prefix cache=16384", "load:longest_prefix alpha=0.5 cache=4096");
    assertThat(points(series.get("hit:longest_prefix cache=16384"), "circle"))
        .extracting(p -> p[1])
        .containsExactly(
            ratio(SweepResults.hit(5)),
            ratio(SweepResults.hit(6)),
            ratio(SweepResults.hit(7)),
            ratio(SweepResults.hit(8)),
            ratio(SweepResults.hit(9)));
  }

  @Test
  void manyConfigurationsShowTheBestOfEachSeriesLoad() throws Exception {
    List<SimResult> results = new ArrayList<>();
    for (Policy p : List.of(Policy.LONGEST_PREFIX, Policy.FIRST_PREFIX_BLOCK)) {
      for (int k = 0; k <= 10; k++) {
        results.add(SweepResults.result(SweepResults.config(p, k / 10.0, 4, 64), results.size()));
      }
    }
    results.add(
        SweepResults.result(SweepResults.config(Policy.LOAD_BALANCED, 0.5, 4, 64), results.size()));

    Map<String, Element> series = series(parse(SimHtml.format("trace", 16, results)));

    // hit(i) grows with i, so each series' best is its last result
    assertThat(series.keySet().stream().filter(s -> s.startsWith("load:")))
        .containsExactly(
            "load:longest_prefix alpha=1", "load:first_prefix_block alpha=1", "load:load_balanced");
  }

  @Test
  void aPolicyThatIgnoresAlphaSweptOverAlphaGetsOneLabelPerRow() throws Exception {
    List<SimResult> results =
        List.of(
            SweepResults.result(SweepResults.config(Policy.LOAD_BALANCED, 0.25, 4, 64), 0),
            SweepResults.result(SweepResults.config(Policy.LOAD_BALANCED, 0.75, 4, 64), 1));

    Map<String, Element> series = series(parse(SimHtml.format("trace", 16, results)));

    assertThat(series).containsKeys("load:load_balanced", "load:load_balanced #2");
    assertThat(points(series.get("hit:load_balanced"), "circle")).hasSize(2);
  }

  @Test
  void noResultsStillMakeAPage() throws Exception {
    Document doc = parse(SimHtml.format("empty", 16, List.of()));

    assertThat(series(doc)).isEmpty();
    assertThat(doc.getElementsByTagName("h1").item(0).getTextContent()).contains("empty");
  }

  @Test
  void escapeReplacesCharactersXmlForbids() {
    assertThat(SimHtml.escape("a\u0001b\uD800c\tz")).isEqualTo("a\uFFFDb\uFFFDc\tz");
    assertThat(SimHtml.escape("\uD83D\uDE00")).isEqualTo("\uD83D\uDE00");
  }

  private static String ratio(double v) {
    return String.format(Locale.ROOT, "%.6f", v);
  }

  private static Document parse(String page) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
    return f.newDocumentBuilder()
        .parse(new ByteArrayInputStream(page.getBytes(StandardCharsets.UTF_8)));
  }

  /** The elements with a data-series attribute, by it, in document order; no name twice. */
  private static Map<String, Element> series(Document doc) {
    Map<String, Element> series = new LinkedHashMap<>();
    NodeList all = doc.getElementsByTagName("*");
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      if (e.hasAttribute("data-series")) {
        assertThat(series.put(e.getAttribute("data-series"), e)).as("duplicate series").isNull();
      }
    }
    return series;
  }

  /** data-x and data-y of the group's {@code tag} children, in document order. */
  private static List<String[]> points(Element group, String tag) {
    List<String[]> points = new ArrayList<>();
    NodeList nodes = group.getElementsByTagName(tag);
    for (int i = 0; i < nodes.getLength(); i++) {
      Element p = (Element) nodes.item(i);
      points.add(new String[] {p.getAttribute("data-x"), p.getAttribute("data-y")});
    }
    return points;
  }
}
