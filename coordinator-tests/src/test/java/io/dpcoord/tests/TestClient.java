package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.ClientReplyPartial;
import io.dpcoord.protocol.ConnectAck;
import io.dpcoord.protocol.Dialect;
import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.Header;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.sim.CurveClient;
import java.util.ArrayList;
import java.util.List;

/**
 * A client: CONNECT handshake, SUBMIT and friends, replies decoded as a client decodes them; in
 * main's wire dialect, or in Megatron 0.17/0.18's, which numbers CONNECT 1, CONNECT_ACK 2 and
 * SUBMIT_REQUEST 3 and whose SUBMIT has exactly three fields.
 */
final class TestClient extends TestPeer {
  /** Sampling params used when a test does not care: {"num_tokens_to_generate": 4}. */
  static final Object SAMPLING = Pack.map("num_tokens_to_generate", 4);

  private final MessageCodec codec = new MessageCodec();
  private final String name;
  private final Dialect dialect;
  private final byte[] connect;
  private final byte[] connectAck;
  private final int submit;

  TestClient(String endpoint, String name) {
    this(endpoint, name, Dialect.V0_19);
  }

  TestClient(String endpoint, String name, Dialect dialect) {
    this(endpoint, name, dialect, null);
  }

  TestClient(String endpoint, String name, Dialect dialect, CurveClient curve) {
    super(endpoint, null, curve);
    this.name = name;
    this.dialect = dialect;
    connect = Pack.array(dialect.wire(Header.CONNECT));
    connectAck = Pack.array(dialect.wire(Header.CONNECT_ACK));
    submit = dialect.wire(Header.SUBMIT_REQUEST);
  }

  /** Sends CONNECT and expects CONNECT_ACK as the next message. */
  TestClient connect() {
    send(connect);
    expectFrame(connectAck);
    return this;
  }

  /**
   * A round trip that proves nothing else was queued for this client: every message the coordinator
   * sent it before answering this CONNECT would arrive first and fail the test. It also proves that
   * the coordinator finished handling everything whose effect this client saw.
   */
  void expectNothingMore() {
    connect();
  }

  /**
   * Sends CONNECT and returns the terminal replies that arrive before its CONNECT_ACK: every reply
   * the coordinator sent this client before it handled the CONNECT, in order, whatever they are.
   */
  List<ClientReply> receiveRepliesBeforeHandshake() {
    send(connect);
    List<ClientReply> replies = new ArrayList<>();
    for (Message m = receive(); !(m instanceof ConnectAck); m = receive()) {
      assertThat(m).as("%s expected a reply or CONNECT_ACK", this).isInstanceOf(ClientReply.class);
      replies.add((ClientReply) m);
    }
    return replies;
  }

  /** {@code [20, cid, prompt, sampling_params]} ({@code [3, ...]} in 0.18's dialect). */
  void submit(long cid, Object prompt, Object samplingParams) {
    send(Pack.array(submit, cid, prompt, samplingParams));
  }

  /** {@code [20, cid, prompt, {"num_tokens_to_generate": 4}]} ({@code [3, ...]} in 0.18's). */
  void submit(long cid, Object prompt) {
    submit(cid, prompt, SAMPLING);
  }

  /** The next message, decoded as a client of this dialect decodes it. */
  Message receive() {
    byte[] frame = receiveFrame();
    try {
      return codec.decode(dialect, Direction.TO_CLIENT, frame);
    } catch (ProtocolException e) {
      throw new AssertionError(this + " got an undecodable frame " + Pack.hex(frame), e);
    }
  }

  /** The next message, which must be a terminal ENGINE_REPLY. */
  ClientReply receiveReply() {
    Message m = receive();
    assertThat(m).as("%s expected a reply", this).isInstanceOf(ClientReply.class);
    return (ClientReply) m;
  }

  /** The next message, which must be an ENGINE_REPLY_PARTIAL. */
  ClientReplyPartial receivePartial() {
    Message m = receive();
    assertThat(m).as("%s expected a partial reply", this).isInstanceOf(ClientReplyPartial.class);
    return (ClientReplyPartial) m;
  }

  /** The next {@code n} messages, which must all be terminal replies. */
  List<ClientReply> receiveReplies(int n) {
    List<ClientReply> replies = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      replies.add(receiveReply());
    }
    return replies;
  }

  @Override
  public String toString() {
    return "client " + name + (dialect == Dialect.V0_19 ? "" : " (" + dialect.cliName() + ")");
  }
}
