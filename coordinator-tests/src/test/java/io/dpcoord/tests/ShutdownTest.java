package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.zeromq.SocketType;
import org.zeromq.ZMQ;

/** SHUTDOWN: pending requests answered FAILED, the loop ends, the port is free. */
@Timeout(30)
class ShutdownTest {
  private static final byte[] SAMPLING = Pack.value(TestClient.SAMPLING);

  @Test
  void shutdownFromAClientFailsWhatIsPendingTerminatesAndFreesThePort() throws Exception {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient owner = c.client();
      TestClient admin = c.client();
      for (int cid = 0; cid < 3; cid++) {
        owner.submit(cid, "pending " + cid);
      }
      long[] rids = engine.receiveSubmitIds(3);
      c.awaitInFlight(3);

      admin.send(Pack.array(61));
      Map<Long, byte[]> failed = new HashMap<>();
      for (ClientReply r : owner.receiveReplies(3)) {
        failed.put(r.clientRequestId(), r.record().toByteArray());
      }
      for (int cid = 0; cid < 3; cid++) {
        ReplyRecords.assertFailed(
            failed.get((long) cid), rids[cid], Pack.value("pending " + cid), SAMPLING);
      }
      assertThat(c.coordinator().awaitTermination(Await.DEADLINE)).isTrue();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)).isEqualTo(3);
      assertThat(c.status().inFlight()).isZero();
      assertPortIsFree(c.coordinator().port());
    }
  }

  @Test
  void shutdownFromAnEngineIsNotObeyed() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      engine.send(Pack.array(61));
      c.awaitCount(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL, 1);
      client.expectNothingMore();
      assertThat(c.coordinator().isTerminated()).isFalse();
    }
  }

  @Test
  void closingTheCoordinatorFailsWhatIsPendingAndFreesThePort() throws Exception {
    TestCoordinator c = TestCoordinator.start();
    try (TestClient client = new TestClient(c.endpoint(), "owner")) {
      TestEngine engine = c.engine(0);
      client.connect();
      client.submit(1, "cut short");
      long rid = engine.receiveSubmit().requestId();
      c.awaitInFlight(1);
      c.coordinator().shutdown();
      ClientReply r = client.receiveReply();
      ReplyRecords.assertFailed(r.record().toByteArray(), rid, Pack.value("cut short"), SAMPLING);
      assertThat(c.coordinator().awaitTermination(Await.DEADLINE)).isTrue();
      assertPortIsFree(c.coordinator().port());
    } finally {
      c.close();
    }
  }

  /** Binds a new ROUTER to {@code port} on 127.0.0.1 and closes it again. */
  static void assertPortIsFree(int port) {
    try (ZMQ.Context context = ZMQ.context(1)) {
      ZMQ.Socket socket = context.socket(SocketType.ROUTER);
      try {
        socket.setLinger(0);
        assertThat(socket.bind("tcp://127.0.0.1:" + port)).as("bind to port %s", port).isTrue();
      } finally {
        socket.close();
      }
    }
  }
}
