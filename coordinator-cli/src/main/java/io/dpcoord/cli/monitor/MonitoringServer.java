package io.dpcoord.cli.monitor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.dpcoord.metrics.EngineLoad;
import io.dpcoord.metrics.PrometheusMetrics;
import io.dpcoord.server.CoordinatorStatus;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's HTTP side: {@code /metrics} for Prometheus, {@code /} the live status page and
 * {@code /status.json} the data it draws, all on one port of the JDK's HTTP server.
 *
 * <p>{@code /metrics} is the Prometheus client's own handler over {@link
 * PrometheusMetrics#registry()} (text format, or OpenMetrics or protobuf when the scraper asks).
 * Starting the server also publishes {@code coordinator_engine_pending_requests}, labelled {@code
 * engine}, and starts a daemon thread that feeds a {@link StatusSampler} once a second. Requests
 * are handled on two daemon threads; handlers only read, so a slow browser never holds up the event
 * loop.
 */
public final class MonitoringServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MonitoringServer.class);

  /** The per-engine gauge, beside the catalogue (docs/spec/METRICS.md, "Per engine"). */
  public static final String ENGINE_PENDING = "coordinator_engine_pending_requests";

  private final HttpServer http;
  private final ExecutorService handlers;
  private final ScheduledExecutorService sampling;
  private final StatusSampler sampler;

  private MonitoringServer(
      HttpServer http,
      ExecutorService handlers,
      ScheduledExecutorService sampling,
      StatusSampler sampler) {
    this.http = http;
    this.handlers = handlers;
    this.sampling = sampling;
    this.sampler = sampler;
  }

  /**
   * Serves on {@code address} (port 0 picks one).
   *
   * @param metrics the binding the coordinator records into
   * @param status the running coordinator's status
   * @param coordinator the coordinator's tag, shown on the page
   * @param expectedEngines the start-up engines ({@code serve --engines}); 0 if none are awaited
   * @throws IOException if the address cannot be bound (a {@link java.net.BindException} when
   *     taken)
   */
  public static MonitoringServer start(
      InetSocketAddress address,
      PrometheusMetrics metrics,
      CoordinatorStatus status,
      String coordinator,
      int expectedEngines)
      throws IOException {
    HttpServer http = HttpServer.create(address, 0);
    GaugeWithCallback.builder()
        .name(ENGINE_PENDING)
        .help("requests sent to the engine without a terminal reply yet (its routing load)")
        .constLabels(metrics.labels())
        .labelNames("engine")
        .callback(
            callback -> {
              for (EngineLoad load : status.engines()) {
                callback.call(load.getPending(), load.getEngine());
              }
            })
        .register(metrics.registry());
    StatusSampler sampler =
        new StatusSampler(metrics, status, System::currentTimeMillis, System::nanoTime);
    StatusReport report =
        new StatusReport(
            metrics, status, sampler, coordinator, expectedEngines, new ObjectMapper());
    byte[] page = resource("status.html");
    http.createContext("/metrics", new MetricsHandler(metrics.registry()));
    http.createContext("/status.json", get(exchange -> report.json()));
    http.createContext(
        "/", get(exchange -> exchange.getRequestURI().getPath().equals("/") ? page : null));
    ExecutorService handlers = Executors.newFixedThreadPool(2, daemon("monitoring-http"));
    http.setExecutor(handlers);
    ScheduledExecutorService sampling =
        Executors.newSingleThreadScheduledExecutor(daemon("status-sampler"));
    sampling.scheduleAtFixedRate(() -> sampleQuietly(sampler), 1, 1, TimeUnit.SECONDS);
    http.start();
    return new MonitoringServer(http, handlers, sampling, sampler);
  }

  /** The bound port. */
  public int port() {
    return http.getAddress().getPort();
  }

  /** The page's address, e.g. {@code http://127.0.0.1:9400/}. */
  public String url() {
    InetSocketAddress a = http.getAddress();
    String host = a.getAddress().getHostAddress();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/";
  }

  /** The sampler behind the page. */
  public StatusSampler sampler() {
    return sampler;
  }

  /** Stops serving and sampling; idempotent. */
  @Override
  public void close() {
    sampling.shutdownNow();
    http.stop(0);
    handlers.shutdownNow();
  }

  /** Samples; a failure is logged and the next second tries again (a thrown task would stop). */
  private static void sampleQuietly(StatusSampler sampler) {
    try {
      sampler.sample();
    } catch (RuntimeException e) {
      LOG.warn("status sample failed", e);
    }
  }

  /** A body for a GET, or null for 404. */
  private interface Body {
    byte[] of(HttpExchange exchange) throws IOException;
  }

  private static com.sun.net.httpserver.HttpHandler get(Body body) {
    return exchange -> {
      try (exchange) {
        if (!exchange.getRequestMethod().equals("GET")
            && !exchange.getRequestMethod().equals("HEAD")) {
          exchange.getResponseHeaders().set("Allow", "GET, HEAD");
          exchange.sendResponseHeaders(405, -1);
          return;
        }
        byte[] bytes = body.of(exchange);
        if (bytes == null) {
          exchange.sendResponseHeaders(404, -1);
          return;
        }
        String path = exchange.getHttpContext().getPath();
        exchange
            .getResponseHeaders()
            .set(
                "Content-Type",
                path.endsWith(".json") ? "application/json" : "text/html; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(200, head ? -1 : bytes.length);
        if (!head) {
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        }
      } catch (RuntimeException e) {
        LOG.warn("status request failed", e);
      }
    };
  }

  private static byte[] resource(String name) {
    try (InputStream in = MonitoringServer.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread t = new Thread(runnable, name);
      t.setDaemon(true);
      return t;
    };
  }
}
