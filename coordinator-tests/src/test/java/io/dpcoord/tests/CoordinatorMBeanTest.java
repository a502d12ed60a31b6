package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.codahale.metrics.MetricRegistry;
import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.metrics.JmxPublication;
import io.dpcoord.metrics.Metric;
import io.dpcoord.metrics.RemoteJmx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Coordinator MBean of a coordinator serving real ZMQ clients and engines, read as JConsole
 * reads it: through a real RMI connector on 127.0.0.1.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CoordinatorMBeanTest {
  private static final String TAG = "coordinator-mbean-test";
  private static final int REQUESTS = 20;

  @Test
  void theCoordinatorMBeanFollowsRealTrafficInReadableUnits() throws Exception {
    DropwizardMetrics metrics = new DropwizardMetrics(new MetricRegistry());
    try (RemoteJmx remote = RemoteJmx.start(0);
        JmxPublication publication = JmxPublication.start(metrics, TAG);
        TestCoordinator c = TestCoordinator.start(cfg -> cfg.metrics(metrics).expectedEngines(2));
        JMXConnector connector = JMXConnectorFactory.connect(remote.serviceUrl())) {
      ObjectName summary = publication.summarize(c.status());
      Reader jmx = new Reader(connector.getMBeanServerConnection(), summary);
      assertThat(summary).hasToString("dpcoord:type=Coordinator,coordinator=" + TAG);
      for (MBeanAttributeInfo a : jmx.server.getMBeanInfo(summary).getAttributes()) {
        assertThat(a.getDescription())
            .as(a.getName())
            .isNotEqualTo("Attribute exposed for management");
        assertThat(a.getDescriptor().getFieldValue("units")).as(a.getName()).isNotNull();
      }
      assertThat(jmx.get("State")).isEqualTo("STARTING");
      assertThat(jmx.get("ExpectedEngines")).isEqualTo(2);
      assertThat(jmx.engines()).isEmpty();

      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      Await.until("RUNNING", () -> "RUNNING".equals(jmx.get("State")), () -> jmx.get("State"));
      assertThat(jmx.get("ActiveEngines")).isEqualTo(2);
      assertThat(jmx.engines()).hasSize(2);

      // one family of prompts sharing their first block: the first misses, the others hit
      TestClient client = c.client();
      long[] served = new long[2];
      for (int i = 0; i < REQUESTS; i++) {
        client.submit(i, prompt(i));
        TestEngine.Delivery d = TestEngine.receiveSubmitOnAny(e0, e1);
        d.engine().complete(d.requestId());
        client.receiveReply();
        served[d.engine() == e0 ? 0 : 1]++;
      }
      client.submit(REQUESTS, prompt(REQUESTS)); // left pending on its engine
      TestEngine.Delivery held = TestEngine.receiveSubmitOnAny(e0, e1);
      int heldRank = held.engine() == e0 ? 0 : 1;

      // the engine table follows at the loop's next housekeeping (about a second)
      Await.until(
          "the engine table shows the traffic",
          () -> {
            CompositeData[] rows = jmx.engines();
            return rows.length == 2
                && (long) rows[0].get("served") == served[0]
                && (long) rows[1].get("served") == served[1]
                && (int) rows[heldRank].get("pending") == 1
                && (int) rows[1 - heldRank].get("pending") == 0;
          },
          () -> Arrays.toString(jmx.engines()));
      CompositeData[] rows = jmx.engines();
      assertThat(rows[0].get("rank")).isEqualTo(0);
      assertThat(rows[0].get("engine")).isEqualTo(e0.identity());
      assertThat(rows[1].get("engine")).isEqualTo(e1.identity());

      assertThat(jmx.get("RequestsSubmitted")).isEqualTo((long) REQUESTS + 1);
      assertThat(jmx.get("RequestsCompleted")).isEqualTo((long) REQUESTS);
      assertThat(jmx.get("RequestsFailed")).isEqualTo(0L);
      assertThat(jmx.get("RequestsInFlight")).isEqualTo(1L);
      long hits =
          metrics.registry().counter(Metric.ROUTING_CACHE_HIT_TOTAL.metricName()).getCount();
      assertThat(hits).isEqualTo(REQUESTS); // all but the first
      assertThat((double) jmx.get("CacheHitPercentTotal"))
          .isCloseTo(100.0 * REQUESTS / (REQUESTS + 1), within(0.005));
      assertThat(jmx.get("IndexEntries")).isEqualTo((long) REQUESTS + 2);

      // latency: the timer's seconds, in microseconds
      double p50 = (double) jmx.get("RoutingLatencyP50Micros");
      double timerP50 =
          (double)
              jmx.server.getAttribute(
                  new ObjectName(
                      "dpcoord:type=Timer,name=coordinator_routing_latency_seconds,coordinator="
                          + TAG),
                  "50thPercentile");
      assertThat(p50).isPositive().isCloseTo(timerP50 * 1e6, within(0.005)); // to the hundredth
      assertThat((double) jmx.get("RoutingLatencyP99Micros")).isGreaterThanOrEqualTo(p50);

      // rates come with the first five-second tick after the traffic
      Await.until(
          "a one-minute rate of submissions",
          () -> (double) jmx.get("SubmittedPerSecond") > 0,
          () -> jmx.get("SubmittedPerSecond"));
      assertThat((double) jmx.get("CompletedPerSecond")).isPositive();
      assertThat((double) jmx.get("FailedPerSecond")).isZero();
      assertThat((double) jmx.get("CacheHitPercentLastMinute"))
          .isPositive()
          .isLessThanOrEqualTo(100);

      held.engine().complete(held.requestId());
      assertThat(client.receiveReply().clientRequestId()).isEqualTo(REQUESTS);
    }
  }

  /** 32 tokens: a first block shared by every prompt, then a block of its own. */
  private static long[] prompt(int i) {
    long[] p = new long[32];
    for (int t = 0; t < 32; t++) {
      p[t] = t < 16 ? 7 + t : 100_000 + 100L * i + t;
    }
    return p;
  }

  /** Attributes of the Coordinator MBean over the connector. */
  private record Reader(MBeanServerConnection server, ObjectName summary) {
    Object get(String attribute) {
      try {
        return server.getAttribute(summary, attribute);
      } catch (JMException e) {
        throw new AssertionError("cannot read " + attribute, e);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    CompositeData[] engines() {
      return (CompositeData[]) get("Engines");
    }
  }
}
