package io.dpcoord.metrics;

import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;
import javax.management.Descriptor;
import javax.management.ImmutableDescriptor;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.StandardMBean;
import javax.management.openmbean.OpenMBeanAttributeInfoSupport;

/**
 * A standard MBean or MXBean whose MBeanInfo carries a description of the MBean and, for every
 * attribute, the description and {@code units} descriptor of the {@link JmxDoc} on its getter.
 *
 * <p>Every getter of the interface must carry a {@link JmxDoc}: the constructor fails otherwise, so
 * an attribute cannot be published undocumented.
 */
final class DescribedMBean extends StandardMBean {
  private final String description;
  private final String sampleUnit;
  private final Map<String, JmxDoc> docs;
  private MBeanInfo info;

  /**
   * Publishes {@code implementation} through {@code type}.
   *
   * @param mxbean whether {@code type} is an MXBean interface (open types: CompositeData for beans)
   * @param description what the MBean is, shown for the MBean itself
   * @param sampleUnit the unit that replaces {@link JmxDoc#SAMPLE_UNIT}, or null if none is used
   */
  <T> DescribedMBean(
      T implementation, Class<T> type, boolean mxbean, String description, String sampleUnit) {
    super(implementation, type, mxbean);
    this.description = description;
    this.sampleUnit = sampleUnit;
    this.docs = docsOf(type);
  }

  private static Map<String, JmxDoc> docsOf(Class<?> type) {
    Map<String, JmxDoc> docs = new HashMap<>();
    for (Method m : type.getMethods()) {
      String name = m.getName();
      String attribute =
          name.startsWith("get")
              ? name.substring(3)
              : name.startsWith("is") ? name.substring(2) : "";
      if (attribute.isEmpty() || m.getParameterCount() != 0) {
        throw new IllegalArgumentException(type.getName() + "." + name + " is not a getter");
      }
      JmxDoc doc = m.getAnnotation(JmxDoc.class);
      if (doc == null) {
        throw new IllegalArgumentException(type.getName() + "." + name + " has no @JmxDoc");
      }
      docs.put(attribute, doc);
    }
    return docs;
  }

  @Override
  public synchronized MBeanInfo getMBeanInfo() {
    if (info == null) {
      MBeanInfo plain = super.getMBeanInfo();
      MBeanAttributeInfo[] attributes = plain.getAttributes().clone();
      for (int i = 0; i < attributes.length; i++) {
        attributes[i] = described(attributes[i], docs.get(attributes[i].getName()));
      }
      info =
          new MBeanInfo(
              plain.getClassName(),
              description,
              attributes,
              plain.getConstructors(),
              plain.getOperations(),
              plain.getNotifications(),
              plain.getDescriptor());
    }
    return info;
  }

  private MBeanAttributeInfo described(MBeanAttributeInfo a, JmxDoc doc) {
    String units = JmxDoc.SAMPLE_UNIT.equals(doc.units()) ? sampleUnit : doc.units();
    Descriptor descriptor =
        ImmutableDescriptor.union(
            a.getDescriptor(),
            new ImmutableDescriptor(new String[] {"units"}, new Object[] {units}));
    if (a instanceof OpenMBeanAttributeInfoSupport open) {
      return new OpenMBeanAttributeInfoSupport(
          a.getName(), doc.value(), open.getOpenType(), true, false, a.isIs(), descriptor);
    }
    return new MBeanAttributeInfo(
        a.getName(), a.getType(), doc.value(), true, false, a.isIs(), descriptor);
  }
}
