package io.dpcoord.metrics;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The description and unit of one MBean attribute, on its getter in the MBean interface. A JMX
 * console shows the description as the attribute's tooltip and the unit in its descriptor ({@code
 * units}), so nothing on the coordinator's MBeans reads "Attribute exposed for management".
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface JmxDoc {
  /** What the attribute shows, in operator words. */
  String value();

  /**
   * The unit, as a JMX {@code units} descriptor: {@code "µs"}, {@code "requests/s"}, {@code
   * "percent"}, {@code "requests"}... {@link #SAMPLE_UNIT} stands for the unit of the metric behind
   * the MBean (seconds, percent, tokens).
   */
  String units();

  /** The placeholder for the unit of the metric behind an MBean, filled in per MBean. */
  String SAMPLE_UNIT = "<sample unit>";
}
