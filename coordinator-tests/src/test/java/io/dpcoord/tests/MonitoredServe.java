package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpcoord.tests.TestEngine.Delivery;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ./coordinator serve --prometheus-port 0} as a process, with real engines and a client over
 * ZMQ, and its HTTP side read with {@code java.net.http}. Closing it closes the peers, then the
 * process.
 */
final class MonitoredServe implements AutoCloseable {
  static final String TAG = "monitored";

  private static final Pattern ANNOUNCED =
      Pattern.compile("Prometheus: (http://127\\.0\\.0\\.1:[0-9]+/)metrics \\(status page \\1\\)");
  private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(10);

  final ServeProcess serve;
  final TestEngine[] engines;
  final TestClient client;
  final URI base;
  private final List<AutoCloseable> owned;
  private final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(HTTP_TIMEOUT)
          .version(HttpClient.Version.HTTP_1_1)
          .build();

  private MonitoredServe(
      ServeProcess serve,
      TestEngine[] engines,
      TestClient client,
      URI base,
      List<AutoCloseable> owned) {
    this.serve = serve;
    this.engines = engines;
    this.client = client;
    this.base = base;
    this.owned = owned;
  }

  /** Starts serve awaiting {@code engines} engines, registers them and connects a client. */
  static MonitoredServe start(Path dir, int engines) throws Exception {
    ServeProcess serve =
        ServeProcess.start(dir, "--engines", "" + engines, "--prometheus-port", "0", "--name", TAG);
    List<AutoCloseable> owned = new ArrayList<>(List.of(serve));
    try {
      Await.until(
          "serve announces its HTTP address", () -> announced(serve) != null, serve::stderr);
      TestEngine[] registered = TestEngine.registerRanks(serve.endpoint(), engines, owned);
      TestClient client = new TestClient(serve.endpoint(), "client");
      owned.add(client.connect());
      return new MonitoredServe(serve, registered, client, URI.create(announced(serve)), owned);
    } catch (Exception | AssertionError e) {
      Resources.closeInReverse(owned);
      throw e;
    }
  }

  private static String announced(ServeProcess serve) {
    Matcher m = ANNOUNCED.matcher(serve.stderr());
    return m.find() ? m.group(1) : null;
  }

  /** Sends one request, lets the engine that receives it complete it, expects the reply. */
  Delivery roundTrip(long cid, long[] prompt) {
    return TestEngine.roundTrip(client, engines, cid, prompt);
  }

  /** Waits until {@code /status.json} holds at least {@code n} samples. */
  void awaitSamples(int n) {
    Await.until("" + n + " samples", () -> status().get("samples").size() >= n, this::status);
  }

  /**
   * Waits until the samples hold all the traffic sent so far: the next sample reads the counters
   * after it.
   */
  void awaitSampleAfterTraffic() {
    awaitSamples(status().get("samples").size() + 1);
  }

  /** The response to {@code method path}. */
  HttpResponse<String> request(String method, String path) {
    HttpRequest request =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(HTTP_TIMEOUT)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The body of {@code GET path}, which must answer 200. */
  String get(String path) {
    HttpResponse<String> response = request("GET", path);
    assertThat(response.statusCode()).as("GET " + path).isEqualTo(200);
    return response.body();
  }

  /** {@code /status.json}, parsed. */
  JsonNode status() {
    try {
      return new ObjectMapper().readTree(get("status.json"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    Resources.closeInReverse(owned);
  }
}
