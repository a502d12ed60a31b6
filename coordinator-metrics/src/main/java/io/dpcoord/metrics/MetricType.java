package io.dpcoord.metrics;

/** The kind of a catalogue metric, as named in the type column of docs/spec/METRICS.md. */
public enum MetricType {
  /** A monotonic count of events; only ever increases. */
  COUNTER,
  /** A distribution of observed values (a Dropwizard timer for {@code *_seconds} metrics). */
  HISTOGRAM,
  /** A value that is set, not accumulated; readers see the value set last. */
  GAUGE
}
