package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.server.ControlState;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Bad frames and peers that send what their role may not: dropped, counted, never fatal. */
@Timeout(30)
class RobustnessTest {

  /** Frames a client might send that no validator may let through, one count each. */
  private static final List<byte[]> BAD_CLIENT_FRAMES =
      List.of(
          new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef}, // map16 cut short
          new byte[] {(byte) 0x93, 0x14}, // array of 3 holding one element
          new byte[] {(byte) 0xc1, 0x00}, // the byte msgpack never uses
          Pack.value("not an array"),
          Pack.value(Pack.map("header", 20)),
          Pack.value(42),
          Pack.value(null),
          Pack.array(), // no header
          Pack.array(99), // unknown header
          Pack.array(-1), // unknown header
          Pack.array(1), // CONNECT_ACK goes to clients, not to the coordinator
          Pack.array(26, 1), // SEND_KV is not for the coordinator
          Pack.array("20", 1, "p", Pack.map()), // header not an int
          Pack.array(20, 1, "p"), // SUBMIT of 3 elements
          Pack.array(20, 1, "p", Pack.map(), null, null), // SUBMIT of 6 elements
          Pack.array(20, "one", "p", Pack.map()), // cid not an int
          Pack.array(20, 1, 3.5, Pack.map()), // prompt neither str nor ints
          Pack.array(20, 1, Pack.list(1, "two"), Pack.map()), // token not an int
          Pack.array(20, 1, "p", "not a map"), // sampling params not a map
          Pack.array(20, 1, "p", Pack.map(), "not a map"), // multimodal neither nil nor map
          Pack.array(24, 1, "p", Pack.map(), null), // SUBMIT_WITH_KV of 5 elements
          Pack.array(23), // ABORT without id
          Pack.array(23, "x"), // ABORT with a str id
          Pack.array(25, 1, 2), // RELEASE_KV of 3 elements
          Pack.array(44), // SET_GENERATION_EPOCH without epoch
          Pack.array(44, "new"), // epoch not an int
          Pack.array(40, 1), // PAUSE with an argument
          Pack.array(0, 0), // CONNECT with an argument
          concat(Pack.array(0), new byte[] {0x00})); // trailing bytes after the array

  /** Frames an engine might send that no validator may let through, one count each. */
  private static final List<byte[]> BAD_ENGINE_FRAMES =
      List.of(
          Pack.array(21, "not a list"),
          Pack.array(21, Pack.list(1, 2)),
          Pack.array(21),
          Pack.array(22, Pack.map()),
          Pack.array(60, 1));

  @Test
  void badFramesInterleavedWithGoodTrafficAreEachCountedOnceAndEveryGoodRequestCompletes() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient good = c.client();
      TestClient bad = c.client();
      int n = BAD_CLIENT_FRAMES.size();
      for (int i = 0; i < n; i++) {
        good.submit(i, "good " + i);
        bad.send(BAD_CLIENT_FRAMES.get(i));
        if (i < BAD_ENGINE_FRAMES.size()) {
          engine.send(BAD_ENGINE_FRAMES.get(i));
        }
        if (i == n / 2) {
          bad.sendFrames(Pack.array(0), Pack.array(0), Pack.array(0)); // three frames
        }
      }
      for (int i = 0; i < n; i++) {
        EngineSubmit s = engine.receiveSubmit(); // nothing else may reach the engine
        // a record without request_id among good ones: counted, the others delivered
        engine.reply(
            ReplyRecords.completed(s.requestId()),
            Pack.value(Pack.map("status", "COMPLETED", "note", "no request_id")));
      }
      Set<Long> answered = new HashSet<>();
      for (ClientReply r : good.receiveReplies(n)) {
        answered.add(r.clientRequestId());
      }
      assertThat(answered).hasSize(n);

      long expected = n + BAD_ENGINE_FRAMES.size() + 1 + n;
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, expected);
      bad.expectNothingMore(); // and the bad client is still served
      good.expectNothingMore();
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isEqualTo(expected);
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL)).isEqualTo(n);
      assertThat(c.status().activeEngines()).isEqualTo(1);
    }
  }

  @Test
  void aSubmitSplitIntoAHeaderFrameAndBodyFramesIsDroppedNamingWhyAndTheClientIsStillServed() {
    try (LogLines log = LogLines.warningsOf("io.dpcoord.server.EventLoop");
        TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      // the proposed wire: [header, client request id, sampling params, media, offload] in one
      // frame, then the prompt, the block hashes and the media in frames of their own
      client.sendFrames(
          Pack.array(20, 1, Pack.map(), null, null),
          Pack.value(Pack.list(1, 2, 3, 4)),
          Pack.value(null),
          Pack.value(null));
      assertThat(log.await("a message of 5 frames"))
          .contains("header frame followed by body frames")
          .contains("docs/COMPATIBILITY.md");
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 1);

      TestEngine.roundTrip(client, new TestEngine[] {engine}, 2, new long[] {1, 2, 3, 4});
      client.expectNothingMore(); // nothing came back for the split request
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL)).isEqualTo(1);
    }
  }

  @Test
  void severalFramesThatDoNotStartWithAnArrayGetNoHintAboutTheSplitWire() {
    try (LogLines log = LogLines.warningsOf("io.dpcoord.server.EventLoop");
        TestCoordinator c = TestCoordinator.start()) {
      c.client().sendFrames(Pack.value("text"), Pack.array(20));
      assertThat(log.await("a message of 3 frames")).doesNotContain("body frames");
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 1);
    }
  }

  @Test
  void messagesFromSendersNotAllowedToSendThemAreDroppedAndCounted() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      TestClient stranger = c.unconnectedClient(); // never sent CONNECT
      client.submit(1, "pending");
      long rid = engine.receiveSubmit().requestId();
      int dropped = 0;

      stranger.submit(2, "from a stranger");
      stranger.send(Pack.array(23, 2));
      stranger.send(Pack.array(25, 2));
      stranger.send(Pack.array(40)); // control from a non-client
      stranger.send(Pack.array(44, 9));
      dropped += 5;
      // engine-only messages from a client, even one naming a pending request
      client.send(Pack.array(21, Pack.list(Pack.raw(ReplyRecords.completed(rid)))));
      client.send(Pack.array(22, Pack.list(Pack.raw(ReplyRecords.partial(rid, 1)))));
      client.send(Pack.array(60));
      client.send(new byte[0]); // a client cannot register as an engine
      dropped += 4;
      // client-only messages from an engine
      engine.send(Pack.array(0));
      engine.send(Pack.array(20, 3, "from an engine", Pack.map()));
      engine.send(Pack.array(40));
      engine.send(Pack.array(61));
      dropped += 4;

      c.awaitCount(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL, dropped);
      client.send(Pack.array(46)); // a broadcast the engine must receive next
      engine.expectFrame(Pack.array(46));
      client.expectNothingMore(); // the fake replies were not delivered
      engine.complete(rid);
      client.expectFrame(Pack.array(21, 1, Pack.raw(ReplyRecords.completed(rid))));
      stranger.connect(); // its first answer is the CONNECT_ACK: nothing was sent to it

      assertThat(c.count(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL)).isEqualTo(dropped);
      assertThat(c.count(Metric.COORDINATOR_REQUESTS_SUBMITTED_TOTAL)).isEqualTo(1);
      assertThat(c.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
      assertThat(c.count(Metric.COORDINATOR_INTERNAL_ERROR_TOTAL)).isZero();
      assertThat(c.status().controlState()).isEqualTo(ControlState.RUNNING);
      assertThat(c.status().activeEngines()).isEqualTo(1);
      assertThat(c.coordinator().isTerminated()).isFalse();
    }
  }

  @Test
  void aFrameHoldingOnlyTheByteMsgpackNeverUsesIsAnInvalidFrameNotAFarewell() {
    try (TestCoordinator c = TestCoordinator.start()) {
      TestEngine engine = c.engine(0);
      TestClient client = c.client();
      client.submit(1, "pending");
      long rid = engine.receiveSubmit().requestId();

      // 0xc1 alone is malformed msgpack, whoever sends it; the peers are still connected
      client.send(new byte[] {(byte) 0xc1});
      engine.send(new byte[] {(byte) 0xc1});
      c.awaitCount(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL, 2);
      assertThat(c.status().activeEngines()).isEqualTo(1);
      engine.complete(rid);
      client.expectFrame(Pack.array(21, 1, Pack.raw(ReplyRecords.completed(rid))));
      client.submit(2, "still a client");
      assertThat(engine.receiveSubmit().prompt().text()).isEqualTo("still a client");
      assertThat(c.count(Metric.COORDINATOR_UNKNOWN_SENDER_TOTAL)).isZero();
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
