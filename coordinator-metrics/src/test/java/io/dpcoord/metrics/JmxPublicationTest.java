package io.dpcoord.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.codahale.metrics.MetricRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import javax.management.openmbean.CompositeData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Everything is read back through a real RMI JMX connection on 127.0.0.1, as a console would. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JmxPublicationTest {
  private static final AtomicInteger TAGS = new AtomicInteger();
  private static final int CATALOGUE_MBEANS = Metric.values().length;

  private static RemoteJmx remote;
  private static JMXConnector connector;
  private static MBeanServerConnection jmx;

  @BeforeAll
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  static void connect() throws IOException {
    remote = RemoteJmx.start(0);
    connector = JMXConnectorFactory.connect(remote.serviceUrl());
    jmx = connector.getMBeanServerConnection();
  }

  @AfterAll
  static void disconnect() throws IOException {
    try {
      if (connector != null) {
        connector.close();
      }
    } finally {
      if (remote != null) {
        remote.close();
      }
    }
  }

  private static String newTag() {
    return "test-" + TAGS.incrementAndGet();
  }

  private static Set<ObjectName> mbeansOf(String tag) throws IOException, JMException {
    return jmx.queryNames(new ObjectName("dpcoord:*,coordinator=" + tag), null);
  }

  @Test
  void everyCatalogueMetricReadsBackThroughRemoteJmx() throws Exception {
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    try (JmxPublication publication = JmxPublication.start(metrics, newTag())) {
      for (Metric metric : Metric.values()) {
        int k = metric.ordinal() + 1;
        switch (metric.type()) {
          case COUNTER -> {
            metrics.counter(metric).inc(k);
            metrics.inc(metric.metricName());
          }
          case GAUGE -> {
            metrics.gauge(metric).set(1000);
            metrics.gauge(metric.metricName(), k + 0.5);
          }
          case HISTOGRAM -> record(metrics, metric);
        }
      }

      for (Metric metric : Metric.values()) {
        ObjectName name = publication.objectName(metric);
        int k = metric.ordinal() + 1;
        switch (metric.type()) {
          case COUNTER ->
              assertThat(jmx.getAttribute(name, "Count"))
                  .as(name.toString())
                  .isEqualTo((long) k + 1);
          case GAUGE ->
              assertThat(jmx.getAttribute(name, "Value")).as(name.toString()).isEqualTo(k + 0.5);
          case HISTOGRAM -> {
            if (metric.seconds()) {
              assertLatencies(name);
            } else if (ratio(metric)) {
              assertRatios(name);
            } else {
              assertTokenCounts(name);
            }
          }
        }
      }
    }
  }

  private static boolean ratio(Metric metric) {
    return metric.metricName().endsWith("_ratio");
  }

  /**
   * Seconds metrics get 1..100 ms, half as nanoseconds, half as seconds; ratios get quarters; token
   * counts get quarters of four blocks of 16 tokens.
   */
  private static void record(CoordinatorMetrics metrics, Metric metric) {
    CoordinatorMetrics.Histogram histogram = metrics.histogram(metric);
    if (metric.seconds()) {
      for (int ms = 1; ms <= 100; ms++) {
        if (ms % 2 == 0) {
          histogram.recordNanos(ms * 1_000_000L);
        } else {
          metrics.observe(metric.metricName(), ms / 1000.0);
        }
      }
    } else {
      for (double quarter : new double[] {0, 0.25, 0.5, 0.75, 1}) {
        histogram.observe(ratio(metric) ? quarter : quarter * 64);
      }
    }
  }

  private static void assertLatencies(ObjectName name) throws Exception {
    assertThat(jmx.getAttribute(name, "Count")).as(name.toString()).isEqualTo(100L);
    assertThat((Double) jmx.getAttribute(name, "Max")).isCloseTo(0.100, within(1e-9));
    assertThat((Double) jmx.getAttribute(name, "Min")).isCloseTo(0.001, within(1e-9));
    assertThat((Double) jmx.getAttribute(name, "Mean")).isCloseTo(0.0505, within(1e-3));
    assertThat((Double) jmx.getAttribute(name, "99thPercentile")).isBetween(0.098, 0.100);
    assertThat(jmx.getAttribute(name, "DurationUnit")).isEqualTo("seconds");
  }

  private static void assertRatios(ObjectName name) throws Exception {
    assertThat(jmx.getAttribute(name, "Count")).as(name.toString()).isEqualTo(5L);
    assertThat(jmx.getAttribute(name, "Max")).isEqualTo(100L);
    assertThat(jmx.getAttribute(name, "Min")).isEqualTo(0L);
    assertThat((Double) jmx.getAttribute(name, "Mean")).isCloseTo(50.0, within(0.5));
  }

  /** Histograms of token counts keep whole tokens. */
  private static void assertTokenCounts(ObjectName name) throws Exception {
    assertThat(jmx.getAttribute(name, "Count")).as(name.toString()).isEqualTo(5L);
    assertThat(jmx.getAttribute(name, "Max")).isEqualTo(64L);
    assertThat(jmx.getAttribute(name, "Min")).isEqualTo(0L);
    assertThat((Double) jmx.getAttribute(name, "Mean")).isCloseTo(32.0, within(0.5));
  }

  /** A coordinator as the Coordinator MBean sees it, fixed. */
  private record FixedView(String state, int expectedEngines, List<EngineLoad> engines)
      implements CoordinatorView {}

  private static final FixedView TWO_ENGINES =
      new FixedView(
          "RUNNING",
          2,
          List.of(new EngineLoad(0, "engine-0", 3, 40), new EngineLoad(1, "e1", 0, 2)));

  @Test
  void everyMBeanAndEveryAttributeHasADescriptionAndAUnit() throws Exception {
    String tag = newTag();
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    try (JmxPublication publication = JmxPublication.start(metrics, tag)) {
      publication.summarize(TWO_ENGINES);
      Set<ObjectName> names = mbeansOf(tag);
      assertThat(names).hasSize(CATALOGUE_MBEANS + 2);
      for (ObjectName name : names) {
        MBeanInfo info = jmx.getMBeanInfo(name);
        assertThat(info.getDescription())
            .as(name.toString())
            .isNotBlank()
            .isNotEqualTo("Information on the management interface of the MBean");
        assertThat(info.getAttributes()).as(name.toString()).isNotEmpty();
        for (MBeanAttributeInfo a : info.getAttributes()) {
          String what = name + " " + a.getName();
          assertThat(a.getDescription())
              .as(what)
              .isNotBlank()
              .isNotEqualTo("Attribute exposed for management")
              .isNotEqualTo(a.getName());
          assertThat((String) a.getDescriptor().getFieldValue("units")).as(what).isNotBlank();
          assertThat(a.isWritable()).as(what).isFalse();
        }
      }
    }
  }

  @Test
  void metricMBeansAreDescribedByTheCatalogueWithTheirOwnUnits() throws Exception {
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    try (JmxPublication publication = JmxPublication.start(metrics, newTag())) {
      for (Metric metric : Metric.values()) {
        assertThat(jmx.getMBeanInfo(publication.objectName(metric)).getDescription())
            .startsWith(metric.metricName() + ": " + metric.description());
      }
      assertThat(units(publication.objectName(Metric.ROUTING_PREFIX_MATCH_RATIO), "Mean"))
          .isEqualTo("percent");
      assertThat(units(publication.objectName(Metric.ROUTING_CACHED_TOKENS_SHORTFALL), "Max"))
          .isEqualTo("tokens");
      assertThat(
              units(
                  publication.objectName(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS),
                  "99thPercentile"))
          .isEqualTo("seconds");
      assertThat(units(publication.objectName(Metric.COORDINATOR_ACTIVE_ENGINES), "Value"))
          .isEqualTo("engines");
      ObjectName failed = publication.objectName(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL);
      assertThat(units(failed, "Count")).isEqualTo("requests");
      assertThat(units(failed, "OneMinuteRate")).isEqualTo("events/s");
      assertThat(jmx.getAttribute(failed, "OneMinuteRate")).isEqualTo(0.0);
    }
  }

  private static String units(ObjectName name, String attribute) throws Exception {
    for (MBeanAttributeInfo a : jmx.getMBeanInfo(name).getAttributes()) {
      if (a.getName().equals(attribute)) {
        return (String) a.getDescriptor().getFieldValue("units");
      }
    }
    throw new AssertionError(name + " has no attribute " + attribute);
  }

  @Test
  void theCoordinatorMBeanShowsLatencyInMicrosecondsRatiosInPerCentAndTheEngineTable()
      throws Exception {
    String tag = newTag();
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    try (JmxPublication publication = JmxPublication.start(metrics, tag)) {
      ObjectName summary = publication.summarize(TWO_ENGINES);
      assertThat(summary).hasToString("dpcoord:type=Coordinator,coordinator=" + tag);
      for (int i = 0; i < 10; i++) {
        metrics.histogram(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS).recordNanos(5_000);
      }
      metrics.counter(Metric.ROUTING_CACHE_HIT_TOTAL).inc(3);
      metrics.counter(Metric.ROUTING_CACHE_MISS_TOTAL).inc();
      metrics.counter(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL).inc(7);
      metrics.gauge(Metric.COORDINATOR_ACTIVE_ENGINES).set(2);
      metrics.gauge(Metric.ROUTING_INDEX_ENTRIES).set(24);

      assertThat(jmx.getAttribute(summary, "RoutingLatencyP50Micros")).isEqualTo(5.0);
      assertThat(jmx.getAttribute(summary, "RoutingLatencyP99Micros")).isEqualTo(5.0);
      assertThat(units(summary, "RoutingLatencyP99Micros")).isEqualTo("µs");
      assertThat(
              jmx.getAttribute(
                  publication.objectName(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS),
                  "50thPercentile"))
          .isEqualTo(5e-6);
      assertThat(jmx.getAttribute(summary, "CacheHitPercentTotal")).isEqualTo(75.0);
      assertThat(jmx.getAttribute(summary, "CacheHitPercentLastMinute")).isEqualTo(0.0);
      assertThat(jmx.getAttribute(summary, "RequestsSubmitted")).isEqualTo(7L);
      assertThat(jmx.getAttribute(summary, "ActiveEngines")).isEqualTo(2);
      assertThat(jmx.getAttribute(summary, "ExpectedEngines")).isEqualTo(2);
      assertThat(jmx.getAttribute(summary, "IndexEntries")).isEqualTo(24L);
      assertThat(jmx.getAttribute(summary, "State")).isEqualTo("RUNNING");

      CompositeData[] engines = (CompositeData[]) jmx.getAttribute(summary, "Engines");
      assertThat(engines).hasSize(2);
      assertThat(engines[0].get("engine")).isEqualTo("engine-0");
      assertThat(engines[0].get("pending")).isEqualTo(3);
      assertThat(engines[0].get("served")).isEqualTo(40L);
      assertThat(engines[1].get("rank")).isEqualTo(1);
    }
    assertThat(mbeansOf(tag)).isEmpty();
  }

  @Test
  void aSecondSummaryOfOneTagIsRefused() {
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    try (JmxPublication publication = JmxPublication.start(metrics, newTag())) {
      publication.summarize(TWO_ENGINES);
      assertThatThrownBy(() -> publication.summarize(TWO_ENGINES))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(publication.summaryName().toString());
    }
  }

  @Test
  void gaugesShowTheValueSetLastOnEveryRead() throws Exception {
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    try (JmxPublication publication = JmxPublication.start(metrics, newTag())) {
      ObjectName active = publication.objectName(Metric.COORDINATOR_ACTIVE_ENGINES);
      CoordinatorMetrics.Gauge gauge = metrics.gauge(Metric.COORDINATOR_ACTIVE_ENGINES);
      assertThat(jmx.getAttribute(active, "Value")).isEqualTo(0.0);
      gauge.set(4);
      assertThat(jmx.getAttribute(active, "Value")).isEqualTo(4.0);
      gauge.set(3);
      assertThat(jmx.getAttribute(active, "Value")).isEqualTo(3.0);
    }
  }

  @Test
  void objectNamesAreReadableAndCarryTheTag() throws Exception {
    String tag = newTag();
    MetricRegistry registry = new MetricRegistry();
    registry.counter("not_in_the_catalogue_total");
    try (JmxPublication publication = JmxPublication.start(new DropwizardMetrics(registry), tag)) {
      assertThat(publication.tag()).isEqualTo(tag);
      assertThat(publication.objectName(Metric.ROUTING_CACHE_HIT_TOTAL))
          .hasToString("dpcoord:type=Counter,name=routing_cache_hit_total,coordinator=" + tag);
      assertThat(publication.objectName(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS))
          .hasToString(
              "dpcoord:type=Timer,name=coordinator_routing_latency_seconds,coordinator=" + tag);
      assertThat(publication.objectName(Metric.ROUTING_PREFIX_MATCH_RATIO))
          .hasToString("dpcoord:type=Histogram,name=routing_prefix_match_ratio,coordinator=" + tag);
      assertThat(publication.objectName(Metric.COORDINATOR_ACTIVE_ENGINES))
          .hasToString("dpcoord:type=Gauge,name=coordinator_active_engines,coordinator=" + tag);
      // the catalogue plus the Publication MBean, nothing else from the registry
      assertThat(mbeansOf(tag))
          .hasSize(CATALOGUE_MBEANS + 1)
          .contains(new ObjectName("dpcoord:type=Publication,coordinator=" + tag));
    }
  }

  @Test
  void thePublicationMBeanShowsIgnoredUpdates() throws Exception {
    String tag = newTag();
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    try (JmxPublication publication = JmxPublication.start(metrics, tag)) {
      ObjectName status =
          new ObjectName("dpcoord:type=Publication,coordinator=" + publication.tag());
      assertThat(jmx.getAttribute(status, "Coordinator")).isEqualTo(tag);
      assertThat(jmx.getAttribute(status, "IgnoredUpdates")).isEqualTo(0L);
      metrics.inc("no_such_metric_total");
      assertThat(jmx.getAttribute(status, "IgnoredUpdates")).isEqualTo(1L);
    }
  }

  @Test
  void closeLeavesNoMBeanOfTheTagBehind() throws Exception {
    String tag = newTag();
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    JmxPublication publication = JmxPublication.start(metrics, tag);
    assertThat(mbeansOf(tag)).hasSize(CATALOGUE_MBEANS + 1);

    publication.close();

    assertThat(mbeansOf(tag)).isEmpty();
    assertThat(
            ManagementFactory.getPlatformMBeanServer()
                .queryNames(new ObjectName("dpcoord:*,coordinator=" + tag), null))
        .isEmpty();
    publication.close(); // idempotent
    assertThat(publication.toString()).endsWith("closed}");
    try (JmxPublication again = JmxPublication.start(metrics, tag)) {
      assertThat(mbeansOf(again.tag())).hasSize(CATALOGUE_MBEANS + 1);
    }
    assertThat(mbeansOf(tag)).isEmpty();
  }

  @Test
  void twoTagsCoexistWithIndependentValues() throws Exception {
    DropwizardMetrics first = new DropwizardMetrics(new MetricRegistry());
    DropwizardMetrics second = new DropwizardMetrics(new MetricRegistry());
    JmxPublication a = JmxPublication.start(first, newTag());
    try (JmxPublication b = JmxPublication.start(second, newTag())) {
      first.inc("coordinator_requests_submitted_total", 3);
      second.inc("coordinator_requests_submitted_total", 7);
      first.gauge("coordinator_active_engines", 2);
      second.gauge("coordinator_active_engines", 8);

      Metric submitted = Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL;
      Metric active = Metric.COORDINATOR_ACTIVE_ENGINES;
      assertThat(jmx.getAttribute(a.objectName(submitted), "Count")).isEqualTo(3L);
      assertThat(jmx.getAttribute(b.objectName(submitted), "Count")).isEqualTo(7L);
      assertThat(jmx.getAttribute(a.objectName(active), "Value")).isEqualTo(2.0);
      assertThat(jmx.getAttribute(b.objectName(active), "Value")).isEqualTo(8.0);

      a.close();
      assertThat(mbeansOf(a.tag())).isEmpty();
      assertThat(mbeansOf(b.tag())).hasSize(CATALOGUE_MBEANS + 1);
      assertThat(jmx.getAttribute(b.objectName(submitted), "Count")).isEqualTo(7L);
    } finally {
      a.close();
    }
  }

  @Test
  void theSameTagTwiceFailsClearlyAndLeavesTheFirstIntact() throws Exception {
    String tag = newTag();
    DropwizardMetrics first = new DropwizardMetrics(new MetricRegistry());
    DropwizardMetrics second = new DropwizardMetrics(new MetricRegistry());
    try (JmxPublication publication = JmxPublication.start(first, tag)) {
      assertThatThrownBy(() -> JmxPublication.start(second, tag))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage(
              "JMX tag '"
                  + tag
                  + "' is already published in this JVM (dpcoord:type=Publication,coordinator="
                  + tag
                  + "); close that publication or choose another tag");

      first.inc("coordinator_internal_error_total");
      second.inc("coordinator_internal_error_total", 50);
      assertThat(mbeansOf(tag)).hasSize(CATALOGUE_MBEANS + 1);
      assertThat(
              jmx.getAttribute(
                  publication.objectName(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL), "Count"))
          .isEqualTo(1L);
    }
    assertThat(mbeansOf(tag)).isEmpty();
  }

  @Test
  void anMBeanRegisteredElsewhereUnderTheTagBlocksThePublication() throws Exception {
    String tag = newTag();
    ObjectName squatter =
        new ObjectName("dpcoord:type=Counter,name=routing_cache_hit_total,coordinator=" + tag);
    Runnable nothing = () -> {};
    ManagementFactory.getPlatformMBeanServer()
        .registerMBean(new StandardMBean(nothing, Runnable.class), squatter);
    try {
      assertThatThrownBy(
              () -> JmxPublication.start(new DropwizardMetrics(new MetricRegistry()), tag))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("'" + tag + "' is already used by MBeans registered elsewhere")
          .hasMessageContaining(squatter.toString());
      assertThat(mbeansOf(tag)).containsExactly(squatter);
    } finally {
      ManagementFactory.getPlatformMBeanServer().unregisterMBean(squatter);
    }
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(
      strings = {
        "",
        "two words",
        "a,b",
        "a=b",
        "a:b",
        "*",
        "\"quoted\"",
        "-leading-dash",
        "_leading_underscore"
      })
  void tagsThatWouldNeedQuotingAreRejected(String tag) {
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    assertThatThrownBy(() -> JmxPublication.start(metrics, tag))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("JMX tag must be 1 to 64 characters of [A-Za-z0-9._-]");
  }

  @Test
  void tagsAreAtMost64CharactersLong() throws Exception {
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    assertThatThrownBy(() -> JmxPublication.start(metrics, "x".repeat(65)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 'xxxx");
    String longest = "x".repeat(64);
    try (JmxPublication publication = JmxPublication.start(metrics, longest)) {
      assertThat(mbeansOf(publication.tag())).hasSize(CATALOGUE_MBEANS + 1);
    }
  }
}
