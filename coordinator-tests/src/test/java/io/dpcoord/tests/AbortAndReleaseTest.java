package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.AbortRequest;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ABORT_REQUEST and RELEASE_KV. Absence of traffic is shown with a broadcast sentinel: every engine
 * receives it, so anything sent to an engine before it would arrive first.
 */
@Timeout(30)
class AbortAndReleaseTest {
  private static final byte[] SENTINEL = Pack.array(46); // START_CUDA_PROFILER, broadcast always

  private static TestCoordinator loadBalanced() {
    return TestCoordinator.start(
        b -> b.routing(RouterConfig.builder().policy(Policy.LOAD_BALANCED).build()));
  }

  @Test
  void abortReachesOnlyTheServingEngineUnderTheCoordinatorRequestId() {
    try (TestCoordinator c = loadBalanced()) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestClient client = c.client();
      client.submit(3, "to rank 0");
      long r0 = e0.receiveSubmit().requestId();
      client.submit(4, "to rank 1");
      long r1 = e1.receiveSubmit().requestId();

      client.send(Pack.array(23, 4));
      client.send(SENTINEL);
      e1.expectFrame(Pack.array(23, r1));
      e1.expectFrame(SENTINEL);
      e0.expectFrame(SENTINEL);
      // the aborted request still ends with the engine's terminal reply
      e1.complete(r1);
      e0.complete(r0);
      assertThat(client.receiveReplies(2)).hasSize(2);
    }
  }

  @Test
  void abortOfAnUnknownIdOrOfAnotherClientsIdIsANoOp() {
    try (TestCoordinator c = loadBalanced()) {
      TestEngine engine = c.engine(0);
      TestClient owner = c.client();
      TestClient other = c.client();
      owner.submit(8, "not yours to abort");
      long rid = engine.receiveSubmit().requestId();

      owner.send(Pack.array(23, 77)); // never submitted
      other.send(Pack.array(23, 8)); // the owner's id, not the other client's
      other.send(Pack.array(23, rid)); // a coordinator id is not a client id
      other.expectNothingMore();
      owner.expectNothingMore();
      owner.send(SENTINEL);
      engine.expectFrame(SENTINEL);
      engine.complete(rid);
      assertThat(owner.receiveReply().clientRequestId()).isEqualTo(8);
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL)).isZero();
    }
  }

  @Test
  void abortAfterTheReplyIsANoOp() {
    try (TestCoordinator c = loadBalanced()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.submit(1, "done already");
      long rid = engine.receiveSubmit().requestId();
      engine.complete(rid);
      client.receiveReply();
      client.send(Pack.array(23, 1));
      client.send(SENTINEL);
      engine.expectFrame(SENTINEL);
    }
  }

  @Test
  void aRequestWhoseClientLeftBeforeItWasRoutedIsAbortedOnceItIsSent() {
    try (TestCoordinator c = TestCoordinator.start(b -> b.expectedEngines(1))) {
      TestClient client = c.client();
      client.submit(1, "held for the start-up engine");
      c.awaitInFlight(1);
      client.close(); // gone while its request waits to be routed
      c.awaitGauge(Metric.COORDINATOR_KNOWN_CLIENTS, 0);

      TestEngine engine = c.engine(0); // start-up is over: the held request is routed
      long rid = engine.receiveSubmit().requestId();
      assertThat(engine.receive()).as("its abort").isEqualTo(new AbortRequest(rid));
    }
  }

  @Test
  void releaseKvIsBroadcastToEveryEngineAsSent() {
    try (TestCoordinator c = loadBalanced()) {
      TestEngine e0 = c.engine(0);
      TestEngine e1 = c.engine(1);
      TestEngine e2 = c.engine(2);
      TestClient client = c.client();
      client.send(Pack.array(25, 12_345));
      for (TestEngine e : new TestEngine[] {e0, e1, e2}) {
        e.expectFrame(Pack.array(25, 12_345));
      }
      c.awaitObservations(Metric.COORDINATOR_MESSAGE_PROCESSING_LATENCY_SECONDS, 5);
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
    }
  }
}
