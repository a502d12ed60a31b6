package io.dpcoord.tests;

import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.server.ControlState;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.server.CoordinatorStatus;
import io.dpcoord.sim.CurveClient;
import io.dpcoord.tokenizers.TextTokenizer;
import io.dpcoord.tokenizers.Tokenizers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A coordinator started in-process on 127.0.0.1 (port chosen at run time) with recorded metrics,
 * and the peers a test connects to it; {@link #close()} closes them all and stops the coordinator.
 */
final class TestCoordinator implements AutoCloseable {
  /** A fixed wall clock for the FAILED records the coordinator writes. */
  static final double UNIX_SECONDS = 1_700_000_000.25;

  /** Megatron's byte-level tokenizer: one token per UTF-8 byte of a text prompt. */
  static final TextTokenizer BYTES = Tokenizers.fromSpec("bytes");

  private final GatedMetrics metrics = new GatedMetrics();
  private final Coordinator coordinator;
  private final Dialect engineDialect;
  private final List<AutoCloseable> owned = new ArrayList<>();
  private int clients;

  private TestCoordinator(Consumer<CoordinatorConfig.Builder> settings) {
    CoordinatorConfig.Builder config =
        CoordinatorConfig.builder().port(0).unixSeconds(() -> UNIX_SECONDS).metrics(metrics);
    settings.accept(config);
    CoordinatorConfig built = config.build();
    engineDialect = built.engineDialect();
    try {
      coordinator = Coordinator.start(built);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A coordinator with the defaults of {@code serve} (no start-up wait). */
  static TestCoordinator start() {
    return start(c -> {});
  }

  /** A coordinator with changed settings; the metrics and the clock are the fixture's. */
  static TestCoordinator start(Consumer<CoordinatorConfig.Builder> settings) {
    return new TestCoordinator(settings);
  }

  Coordinator coordinator() {
    return coordinator;
  }

  String endpoint() {
    return coordinator.endpoint();
  }

  CoordinatorStatus status() {
    return coordinator.status();
  }

  GatedMetrics gate() {
    return metrics;
  }

  InMemoryMetrics metrics() {
    return metrics.recorded();
  }

  /** A client that has done the CONNECT handshake. */
  TestClient client() {
    return unconnectedClient().connect();
  }

  /** A client socket that has sent nothing yet. */
  TestClient unconnectedClient() {
    return unconnectedClient(Dialect.V0_19);
  }

  /** A client of Megatron {@code dialect} that has done the CONNECT handshake in it. */
  TestClient client(Dialect dialect) {
    return unconnectedClient(dialect).connect();
  }

  /** A client socket of Megatron {@code dialect} that has sent nothing yet. */
  TestClient unconnectedClient(Dialect dialect) {
    return own(new TestClient(endpoint(), "c" + clients++, dialect));
  }

  /**
   * The engine of rank {@code rank}, registered; once the coordinator serves, returns when the
   * engine is routable.
   */
  TestEngine engine(int rank) {
    return engine(TestEngine.identityOf(rank));
  }

  /** An engine with any identity, registered (see {@link #engine(int)}). */
  TestEngine engine(String identity) {
    boolean serving = status().started(); // read first: it never goes back to false
    int before = status().activeEngines();
    TestEngine e = unregisteredEngine(identity).register();
    if (serving) {
      awaitActiveEngines(before + 1);
    }
    return e;
  }

  /** An engine socket that has sent nothing yet, speaking the engines' dialect of the config. */
  TestEngine unregisteredEngine(String identity) {
    return own(new TestEngine(endpoint(), identity, engineDialect));
  }

  /** A CurveZMQ client socket with {@code keys} that has sent nothing yet. */
  TestClient unconnectedClient(CurveClient keys) {
    return own(new TestClient(endpoint(), "c" + clients++, Dialect.V0_19, keys));
  }

  /** A CurveZMQ engine socket with {@code keys} that has sent nothing yet. */
  TestEngine unregisteredEngine(String identity, CurveClient keys) {
    return own(new TestEngine(endpoint(), identity, engineDialect, keys));
  }

  /** Closes {@code resource} with the coordinator (after the test's own peers). */
  <T extends AutoCloseable> T own(T resource) {
    owned.add(resource);
    return resource;
  }

  void awaitActiveEngines(int n) {
    Await.until(
        "active engines == " + n, () -> status().activeEngines() == n, status()::activeEngines);
  }

  void awaitControlState(ControlState state) {
    Await.until(
        "control state " + state,
        () -> status().controlState() == state,
        () -> status().controlState());
  }

  void awaitInFlight(int n) {
    Await.until("in flight == " + n, () -> status().inFlight() == n, status()::inFlight);
  }

  long count(Metric counter) {
    return metrics().count(counter);
  }

  double gauge(Metric gauge) {
    return metrics().gaugeValue(gauge);
  }

  long observations(Metric histogram) {
    return metrics().observationCount(histogram);
  }

  /** Waits until a counter reads {@code expected}. */
  void awaitCount(Metric counter, long expected) {
    Await.until(
        counter.metricName() + " == " + expected,
        () -> count(counter) == expected,
        () -> count(counter));
  }

  /** Waits until a gauge reads {@code expected}. */
  void awaitGauge(Metric gauge, double expected) {
    Await.until(
        gauge.metricName() + " == " + expected, () -> gauge(gauge) == expected, () -> gauge(gauge));
  }

  /** Waits until a histogram holds {@code expected} observations. */
  void awaitObservations(Metric histogram, long expected) {
    Await.until(
        histogram.metricName() + " has " + expected + " observations",
        () -> observations(histogram) == expected,
        () -> observations(histogram));
  }

  @Override
  public void close() {
    metrics.releaseAll();
    try {
      Resources.closeInReverse(owned);
    } finally {
      coordinator.close();
    }
    if (!coordinator.isTerminated()) {
      throw new AssertionError("the coordinator did not stop");
    }
  }
}
