package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.ConnectAck;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.Records;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * The outbox's held sends, on a real ROUTER socket with the coordinator's options and two DEALER
 * peers over TCP on 127.0.0.1: nothing leaves before {@link Outbox#release}, everything leaves in
 * order then, and a send that fails gives back what was held for its engine.
 */
@Timeout(30)
class OutboxTest {
  private final ZContext context = new ZContext(1);
  private final InMemoryMetrics metrics = new InMemoryMetrics();
  private final PendingRequests pending = new PendingRequests();
  private final List<Peer> lost = new ArrayList<>();
  private final List<PendingRequest> givenBack = new ArrayList<>();
  private final List<PendingRequest> sent = new ArrayList<>();
  private ZMQ.Socket router;
  private ZMQ.Socket engine;
  private ZMQ.Socket client;
  private Outbox outbox;
  private final Peer enginePeer = peer("engine-0");
  private final Peer clientPeer = peer("client-0");
  private final Peer gone = peer("gone"); // no connection has this identity

  private static Peer peer(String id) {
    return new Peer(id.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @BeforeEach
  void connect() {
    router = context.createSocket(SocketType.ROUTER);
    router.setRouterMandatory(true);
    router.setSndHWM(0);
    router.setRcvHWM(0);
    router.setLinger(0);
    router.setReceiveTimeOut(10_000);
    router.bind("tcp://127.0.0.1:*");
    engine = dealer(enginePeer);
    client = dealer(clientPeer);
    pending.connect(clientPeer, Dialect.V0_19);
    outbox =
        new Outbox(
            router,
            Dialect.V0_19,
            pending,
            new LoopMetrics(metrics),
            () -> 1.0,
            new RateLimitedLog(line -> {}, 1, System::nanoTime));
    outbox.listen(
        c -> {},
        e -> {
          lost.add(e);
          givenBack.addAll(outbox.forgetEngine(e));
          outbox.toClient(clientPeer, new ConnectAck()); // as the answers to its requests are
        },
        sent::add);
  }

  /** A DEALER with {@code id}, connected: the ROUTER has read its hello, so it knows the id. */
  private ZMQ.Socket dealer(Peer id) {
    ZMQ.Socket s = context.createSocket(SocketType.DEALER);
    s.setIdentity(id.id());
    s.setLinger(0);
    s.setReceiveTimeOut(10_000);
    s.connect(router.getLastEndpoint());
    s.send("hello");
    assertThat(router.recv()).isEqualTo(id.id());
    assertThat(router.recvStr()).isEqualTo("hello");
    return s;
  }

  @AfterEach
  void close() {
    context.close();
  }

  private PendingRequest request(long clientRequestId, String frame) {
    PendingRequest r =
        pending.accept(clientPeer, clientRequestId, RawValue.nil(), RawValue.nil(), 0);
    r.bound = new EngineBound(bytes(frame), Prompt.ofTokens(1, 2, 3), true);
    return r;
  }

  /** Holds an engine's copy of {@code r} as the conductor does, then marks it routed. */
  private void submit(Peer to, PendingRequest r, int engineId) {
    outbox.toEngine(to, r.bound.frame(), false, r, true);
    pending.routed(r, engineId); // which forgets r.bound
  }

  @Test
  void heldSendsLeaveOnReleaseInOrderAndRepliesCountOnceSent() {
    PendingRequest r0 = request(0, "submit 0");
    PendingRequest r1 = request(1, "submit 1");
    submit(enginePeer, r0, 0);
    outbox.toClient(clientPeer, new ConnectAck());
    RawValue record = Records.failed(r1.requestId, RawValue.nil(), RawValue.nil(), 1.0, "a record");
    outbox.reply(r1, record);
    submit(enginePeer, r1, 0);
    outbox.toEngine(enginePeer, bytes("control"), false, null, false);

    assertThat(outbox.holding()).isTrue();
    assertThat(metrics.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isZero();
    assertThat(sent).isEmpty();
    outbox.release();

    assertThat(sent).containsExactly(r0, r1);
    assertThat(outbox.holding()).isFalse();
    assertThat(metrics.count(Metric.COORDINATOR_REQUESTS_COMPLETED_TOTAL)).isEqualTo(1);
    assertThat(engine.recvStr()).isEqualTo("submit 0");
    assertThat(engine.recvStr()).isEqualTo("submit 1");
    assertThat(engine.recvStr()).isEqualTo("control");
    MessageCodec codec = new MessageCodec();
    assertThat(codec.encode(Dialect.V0_19, new ConnectAck())).isEqualTo(client.recv());
    assertThat(client.recv()) // the reply, after the ack
        .isEqualTo(codec.encode(Dialect.V0_19, new ClientReply(1, record)));
    assertThat(lost).isEmpty();
  }

  @Test
  void aHeldSendThatFailsGivesBackWhatWasHeldForItsEngineAndTheRestStillLeaves() {
    PendingRequest r0 = request(0, "submit 0");
    PendingRequest r1 = request(1, "submit 1");
    PendingRequest r2 = request(2, "submit 2");
    EngineBound bound0 = r0.bound;
    EngineBound bound2 = r2.bound;
    submit(gone, r0, 1);
    submit(enginePeer, r1, 0);
    outbox.toEngine(gone, bytes("abort 0"), false, r0, false);
    submit(gone, r2, 1);
    outbox.toEngine(enginePeer, bytes("abort 1"), false, r1, false);

    outbox.release();

    assertThat(lost).containsExactly(gone); // once: the later sends to it were given back
    assertThat(sent).containsExactly(r1);
    assertThat(givenBack).containsExactly(r0, r2);
    assertThat(r0.bound).isSameAs(bound0);
    assertThat(r2.bound).isSameAs(bound2);
    assertThat(r0.abortRequested).isTrue(); // its abort was held after it
    assertThat(r2.abortRequested).isFalse();
    assertThat(r1.abortRequested).isFalse();
    assertThat(engine.recvStr()).isEqualTo("submit 1");
    assertThat(engine.recvStr()).isEqualTo("abort 1");
    assertThat(outbox.holding()).isFalse(); // what was held while it failed went out with the rest
    assertThat(client.recv()).isEqualTo(new MessageCodec().encode(Dialect.V0_19, new ConnectAck()));
  }

  @Test
  void forgettingAnEngineDropsWhatWasHeldForItAndNothingElse() {
    PendingRequest r0 = request(0, "submit 0");
    PendingRequest r1 = request(1, "submit 1");
    submit(enginePeer, r0, 0);
    submit(gone, r1, 1);

    assertThat(outbox.forgetEngine(gone)).containsExactly(r1);
    assertThat(outbox.forgetEngine(gone)).isEmpty();
    outbox.release();

    assertThat(lost).isEmpty(); // the send to it was dropped, not tried
    assertThat(sent).containsExactly(r0);
    assertThat(engine.recvStr()).isEqualTo("submit 0");
  }

  @Test
  void sendsBeyondTheHoldLimitAreKeptInOrderUntilReleased() {
    int n = 3 * Outbox.HOLD_MAX;
    for (int i = 0; i < n; i++) {
      outbox.toEngine(enginePeer, bytes("frame " + i), false, null, false);
      assertThat(outbox.full()).isEqualTo(i + 1 >= Outbox.HOLD_MAX);
    }
    outbox.release();
    for (int i = 0; i < n; i++) {
      assertThat(engine.recvStr()).isEqualTo("frame " + i);
    }
  }
}
