package io.dpcoord.metrics;

import com.codahale.metrics.Clock;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * Publishes a {@link DropwizardMetrics} over JMX, in the platform MBean server.
 *
 * <p>Every catalogue metric becomes one MBean named {@code
 * dpcoord:type=<Counter|Timer|Histogram|Gauge>,name=<metric name>,coordinator=<tag>}; JConsole and
 * VisualVM show the tree dpcoord / type / name / tag. The attributes are those of metrics-jmx's
 * reporter (timers show durations in seconds and rates per second), each described and with a
 * {@code units} descriptor, and counters also show rates ({@link MetricMBeans}). One more MBean,
 * {@code dpcoord:type=Publication,coordinator=<tag>}, claims the tag and shows the binding's
 * ignored updates; {@link #summarize} adds {@code dpcoord:type=Coordinator,coordinator=<tag>}, the
 * one MBean to open first ({@link CoordinatorMXBean}).
 *
 * <p>Tag rule: a tag is 1 to 64 characters of {@code [A-Za-z0-9._-]}, starting with a letter or
 * digit, so object names never need quoting. A tag is published at most once per JVM at a time:
 * registering the Publication MBean is atomic in the MBean server, so the second {@link #start}
 * with a live tag fails with {@link IllegalStateException} before it registers anything. After
 * {@link #close()} the tag is free again.
 */
public final class JmxPublication implements AutoCloseable {
  /** The JMX domain of every coordinator MBean. */
  public static final String DOMAIN = "dpcoord";

  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final String tag;
  private final MBeanServer server;
  private final DropwizardMetrics metrics;
  private final CounterRates rates;
  // the Publication MBean first: it is unregistered last, so the tag is freed last
  private final List<ObjectName> registered = new CopyOnWriteArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private JmxPublication(String tag, MBeanServer server, DropwizardMetrics metrics) {
    this.tag = tag;
    this.server = server;
    this.metrics = metrics;
    this.rates = new CounterRates(metrics.registry(), Clock.defaultClock(), true);
  }

  /**
   * Registers one MBean per catalogue metric of {@code metrics}, tagged {@code tag}.
   *
   * @throws IllegalArgumentException if the tag is null, empty, too long or has characters outside
   *     {@code [A-Za-z0-9._-]}
   * @throws IllegalStateException if the tag is already published in this JVM, or if an MBean of
   *     the tag could not be registered
   */
  public static JmxPublication start(DropwizardMetrics metrics, String tag) {
    Objects.requireNonNull(metrics, "metrics");
    requireTag(tag);
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    ObjectName publicationName = name("type=Publication,coordinator=" + tag);
    claim(server, publicationName, metrics, tag);
    JmxPublication publication = new JmxPublication(tag, server, metrics);
    publication.registered.add(publicationName);
    try {
      requireNoOtherMBeans(server, tag, publicationName);
      for (Metric metric : Metric.values()) {
        publication.register(
            MetricMBeans.of(metric, metrics.registry(), publication.rates),
            publication.objectName(metric));
      }
      return publication;
    } catch (RuntimeException e) {
      publication.close();
      throw e;
    }
  }

  /**
   * Registers the Coordinator MBean, {@code dpcoord:type=Coordinator,coordinator=<tag>}: this
   * publication's metrics together with what {@code view} shows of the running coordinator.
   *
   * @return its object name
   * @throws IllegalStateException if this publication is closed or already has one
   */
  public ObjectName summarize(CoordinatorView view) {
    Objects.requireNonNull(view, "view");
    if (closed.get()) {
      throw new IllegalStateException("JMX publication of tag '" + tag + "' is closed");
    }
    ObjectName summaryName = summaryName();
    register(
        new DescribedMBean(
            new CoordinatorSummary(metrics.registry(), rates, view),
            CoordinatorMXBean.class,
            true,
            "Coordinator "
                + tag
                + " at a glance: engines, requests and their rates, cache hits, routing latency"
                + " in microseconds, the engine table",
            null),
        summaryName);
    return summaryName;
  }

  /** {@code dpcoord:type=Coordinator,coordinator=<tag>}, the name {@link #summarize} registers. */
  public ObjectName summaryName() {
    return name("type=Coordinator,coordinator=" + tag);
  }

  private void register(Object mbean, ObjectName objectName) {
    try {
      server.registerMBean(mbean, objectName);
      registered.add(objectName);
    } catch (JMException e) {
      throw new IllegalStateException("JMX registration failed for " + objectName + ": " + e, e);
    }
  }

  /** The tag that tells this coordinator's MBeans from another's in the same JVM. */
  public String tag() {
    return tag;
  }

  /** The object name under which {@code metric} is published. */
  public ObjectName objectName(Metric metric) {
    Objects.requireNonNull(metric, "metric");
    return name("type=" + kind(metric) + ",name=" + metric.metricName() + ",coordinator=" + tag);
  }

  /** Unregisters every MBean this publication registered. Idempotent; never throws. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      rates.close();
      for (int i = registered.size() - 1; i >= 0; i--) {
        unregisterQuietly(server, registered.get(i));
      }
    }
  }

  @Override
  public String toString() {
    return "JmxPublication{"
        + DOMAIN
        + ":*,coordinator="
        + tag
        + (closed.get() ? ", closed}" : "}");
  }

  private static void requireTag(String tag) {
    if (tag == null || !TAG.matcher(tag).matches()) {
      throw new IllegalArgumentException(
          "JMX tag must be 1 to 64 characters of [A-Za-z0-9._-] starting with a letter or digit,"
              + " got "
              + (tag == null ? "null" : "'" + tag + "'"));
    }
  }

  /** Registers the Publication MBean; the MBean server makes this the atomic claim of the tag. */
  private static void claim(
      MBeanServer server, ObjectName publicationName, DropwizardMetrics metrics, String tag) {
    try {
      server.registerMBean(
          new DescribedMBean(
              new Status(tag, metrics),
              PublicationMBean.class,
              false,
              "The JMX publication of coordinator " + tag + ": its tag and the binding's health",
              null),
          publicationName);
    } catch (InstanceAlreadyExistsException e) {
      throw new IllegalStateException(
          "JMX tag '"
              + tag
              + "' is already published in this JVM ("
              + publicationName
              + "); close that publication or choose another tag",
          e);
    } catch (JMException e) {
      throw new IllegalStateException("cannot register " + publicationName + ": " + e, e);
    }
  }

  private static void requireNoOtherMBeans(
      MBeanServer server, String tag, ObjectName publicationName) {
    Set<ObjectName> present = server.queryNames(name("*,coordinator=" + tag), null);
    present.remove(publicationName);
    if (!present.isEmpty()) {
      throw new IllegalStateException(
          "JMX tag '" + tag + "' is already used by MBeans registered elsewhere: " + present);
    }
  }

  private static String kind(Metric metric) {
    return switch (metric.type()) {
      case COUNTER -> "Counter";
      case GAUGE -> "Gauge";
      case HISTOGRAM -> metric.seconds() ? "Timer" : "Histogram";
    };
  }

  private static ObjectName name(String keyProperties) {
    try {
      return new ObjectName(DOMAIN + ":" + keyProperties);
    } catch (MalformedObjectNameException e) {
      // unreachable for catalogue names and checked tags
      throw new IllegalArgumentException("not a valid JMX object name: " + keyProperties, e);
    }
  }

  private static void unregisterQuietly(MBeanServer server, ObjectName name) {
    try {
      server.unregisterMBean(name);
    } catch (JMException | RuntimeException e) {
      // already gone (or never there): nothing left to clean up
    }
  }

  /** What the Publication MBean shows in a JMX console. */
  public interface PublicationMBean {
    /** The tag of this coordinator's MBeans. */
    @JmxDoc(value = "The tag of this coordinator's MBeans (serve --name)", units = "tag")
    String getCoordinator();

    /** Updates the binding dropped: unknown names, wrong types, invalid values. Should be 0. */
    @JmxDoc(
        value =
            "Metric updates dropped: unknown names, wrong types, invalid values. Should be 0;"
                + " a rise is a bug to report",
        units = "updates")
    long getIgnoredUpdates();
  }

  private static final class Status implements PublicationMBean {
    private final String tag;
    private final DropwizardMetrics metrics;

    Status(String tag, DropwizardMetrics metrics) {
      this.tag = tag;
      this.metrics = metrics;
    }

    @Override
    public String getCoordinator() {
      return tag;
    }

    @Override
    public long getIgnoredUpdates() {
      return metrics.ignoredUpdates();
    }
  }
}
