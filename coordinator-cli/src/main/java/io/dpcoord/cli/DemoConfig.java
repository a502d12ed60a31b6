package io.dpcoord.cli;

import io.dpcoord.routing.RouterConfig;
import io.dpcoord.sim.LoadConfig;
import java.time.Duration;

/**
 * What {@code ./coordinator demo} was asked to run, its flags checked.
 *
 * @param engines simulated engines, 1..64
 * @param requests how many requests to send, or null to run for {@code duration}
 * @param duration how long the load runs before it drains, when {@code requests} is null
 * @param concurrency most requests in flight at once
 * @param routing the coordinator's routing
 * @param load the load generator's settings
 * @param jmxPort where to publish the metrics over JMX (0: any port), or null for nowhere
 * @param churn whether the run has the epoch change and the engine restart
 * @param curve the CurveZMQ keys every connection uses, or null for plain connections
 */
record DemoConfig(
    int engines,
    Long requests,
    Duration duration,
    int concurrency,
    RouterConfig routing,
    LoadConfig load,
    Integer jmxPort,
    boolean churn,
    DemoCurve curve) {

  /**
   * How far the run has come, 0 to 1 (or above, while it drains): the time elapsed out of the
   * duration, or the requests sent out of those asked for.
   */
  double fraction(long elapsedNanos, long sent) {
    return requests == null ? (double) elapsedNanos / duration.toNanos() : (double) sent / requests;
  }
}
