package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.AbortRequest;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.server.Limits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.zeromq.SocketType;
import org.zeromq.ZMQ;

/** Admission and resource limits (docs/SECURITY.md), over real sockets. */
@Timeout(120)
class LimitsTest {
  private static final Duration QUIET = Duration.ofMillis(300);

  private static TestCoordinator start(Limits limits) {
    return TestCoordinator.start(c -> c.limits(limits));
  }

  private static Limits limits(int pending, int perClient, int clients, int queued, int tokens) {
    return new Limits(pending, perClient, clients, queued, 64L << 20, tokens, 4_096, 1_024);
  }

  private static String failure(TestClient client, long clientRequestId) {
    ClientReply reply = client.receiveReply();
    assertThat(reply.clientRequestId()).isEqualTo(clientRequestId);
    byte[] record = reply.record().toByteArray();
    assertThat(ReplyRecords.status(record)).isEqualTo("FAILED");
    return ReplyRecords.failureMessage(record);
  }

  @Test
  void aRequestOverTheClientsLimitIsAnsweredFailedAtOnceNamingIt() {
    try (TestCoordinator c = start(limits(100, 2, 10, 1000, 1000))) {
      TestEngine engine = c.engine(0);
      TestClient greedy = c.client();
      greedy.submit(0, List.of(1));
      greedy.submit(1, List.of(2));
      greedy.submit(2, List.of(3));
      assertThat(failure(greedy, 2)).contains("--max-pending-per-client");
      assertThat(c.count(Metric.COORDINATOR_LIMIT_REJECTED_TOTAL)).isEqualTo(1);
      long[] ids = engine.receiveSubmitIds(2);
      TestClient other = c.client(); // another client is not held back
      other.submit(0, List.of(4));
      long third = engine.receiveSubmit().requestId();
      engine.complete(ids[0], ids[1], third);
      assertThat(greedy.receiveReplies(2)).hasSize(2);
      assertThat(ReplyRecords.status(other.receiveReply().record().toByteArray()))
          .isEqualTo("COMPLETED");
      assertThat(engine.poll(QUIET)).as("the rejected request reached the engine").isNull();
    }
  }

  @Test
  void aRequestOverTheTotalLimitIsAnsweredFailedNamingIt() {
    try (TestCoordinator c = start(limits(2, 2, 10, 1000, 1000))) {
      c.engine(0);
      TestClient a = c.client();
      TestClient b = c.client();
      a.submit(0, List.of(1));
      b.submit(0, List.of(2));
      c.awaitInFlight(2);
      b.submit(1, List.of(3));
      assertThat(failure(b, 1)).contains("--max-pending");
    }
  }

  @Test
  void aTokenPromptOverTheLimitIsAnsweredWithAMinimalFailedRecord() {
    try (TestCoordinator c = start(limits(100, 100, 10, 1000, 16))) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.submit(5, Collections.nCopies(17, 7));
      byte[] record = client.receiveReply().record().toByteArray();
      assertThat(ReplyRecords.failureMessage(record))
          .isEqualTo("the prompt has 17 tokens, more than --max-prompt-tokens 16");
      assertThat(ReplyRecords.field(Pack.unpack(record), "prompt").isNilValue()).isTrue();
      client.submit(6, Collections.nCopies(16, 7)); // at the limit: served
      assertThat(engine.receiveSubmit().prompt().tokens()).hasSize(16);
    }
  }

  @Test
  void aConnectBeyondTheClientLimitIsNotAnswered() {
    try (TestCoordinator c = start(limits(100, 100, 2, 1000, 1000))) {
      c.client();
      c.client();
      TestClient third = c.unconnectedClient();
      third.send(Pack.array(0));
      c.awaitCount(Metric.COORDINATOR_LIMIT_REJECTED_TOTAL, 1);
      assertThat(third.poll(QUIET)).as("a CONNECT_ACK").isNull();
    }
  }

  @ParameterizedTest
  @CsvSource({"2, 8, --max-connections", "8, 2, --max-connections-per-address"})
  void aConnectionBeyondALimitIsRefusedUntilAnotherCloses(int total, int perAddress, String flag) {
    Limits limits = new Limits(100, 100, 100, 1000, 64L << 20, 1000, total, perAddress);
    try (LogLines log = LogLines.warningsOf("io.dpcoord.server.ZapHandler");
        TestCoordinator c = start(limits)) {
      TestClient first = c.client();
      TestClient second = c.client();
      TestClient third = c.unconnectedClient();
      third.send(Pack.array(0)); // CONNECT
      c.awaitCount(Metric.COORDINATOR_REFUSED_CONNECTION_TOTAL, 1);
      assertThat(log.await("refused a connection from 127.0.0.1"))
          .contains(": 2 connections are open", "the most " + flag + " allows");
      assertThat(third.poll(QUIET)).as("a CONNECT_ACK").isNull();
      assertThat(c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS)).isEqualTo(2.0);
      second.expectNothingMore(); // the admitted ones are served

      // a refused jeromq socket does not retry; a new connection gets in once the coordinator has
      // seen the first one close
      first.close();
      Await.until(
          "a new client admitted",
          () -> {
            TestClient next = c.unconnectedClient();
            next.send(Pack.array(0));
            return next.poll(QUIET) != null;
          });
      assertThat(c.count(Metric.COORDINATOR_REFUSED_CONNECTION_TOTAL)).isPositive();
    }
  }

  @Test
  void aClientThatNeverReadsIsReleasedAndOthersAreServed() {
    try (TestCoordinator c = start(limits(1, 1, 10, 100, 5000));
        ZMQ.Context context = ZMQ.context(1);
        ZMQ.Socket mute = context.socket(SocketType.DEALER)) {
      TestEngine engine = c.engine(0);
      mute.setRcvHWM(10);
      mute.setReceiveBufferSize(4096);
      mute.setLinger(0);
      mute.setHandshakeIvl(1000); // as TestPeer: jeromq may stall a handshake in one JVM
      mute.connect(c.endpoint());
      mute.send(Pack.array(0)); // CONNECT, then it never reads again
      Await.until(
          "the mute client connected",
          () -> c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS) == 1,
          () -> c.gauge(Metric.COORDINATOR_KNOWN_CLIENTS));
      List<Object> prompt = new ArrayList<>(Collections.nCopies(2000, 3));
      byte[] first = Pack.array(20, 0, prompt, TestClient.SAMPLING, null);
      mute.send(first); // pending: every later one is over --max-pending and answered FAILED
      for (int i = 1; i < 20_000 && c.count(Metric.COORDINATOR_CLIENTS_RELEASED_TOTAL) == 0; i++) {
        mute.send(Pack.array(20, i, prompt, TestClient.SAMPLING, null));
      }
      c.awaitCount(Metric.COORDINATOR_CLIENTS_RELEASED_TOTAL, 1);
      long id = engine.receiveSubmit().requestId();
      assertThat(engine.receive())
          .as("its pending request is aborted")
          .isEqualTo(new AbortRequest(id));
      TestClient other = c.client();
      other.expectNothingMore();
    }
  }

  @Test
  void anEngineThatFallsBehindGetsEveryRequestInOrder() {
    try (TestCoordinator c = start(limits(1000, 1000, 10, 5, 5000));
        ZMQ.Context context = ZMQ.context(1);
        ZMQ.Socket slow = context.socket(SocketType.DEALER)) {
      slow.setIdentity("mp-coord-0".getBytes(ZMQ.CHARSET));
      slow.setRcvHWM(5);
      slow.setReceiveBufferSize(4096);
      slow.setLinger(0);
      slow.setHandshakeIvl(1000);
      slow.connect(c.endpoint());
      slow.send(new byte[0]); // registration
      c.awaitActiveEngines(1);
      TestClient client = c.client();
      List<Object> prompt = new ArrayList<>(Collections.nCopies(2000, 3));
      int n = 300;
      for (int i = 0; i < n; i++) {
        client.submit(i, prompt);
      }
      c.awaitInFlight(n);
      slow.setReceiveTimeOut(10_000);
      long last = -1;
      for (int i = 0; i < n; i++) {
        byte[] frame = slow.recv(0);
        assertThat(frame).as("request %s of %s", i, n).isNotNull();
        long id = Pack.unpack(frame).asArrayValue().get(1).asIntegerValue().asLong();
        assertThat(id).isGreaterThan(last);
        last = id;
      }
    }
  }
}
