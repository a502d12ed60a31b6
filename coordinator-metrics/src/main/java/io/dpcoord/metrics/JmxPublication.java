package io.dpcoord.metrics;

import com.codahale.metrics.MetricFilter;
import com.codahale.metrics.jmx.JmxReporter;
import com.codahale.metrics.jmx.ObjectNameFactory;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.StandardMBean;

/**
 * Publishes a {@link DropwizardMetrics} over JMX, in the platform MBean server, with metrics-jmx's
 * {@link JmxReporter}.
 *
 * <p>Every catalogue metric becomes one MBean named {@code
 * dpcoord:type=<Counter|Timer|Histogram|Gauge>,name=<metric name>,coordinator=<tag>}; JConsole and
 * VisualVM show the tree dpcoord / type / name / tag. Timers show durations in seconds and rates
 * per second. One more MBean, {@code dpcoord:type=Publication,coordinator=<tag>}, claims the tag
 * and shows the binding's ignored updates.
 *
 * <p>Tag rule: a tag is 1 to 64 characters of {@code [A-Za-z0-9._-]}, starting with a letter or
 * digit, so object names never need quoting. A tag is published at most once per JVM at a time:
 * registering the Publication MBean is atomic in the MBean server, so the second {@link #start}
 * with a live tag fails with {@link IllegalStateException} before it registers anything, whereas
 * metrics-jmx alone would log the clash at debug level and carry on. After {@link #close()} the tag
 * is free again.
 */
public final class JmxPublication implements AutoCloseable {
  /** The JMX domain of every coordinator MBean. */
  public static final String DOMAIN = "dpcoord";

  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern PLAIN_VALUE = Pattern.compile("[A-Za-z0-9._-]+");
  // a registry may hold more than the catalogue; only the catalogue carries the tag
  private static final MetricFilter CATALOGUE_ONLY =
      (name, metric) -> Metric.byName(name).isPresent();

  private final String tag;
  private final MBeanServer server;
  private final ObjectName publicationName;
  private final JmxReporter reporter;
  private final AtomicBoolean closed = new AtomicBoolean();

  private JmxPublication(
      String tag, MBeanServer server, ObjectName publicationName, JmxReporter reporter) {
    this.tag = tag;
    this.server = server;
    this.publicationName = publicationName;
    this.reporter = reporter;
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
    JmxReporter reporter = null;
    try {
      requireNoOtherMBeans(server, tag, publicationName);
      reporter =
          JmxReporter.forRegistry(metrics.registry())
              .registerWith(server)
              .inDomain(DOMAIN)
              .createsObjectNamesWith(new TaggedNames(tag))
              .filter(CATALOGUE_ONLY)
              .convertDurationsTo(TimeUnit.SECONDS)
              .convertRatesTo(TimeUnit.SECONDS)
              .build();
      reporter.start();
      JmxPublication publication = new JmxPublication(tag, server, publicationName, reporter);
      publication.requireAllRegistered();
      return publication;
    } catch (RuntimeException e) {
      if (reporter != null) {
        reporter.stop();
      }
      unregisterQuietly(server, publicationName);
      throw e;
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
      reporter.stop();
      unregisterQuietly(server, publicationName);
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
          new StandardMBean(new Status(tag, metrics), PublicationMBean.class), publicationName);
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

  private void requireAllRegistered() {
    List<ObjectName> missing = new ArrayList<>();
    for (Metric metric : Metric.values()) {
      if (!server.isRegistered(objectName(metric))) {
        missing.add(objectName(metric));
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException("JMX registration failed for " + missing);
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

  /** Names metrics-jmx's MBeans {@code dpcoord:type=...,name=...,coordinator=<tag>}. */
  private static final class TaggedNames implements ObjectNameFactory {
    private final String tag;

    TaggedNames(String tag) {
      this.tag = tag;
    }

    @Override
    public ObjectName createName(String type, String domain, String name) {
      // the reporter calls this for removals too, without its filter: any name must work
      String value = PLAIN_VALUE.matcher(name).matches() ? name : ObjectName.quote(name);
      try {
        return new ObjectName(
            domain + ":type=" + kindOf(type) + ",name=" + value + ",coordinator=" + tag);
      } catch (MalformedObjectNameException e) {
        throw new IllegalArgumentException("not a valid JMX object name for " + name, e);
      }
    }

    /** "counters" (metrics-jmx's word) to "Counter" (the word JConsole shows). */
    private static String kindOf(String type) {
      return switch (type) {
        case "counters" -> "Counter";
        case "gauges" -> "Gauge";
        case "histograms" -> "Histogram";
        case "timers" -> "Timer";
        case "meters" -> "Meter";
        default -> type;
      };
    }
  }

  /** What the Publication MBean shows in a JMX console. */
  public interface PublicationMBean {
    /** The tag of this coordinator's MBeans. */
    String getCoordinator();

    /** Updates the binding dropped: unknown names, wrong types, invalid values. Should be 0. */
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
