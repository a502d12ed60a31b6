package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.dpcoord.metrics.Metric;
import io.dpcoord.tests.TestEngine.Delivery;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./coordinator serve} as a process, with real traffic over ZMQ: its metrics read back
 * through the JMX connector of {@code --jmx-port}, and what {@code --schedule-out}, {@code
 * --index-capacity}, {@code --ttl} and {@code --feedback} do.
 *
 * <p>Prompts are token lists; a block is 16 tokens (the default), so a prompt of {@code 16k + r}
 * tokens ({@code r < 16}) has {@code k} block hashes. Requests go one at a time unless a test says
 * otherwise, so every engine is idle at each decision: a prompt with no cached prefix goes to rank
 * 0, and a prompt whose prefix an engine holds goes to that engine (a cache hit).
 */
@Timeout(60)
class ServeOptionsProcessTest {
  private static final String TAG = "serve-process-test";

  @TempDir Path temp;

  @Test
  void theMetricsOfAServeProcessReadThroughItsJmxPortMatchTheTrafficSent() throws Exception {
    try (Served s = serve(2)) {
      Await.until(
          "serve announces its JMX address",
          () -> s.serve.stderr().contains("JMX: " + RemoteMetrics.serviceUrl(s.jmxPort)),
          s.serve::stderr);
      // four families of five prompts: each family shares its first block, so the first prompt
      // of a family misses and the four others hit
      for (int i = 0; i < 20; i++) {
        long[] prompt = concat(tokens(16, 1000 * (i % 4 + 1)), tokens(16, 100_000 + 100 * i));
        s.roundTrip(i, prompt);
      }
      s.client.expectNothingMore(); // the coordinator has finished with every reply
      // a connection made now, after the traffic, reads the totals
      try (RemoteMetrics jmx = RemoteMetrics.connect(s.jmxPort, TAG)) {
        assertThat(jmx.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL)).isEqualTo(20);
        assertThat(jmx.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isEqualTo(20);
        assertThat(jmx.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isZero();
        assertThat(jmx.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(16);
        assertThat(jmx.count(Metric.ROUTING_CACHE_MISS_TOTAL)).isEqualTo(4);
        assertThat(jmx.count(Metric.ROUTING_STALE_DETECTED_TOTAL)).isZero();
        assertThat(jmx.count(Metric.ROUTING_PREFIX_MATCH_RATIO)).isEqualTo(20);
        assertThat(jmx.count(Metric.COORDINATOR_ROUTING_LATENCY_SECONDS)).isEqualTo(20);
        assertThat(jmx.value(Metric.COORDINATOR_ACTIVE_ENGINES)).isEqualTo(2.0);
        assertThat(jmx.value(Metric.COORDINATOR_REQUESTS_IN_FLIGHT)).isZero();
        assertThat(jmx.value(Metric.COORDINATOR_KNOWN_CLIENTS)).isEqualTo(1.0);
        // four first blocks and twenty second blocks
        assertThat(jmx.value(Metric.ROUTING_INDEX_ENTRIES)).isEqualTo(24.0);
        assertThat(jmx.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
        assertThat(jmx.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
        // the same at a glance, under the tag of --name
        assertThat(jmx.summary("State")).isEqualTo("RUNNING");
        assertThat(jmx.summary("ExpectedEngines")).isEqualTo(2);
        assertThat(jmx.summary("RequestsCompleted")).isEqualTo(20L);
        assertThat(jmx.summary("CacheHitPercentTotal")).isEqualTo(80.0);
        assertThat((Object[]) jmx.summary("Engines")).hasSize(2);
      }
      s.serve.stop();
    }
  }

  @Test
  void scheduleOutWritesMegatronsScheduleOfEveryRoutedRequestWithItsRankAndHashCount()
      throws Exception {
    Path schedule = temp.resolve("schedule.json");
    List<Map<String, Object>> expected = new ArrayList<>();
    try (Served s = serve(2, "--schedule-out", schedule.toString())) {
      // two requests at a time: the second finds rank 0 busy, so both ranks get work; prompts of
      // 0 to 3 complete blocks, the first ones sharing a first block
      for (int wave = 0; wave < 5; wave++) {
        int sharedBlocks = 1 + wave % 3;
        long[] shared = concat(tokens(16, 1), tokens(16 * (sharedBlocks - 1) + 7, 10_000 * wave));
        int ownBlocks = wave % 4;
        long[] own = tokens(16 * ownBlocks + 3, 500_000 + 10_000 * wave);
        s.client.submit(2 * wave, shared);
        Delivery first = TestEngine.receiveSubmitOnAny(s.engines);
        s.client.submit(2 * wave + 1, own);
        Delivery second = TestEngine.receiveSubmitOnAny(s.engines);
        expected.add(scheduleRecord(first, sharedBlocks));
        expected.add(scheduleRecord(second, ownBlocks));
        first.engine().complete(first.requestId());
        second.engine().complete(second.requestId());
        s.client.receiveReplies(2);
      }
      assertThat(expected).extracting(r -> r.get("rank_index")).contains(0L, 1L);
      s.serve.stop();
    }

    Map<?, ?> written = (Map<?, ?>) readJson(schedule);
    assertThat(written.get("policy")).isEqualTo("longest_prefix");
    assertThat(written.get("data_parallel_size")).isEqualTo(2L);
    assertThat(written.get("num_requests")).isEqualTo(10L);
    assertThat(written.get("records")).isEqualTo(expected);
    assertThat(written.keySet().stream().map(Object::toString))
        .containsExactlyInAnyOrder("policy", "data_parallel_size", "records", "num_requests");
  }

  @Test
  void indexCapacityBoundsTheRoutingIndexAndEvictsTheLeastRecentlyAssignedHashes()
      throws Exception {
    try (Served s = serve(1, "--index-capacity", "4")) {
      // ten distinct prompts of three blocks: 30 hashes through an index of 4
      for (int i = 0; i < 10; i++) {
        s.roundTrip(i, distinctPrompt(i));
      }
      s.client.expectNothingMore();
      assertThat(s.jmx.count(Metric.ROUTING_INDEX_EVICTED_TOTAL)).isEqualTo(30 - 4);
      assertThat(s.jmx.value(Metric.ROUTING_INDEX_ENTRIES)).isEqualTo(4.0);

      s.roundTrip(10, distinctPrompt(9)); // still indexed: a hit, nothing evicted
      s.roundTrip(11, distinctPrompt(0)); // evicted long ago: a miss, 3 new hashes
      s.client.expectNothingMore();
      assertThat(s.jmx.count(Metric.ROUTING_INDEX_EVICTED_TOTAL)).isEqualTo(30 - 4 + 3);
      assertThat(s.jmx.value(Metric.ROUTING_INDEX_ENTRIES)).isEqualTo(4.0);
      assertThat(s.jmx.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
      assertThat(s.jmx.count(Metric.ROUTING_CACHE_MISS_TOTAL)).isEqualTo(11);
    }
  }

  @Test
  void ttlMakesAPromptRepeatedAfterItAStaleMissAndRepeatedWithinItAHit() throws Exception {
    Duration ttl = Duration.ofSeconds(1);
    try (Served s = serve(1, "--ttl", ttl.toMillis() + "ms")) {
      s.roundTrip(0, distinctPrompt(100)); // warms the path up: a miss
      long[] prompt = distinctPrompt(1);

      long firstSent = System.nanoTime();
      s.roundTrip(1, prompt); // a miss
      s.roundTrip(2, prompt); // within the TTL: a hit
      long repeated = System.nanoTime();
      assertThat(Duration.ofNanos(repeated - firstSent))
          .as("time for two round trips (must be under the TTL for this test to mean anything)")
          .isLessThan(ttl);
      s.client.expectNothingMore();
      assertThat(s.jmx.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(1);
      assertThat(s.jmx.count(Metric.ROUTING_STALE_DETECTED_TOTAL)).isZero();

      // the index entries were written before `repeated`: wait until they are older than the TTL
      Duration expired = ttl.plusMillis(250);
      Await.until(
          "the TTL has passed",
          () -> System.nanoTime() - repeated > expired.toNanos(),
          () -> Duration.ofNanos(System.nanoTime() - repeated));
      long staleSent = System.nanoTime();
      s.roundTrip(3, prompt); // stale: a miss, counted as stale
      s.roundTrip(4, prompt); // written again by request 3: fresh, a hit
      assertThat(Duration.ofNanos(System.nanoTime() - staleSent)).isLessThan(ttl);
      s.client.expectNothingMore();
      assertThat(s.jmx.count(Metric.ROUTING_STALE_DETECTED_TOTAL)).isEqualTo(1);
      assertThat(s.jmx.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(2);
      assertThat(s.jmx.count(Metric.ROUTING_CACHE_MISS_TOTAL)).isEqualTo(3);
    }
  }

  /**
   * One engine: {@code older} (stamp 1), {@code prompt} (stamp 2), then {@code prompt} again,
   * predicted all three blocks at stamp 2, 0 commits old (stamp 3), and its record says one block
   * served: horizon 2, age limit 0. {@code prompt} once more is a hit on its own entries (stamp 3,
   * 0 commits old); {@code older}, stamp 1, is stale: a miss, its three entries dropped. Without
   * {@code --feedback} it would be a third hit.
   */
  @Test
  void feedbackMakesStaleTheEntriesAssignedBeforeABlockAnEngineDidNotServe() throws Exception {
    try (Served s = serve(1, "--feedback")) {
      long[] older = distinctPrompt(8); // three blocks
      long[] prompt = distinctPrompt(7); // three others
      s.roundTrip(0, older); // a miss
      s.roundTrip(1, prompt); // a miss
      s.client.submit(2, prompt); // a hit: predicted three blocks
      Delivery d = TestEngine.receiveSubmitOnAny(s.engines);
      byte[] record = ReplyRecords.completedWithCachedTokens(d.requestId(), 16); // one served
      d.engine().reply(record);
      s.client.expectFrame(Pack.array(21, 2, Pack.raw(record)));
      s.client.expectNothingMore();

      assertThat(s.jmx.count(Metric.ROUTING_CACHED_TOKENS_SHORTFALL)).isEqualTo(1);
      assertThat(s.jmx.count(Metric.ROUTING_CACHED_TOKENS_PREDICTED_TOTAL)).isEqualTo(48);
      assertThat(s.jmx.count(Metric.ROUTING_CACHED_TOKENS_SERVED_TOTAL)).isEqualTo(16);
      s.roundTrip(3, prompt); // a hit
      s.roundTrip(4, older); // a miss
      s.client.expectNothingMore();
      assertThat(s.jmx.count(Metric.ROUTING_INDEX_FEEDBACK_PURGED_TOTAL)).isEqualTo(3);
      assertThat(s.jmx.count(Metric.ROUTING_PREFIX_MATCH_RATIO)).isEqualTo(5);
      assertThat(s.jmx.count(Metric.ROUTING_CACHE_HIT_TOTAL)).isEqualTo(2);
      assertThat(s.jmx.count(Metric.ROUTING_CACHE_MISS_TOTAL)).isEqualTo(3);
    }
  }

  /**
   * {@code serve --engines N --jmx-port P --name TAG FLAGS}, its N engines registered, a connected
   * client and a JMX connection to it; closing closes them all and kills the process.
   */
  private Served serve(int engines, String... flags) throws Exception {
    int jmxPort = RemoteMetrics.freePort();
    List<String> args =
        new ArrayList<>(
            List.of("--engines", "" + engines, "--jmx-port", "" + jmxPort, "--name", TAG));
    args.addAll(List.of(flags));
    ServeProcess serve = ServeProcess.start(temp, args.toArray(String[]::new));
    List<AutoCloseable> owned = new ArrayList<>(List.of(serve));
    try {
      TestEngine[] registered = TestEngine.registerRanks(serve.endpoint(), engines, owned);
      TestClient client = new TestClient(serve.endpoint(), "client");
      owned.add(client.connect());
      RemoteMetrics jmx = RemoteMetrics.connect(jmxPort, TAG);
      owned.add(jmx);
      return new Served(serve, jmxPort, registered, client, jmx, owned);
    } catch (Exception | AssertionError e) {
      Resources.closeInReverse(owned);
      throw e;
    }
  }

  /** What {@link #serve} started. */
  private record Served(
      ServeProcess serve,
      int jmxPort,
      TestEngine[] engines,
      TestClient client,
      RemoteMetrics jmx,
      List<AutoCloseable> owned)
      implements AutoCloseable {

    /** Sends one request, lets the engine that receives it complete it, expects the reply. */
    Delivery roundTrip(long cid, long[] prompt) {
      return TestEngine.roundTrip(client, engines, cid, prompt);
    }

    @Override
    public void close() {
      Resources.closeInReverse(owned);
    }
  }

  /** A prompt of three blocks that shares no block with another {@code i}. */
  private static long[] distinctPrompt(int i) {
    return tokens(48, 1_000_000L * (i + 1));
  }

  private static long[] tokens(int n, long first) {
    return SubmitForwardingTest.tokens(n, first);
  }

  private static long[] concat(long[] a, long[] b) {
    return LongStream.concat(LongStream.of(a), LongStream.of(b)).toArray();
  }

  /** The schedule record Megatron writes for the request {@code d} delivered. */
  private static Map<String, Object> scheduleRecord(Delivery d, int numHashes) {
    long rank = d.engine().identity().equals(TestEngine.identityOf(0)) ? 0 : 1;
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("request_id", d.requestId());
    r.put("rank_index", rank);
    r.put("num_hashes", (long) numHashes);
    return r;
  }

  /** The JSON document in {@code file} as maps, lists, strings, longs, doubles and booleans. */
  private static Object readJson(Path file) throws IOException {
    try (JsonParser p = new JsonFactory().createParser(file.toFile())) {
      p.nextToken();
      Object value = jsonValue(p);
      assertThat(p.nextToken()).as("anything after the document").isNull();
      return value;
    }
  }

  private static Object jsonValue(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT -> {
        Map<String, Object> m = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          assertThat(m.put(name, jsonValue(p))).as("duplicate key %s", name).isNull();
        }
        return m;
      }
      case START_ARRAY -> {
        List<Object> l = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          l.add(jsonValue(p));
        }
        return l;
      }
      case VALUE_STRING -> {
        return p.getText();
      }
      case VALUE_NUMBER_INT -> {
        return p.getLongValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        return p.getDoubleValue();
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        return p.getBooleanValue();
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> throw new AssertionError("unexpected JSON token " + t);
    }
  }
}
