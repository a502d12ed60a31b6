package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.sim.CurveClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongFunction;
import org.msgpack.value.Value;

/**
 * A scripted engine: identity {@code mp-coord-<rank>} (or any), registration by an empty frame, and
 * replies the test writes record by record; in main's wire dialect or in Megatron 0.17/0.18's
 * (ENGINE_REPLY 4, DISCONNECT 11, a SUBMIT of three fields, no partial replies).
 */
final class TestEngine extends TestPeer {
  private final MessageCodec codec = new MessageCodec();
  private final String identity;
  private final Dialect dialect;

  TestEngine(String endpoint, String identity) {
    this(endpoint, identity, Dialect.V0_19);
  }

  TestEngine(String endpoint, String identity, Dialect dialect) {
    this(endpoint, identity, dialect, null);
  }

  TestEngine(String endpoint, String identity, Dialect dialect, CurveClient curve) {
    super(endpoint, identity.getBytes(StandardCharsets.UTF_8), curve);
    this.identity = identity;
    this.dialect = dialect;
  }

  /** The identity of the engine of data-parallel rank {@code rank}. */
  static String identityOf(int rank) {
    return "mp-coord-" + rank;
  }

  String identity() {
    return identity;
  }

  /** Sends the registration, an empty frame. */
  TestEngine register() {
    send(new byte[0]);
    return this;
  }

  /** A SUBMIT_REQUEST and the engine that received it. */
  record Delivery(TestEngine engine, EngineSubmit submit) {
    long requestId() {
      return submit.requestId();
    }
  }

  /**
   * The next SUBMIT_REQUEST that reaches any of {@code engines}, and which engine it reached (the
   * test does not presume the routing decision); fails if none arrives within {@link
   * #RECEIVE_TIMEOUT}.
   */
  static Delivery receiveSubmitOnAny(TestEngine... engines) {
    long deadline = System.nanoTime() + RECEIVE_TIMEOUT.toNanos();
    while (System.nanoTime() - deadline < 0) {
      for (TestEngine engine : engines) {
        byte[] frame = engine.poll(Duration.ofMillis(2));
        if (frame != null) {
          return new Delivery(engine, engine.asSubmit(engine.decode(frame)));
        }
      }
    }
    throw new AssertionError("no SUBMIT_REQUEST reached " + Arrays.toString(engines));
  }

  /**
   * Sends request {@code cid} from {@code client}, lets the engine of {@code engines} that receives
   * it complete it, and expects the reply.
   */
  static Delivery roundTrip(TestClient client, TestEngine[] engines, long cid, long[] prompt) {
    client.submit(cid, prompt);
    Delivery d = receiveSubmitOnAny(engines);
    d.engine().complete(d.requestId());
    client.expectFrame(Pack.array(21, cid, Pack.raw(ReplyRecords.completed(d.requestId()))));
    return d;
  }

  /**
   * Engines of ranks 0 to {@code n - 1}, registered at {@code endpoint} and added to {@code owned}.
   */
  static TestEngine[] registerRanks(String endpoint, int n, List<AutoCloseable> owned) {
    TestEngine[] engines = new TestEngine[n];
    for (int rank = 0; rank < n; rank++) {
      engines[rank] = new TestEngine(endpoint, identityOf(rank));
      owned.add(engines[rank].register());
    }
    return engines;
  }

  /** The next message, decoded as an engine decodes it. */
  Message receive() {
    return decode(receiveFrame());
  }

  private Message decode(byte[] frame) {
    try {
      return codec.decode(dialect, Direction.TO_ENGINE, frame);
    } catch (ProtocolException e) {
      throw new AssertionError(this + " got an undecodable frame " + Pack.hex(frame), e);
    }
  }

  /** The next message, which must be a SUBMIT_REQUEST. */
  EngineSubmit receiveSubmit() {
    return asSubmit(receive());
  }

  private EngineSubmit asSubmit(Message m) {
    assertThat(m).as("%s expected a SUBMIT_REQUEST", this).isInstanceOf(EngineSubmit.class);
    return (EngineSubmit) m;
  }

  /**
   * Receives the next frame, which must be exactly {@code expected.apply(rid)}, {@code rid} being
   * the coordinator request id it carries as element 1 (a SUBMIT's); returns that id.
   */
  long expectSubmitFrame(LongFunction<byte[]> expected) {
    byte[] frame = receiveFrame();
    Value element1 = Pack.unpack(frame).asArrayValue().get(1);
    assertThat(element1.isIntegerValue()).as("%s received %s", this, Pack.describe(frame)).isTrue();
    long rid = element1.asIntegerValue().asLong();
    assertThat(Pack.describe(frame))
        .as("%s received", this)
        .isEqualTo(Pack.describe(expected.apply(rid)));
    return rid;
  }

  /** The coordinator request ids of the next {@code n} messages, which must all be SUBMITs. */
  long[] receiveSubmitIds(int n) {
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = receiveSubmit().requestId();
    }
    return ids;
  }

  /** {@code [21, [records...]]} ({@code [4, ...]} in 0.18's), each record as its encoded map. */
  void reply(byte[]... records) {
    send(Pack.array(old() ? 4 : 21, rawList(records)));
  }

  /** {@code [22, [partials...]]}. */
  void replyPartial(byte[]... records) {
    send(Pack.array(22, rawList(records)));
  }

  /** {@code [21, [record(rid) for each rid]]}: a COMPLETED record per request. */
  void complete(long... requestIds) {
    byte[][] records = new byte[requestIds.length][];
    for (int i = 0; i < requestIds.length; i++) {
      records[i] = ReplyRecords.completed(requestIds[i]);
    }
    reply(records);
  }

  /** {@code [60]} ({@code [11]} in 0.18's): the engine leaves. core_v0.16 has no DISCONNECT. */
  void disconnect() {
    if (dialect == Dialect.V0_16) {
      throw new IllegalStateException("Megatron 0.16 has no DISCONNECT");
    }
    send(Pack.array(old() ? 11 : 60));
  }

  /** An old release's numbering: ENGINE_REPLY is 4 in 0.16's and 0.18's. */
  private boolean old() {
    return !dialect.isMain();
  }

  /** Drops the connection like a crashed engine: nothing more is sent, nothing queued survives. */
  void kill() {
    close();
  }

  private static List<Object> rawList(byte[][] records) {
    List<Object> list = new ArrayList<>(records.length);
    Arrays.stream(records).map(Pack::raw).forEach(list::add);
    return list;
  }

  @Override
  public String toString() {
    return "engine " + identity + (old() ? " (" + dialect.cliName() + ")" : "");
  }
}
