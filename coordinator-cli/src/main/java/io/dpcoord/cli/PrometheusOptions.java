package io.dpcoord.cli;

import io.dpcoord.cli.monitor.MonitoringServer;
import io.dpcoord.metrics.CoordinatorMetrics;
import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.metrics.PrometheusMetrics;
import io.dpcoord.server.Coordinator;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --prometheus-port} and {@code --prometheus-bind}: Prometheus metrics and the live status
 * page on one HTTP port. Without a port nothing changes: the coordinator records into the
 * Dropwizard binding alone and pays nothing for Prometheus.
 */
final class PrometheusOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--prometheus-port",
      paramLabel = "PORT",
      description =
          "Serve Prometheus metrics at http://ADDRESS:PORT/metrics and a live status page at"
              + " http://ADDRESS:PORT/ (0 picks a free port; the address is printed on stderr).")
  Integer port;

  @Option(
      names = "--prometheus-bind",
      paramLabel = "ADDRESS",
      description =
          "Address the metrics and status page listen on; anything but loopback shows them to"
              + " the network (default: ${DEFAULT-VALUE}).",
      defaultValue = "127.0.0.1")
  String bind;

  private PrometheusMetrics prometheus;
  private InetSocketAddress address;

  /**
   * The binding the coordinator should record into: {@code dropwizard} itself, or with a port, the
   * Prometheus binding over it tagged {@code coordinator}. Checks the options first.
   */
  CoordinatorMetrics metrics(DropwizardMetrics dropwizard, String coordinator) {
    if (port == null) {
      return dropwizard;
    }
    if (port < 0 || port > 65535) {
      throw usage("--prometheus-port must be in 0..65535, got " + port);
    }
    try {
      address = new InetSocketAddress(InetAddress.getByName(bind), port);
    } catch (UnknownHostException e) {
      throw usage("--prometheus-bind " + bind + ": unknown host");
    }
    prometheus = new PrometheusMetrics(dropwizard, coordinator);
    return prometheus;
  }

  /** Starts the HTTP server for a coordinator built with {@link #metrics}; null without a port. */
  MonitoringServer start(Coordinator coordinator, String tag, int expectedEngines) {
    if (prometheus == null) {
      return null;
    }
    MonitoringServer server;
    try {
      server =
          MonitoringServer.start(address, prometheus, coordinator.status(), tag, expectedEngines);
    } catch (IOException e) {
      throw usage("--prometheus-port " + port + ": " + e.getMessage());
    }
    return server;
  }

  /** Prints where {@code server} serves, if there is one. */
  static void announce(MonitoringServer server, PrintWriter err) {
    if (server != null) {
      err.println("Prometheus: " + server.url() + "metrics (status page " + server.url() + ")");
      err.flush();
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
