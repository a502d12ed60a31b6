package io.dpcoord.sim;

import static io.dpcoord.sim.TestRouter.map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.Connect;
import io.dpcoord.protocol.ConnectAck;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.SubmitRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class LoadGeneratorTest {
  private final TestRouter router = new TestRouter();
  private final ExecutorService runner = Executors.newCachedThreadPool();
  private final List<SubmitRequest> submitted = new ArrayList<>();

  @AfterEach
  void cleanUp() throws InterruptedException {
    runner.shutdownNow();
    assertThat(runner.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    router.close();
  }

  private static LoadConfig.Builder small(long requests, int concurrency) {
    return LoadConfig.builder()
        .requests(requests)
        .concurrency(concurrency)
        .systemPrompts(2)
        .systemTokens(32)
        .suffixTokens(8)
        .connectTimeout(TestRouter.TIMEOUT);
  }

  private CompletableFuture<LoadReport> start(LoadGenerator generator) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return generator.run();
          } catch (TimeoutException e) {
            throw new CompletionException(e);
          }
        },
        runner);
  }

  private static RawValue record(long cid, String status, int rank) {
    return map("request_id", cid, "status", status, "served_by_rank", rank);
  }

  /**
   * Plays the coordinator: acknowledges CONNECT and hands each SUBMIT to {@code answer} until
   * {@code done} holds.
   */
  private void serve(SubmitHandler answer, Predicate<Void> done) {
    while (!done.test(null)) {
      TestRouter.Received r = router.poll(Duration.ofMillis(20));
      if (r == null || r.gone()) {
        continue;
      }
      Message m = r.decode();
      if (m instanceof Connect) {
        router.send(r.identity(), new ConnectAck());
      } else if (m instanceof SubmitRequest s) {
        submitted.add(s);
        answer.handle(r.identity(), s.clientRequestId());
      }
    }
  }

  @FunctionalInterface
  private interface SubmitHandler {
    void handle(byte[] client, long cid);
  }

  @Test
  void countsFailedDuplicatedAndUnknownReplies() {
    LoadGenerator generator = new LoadGenerator(router.endpoint(), small(5, 1).build());
    CompletableFuture<LoadReport> result = start(generator);

    serve(
        (client, cid) -> {
          if (cid == 1) {
            router.send(client, new ClientReply(cid, record(cid, "FAILED", 0)));
            return;
          }
          router.send(client, new ClientReply(cid, record(cid, "COMPLETED", (int) cid % 2)));
          if (cid == 2) {
            router.send(client, new ClientReply(cid, record(cid, "COMPLETED", 0)));
            router.send(client, new ClientReply(999, record(999, "COMPLETED", 0)));
          }
        },
        x -> result.isDone());
    LoadReport report = result.join();

    assertThat(report.sent()).isEqualTo(5);
    assertThat(report.completed()).isEqualTo(4);
    assertThat(report.failed()).isEqualTo(1);
    assertThat(report.duplicated()).isEqualTo(1);
    assertThat(report.unknownIds()).isEqualTo(1);
    assertThat(report.lost()).isZero();
    assertThat(report.ok()).isFalse();
    assertThat(report.perRank()).containsEntry(0, 3L).containsEntry(1, 1L);
    assertThat(report.latency().count()).isEqualTo(4);
    assertThat(report.format()).contains("duplicated 1").contains("rank 1: 1");
  }

  @Test
  void aDroppedRequestIsLostAfterTheIdleTimeout() {
    LoadConfig config = small(10, 4).idleTimeout(Duration.ofSeconds(1)).build();
    CompletableFuture<LoadReport> result = start(new LoadGenerator(router.endpoint(), config));

    serve(
        (client, cid) -> {
          if (cid != 3) {
            router.send(client, new ClientReply(cid, record(cid, "COMPLETED", 0)));
          }
        },
        x -> result.isDone());
    LoadReport report = result.join();

    assertThat(report.sent()).isEqualTo(10);
    assertThat(report.completed()).isEqualTo(9);
    assertThat(report.lost()).isEqualTo(1);
    assertThat(report.ok()).isFalse();
  }

  @Test
  void everyRequestAnsweredMeansNothingLost() {
    CompletableFuture<LoadReport> result =
        start(new LoadGenerator(router.endpoint(), small(200, 16).build()));

    serve(
        (client, cid) -> router.send(client, new ClientReply(cid, record(cid, "COMPLETED", 0))),
        x -> result.isDone());
    LoadReport report = result.join();

    assertThat(report.sent()).isEqualTo(200);
    assertThat(report.completed()).isEqualTo(200);
    assertThat(report.ok()).isTrue();
    assertThat(report.latency().p50()).isLessThanOrEqualTo(report.latency().max());
  }

  @Test
  void aPacedLoadSendsNoRequestBeforeItIsDue() {
    // 100 a second: request i is due i x 10 ms after the start, however wide the window
    LoadConfig config = small(21, 64).rate(100).build();
    List<Long> sentAt = new ArrayList<>();
    long before = System.nanoTime(); // the generator's start, and so its schedule, comes after
    CompletableFuture<LoadReport> result = start(new LoadGenerator(router.endpoint(), config));

    serve(
        (client, cid) -> {
          sentAt.add(System.nanoTime());
          router.send(client, new ClientReply(cid, record(cid, "COMPLETED", 0)));
        },
        x -> result.isDone());
    LoadReport report = result.join();

    assertThat(report.completed()).isEqualTo(21);
    // the 21st is not sent before 200 ms after the start (it may arrive later)
    assertThat(Duration.ofNanos(sentAt.get(20) - before))
        .isGreaterThanOrEqualTo(Duration.ofMillis(200));
    assertThatThrownBy(() -> LoadConfig.builder().rate(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rate");
  }

  @Test
  void sendsThePromptsItIsGiven() {
    int[] made = {0};
    LoadGenerator generator =
        new LoadGenerator(
            router.endpoint(), small(3, 1).build(), () -> Prompt.ofText("prompt " + made[0]++));
    CompletableFuture<LoadReport> result = start(generator);

    serve(
        (client, cid) -> router.send(client, new ClientReply(cid, record(cid, "COMPLETED", 0))),
        x -> result.isDone());

    assertThat(result.join().completed()).isEqualTo(3);
    assertThat(submitted)
        .extracting(s -> s.prompt().text())
        .containsExactly("prompt 0", "prompt 1", "prompt 2");
  }

  @Test
  void neverSendsMoreThanTheConcurrencyAtOnce() {
    int concurrency = 3;
    CompletableFuture<LoadReport> result =
        start(new LoadGenerator(router.endpoint(), small(12, concurrency).build()));
    Set<Long> unanswered = new HashSet<>();
    int[] most = {0};

    // answer only once the window is full, so the generator has had every chance to overshoot
    serve(
        (client, cid) -> {
          unanswered.add(cid);
          most[0] = Math.max(most[0], unanswered.size());
          if (unanswered.size() == concurrency || cid == 11) {
            for (long id : unanswered) {
              router.send(client, new ClientReply(id, record(id, "COMPLETED", 0)));
            }
            unanswered.clear();
          }
        },
        x -> result.isDone());

    assertThat(result.join().completed()).isEqualTo(12);
    assertThat(most[0]).isEqualTo(concurrency);
  }

  @Test
  void finishSubmittingDrainsWhatIsInFlight() {
    LoadGenerator generator =
        new LoadGenerator(router.endpoint(), small(LoadConfig.UNBOUNDED, 8).build());
    CompletableFuture<LoadReport> result = start(generator);

    serve(
        (client, cid) -> {
          router.send(client, new ClientReply(cid, record(cid, "COMPLETED", 0)));
          if (cid == 50) {
            generator.finishSubmitting();
          }
        },
        x -> result.isDone());
    LoadReport report = result.join();

    assertThat(report.sent()).isGreaterThanOrEqualTo(51);
    assertThat(report.completed()).isEqualTo(report.sent());
    assertThat(report.lost()).isZero();
    assertThat(generator.progress().finished()).isTrue();
    assertThat(generator.progress().answered()).isEqualTo(report.sent());
  }

  @Test
  void twoGeneratorsWithTheSameIdsAreTwoClients() {
    CompletableFuture<LoadReport> a =
        start(new LoadGenerator(router.endpoint(), small(30, 4).build()));
    CompletableFuture<LoadReport> b =
        start(new LoadGenerator(router.endpoint(), small(30, 4).build()));
    Set<String> clients = new HashSet<>();

    serve(
        (client, cid) -> {
          clients.add(new String(client, java.nio.charset.StandardCharsets.ISO_8859_1));
          router.send(client, new ClientReply(cid, record(cid, "COMPLETED", 0)));
        },
        x -> a.isDone() && b.isDone());

    assertThat(clients).hasSize(2);
    assertThat(a.join().completed()).isEqualTo(30);
    assertThat(b.join().completed()).isEqualTo(30);
    assertThat(a.join().duplicated() + b.join().duplicated()).isZero();
  }

  @Test
  void noConnectAckIsATimeout() {
    LoadConfig config = small(5, 1).connectTimeout(Duration.ofMillis(200)).build();
    LoadGenerator generator = new LoadGenerator(router.endpoint(), config);

    assertThatThrownBy(generator::run)
        .isInstanceOf(TimeoutException.class)
        .hasMessageContaining("no CONNECT_ACK");
  }

  @Test
  void runsOnlyOnce() {
    LoadGenerator generator =
        new LoadGenerator(
            router.endpoint(), small(1, 1).connectTimeout(Duration.ofMillis(50)).build());
    assertThatThrownBy(generator::run).isInstanceOf(TimeoutException.class);

    assertThatThrownBy(generator::run).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aMalformedEndpointIsAnArgumentError() {
    LoadGenerator generator = new LoadGenerator("not-an-endpoint", small(1, 1).build());

    assertThatThrownBy(generator::run)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not-an-endpoint");
  }
}
