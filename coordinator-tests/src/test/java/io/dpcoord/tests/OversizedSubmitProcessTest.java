package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.protocol.ClientReply;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A huge SUBMIT beside a normal client, against {@code serve} as a separate process
 * (docs/SECURITY.md, "Admission and resource limits"): one at the largest message size on a 256 MiB
 * heap, and one over {@code --max-message-bytes}.
 */
@Timeout(120)
class OversizedSubmitProcessTest {
  private static final int NORMAL_REQUESTS = 200;
  private static final Duration QUIET = Duration.ofMillis(500);

  @TempDir Path temp;
  private final ExecutorService engineThread = Executors.newSingleThreadExecutor();
  private final AtomicBoolean stop = new AtomicBoolean();

  @AfterEach
  void shutDownEngineThread() throws InterruptedException {
    stop.set(true);
    engineThread.shutdown();
    assertThat(engineThread.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  /**
   * {@code [20, cid, [1, 1, ...], {"num_tokens_to_generate": 4}, nil]}, {@code bytes} long: a token
   * prompt of one-byte ints (array 32 header), as much of the frame as the rest leaves; {@code cid}
   * is a positive fixint (below 128).
   */
  private static byte[] submitOfSize(int cid, int bytes) {
    assertThat(cid).isBetween(0, 127);
    byte[] sampling = Pack.value(TestClient.SAMPLING);
    byte[] head = {(byte) 0x95, 20, (byte) cid, (byte) 0xdd, 0, 0, 0, 0};
    int tokens = bytes - head.length - sampling.length - 1;
    byte[] frame = new byte[bytes];
    ByteBuffer.wrap(frame).put(head).putInt(4, tokens);
    Arrays.fill(frame, head.length, head.length + tokens, (byte) 1);
    System.arraycopy(sampling, 0, frame, head.length + tokens, sampling.length);
    frame[bytes - 1] = (byte) 0xc0; // nil: no multimodal data
    return frame;
  }

  /** The engine of rank 0, on its own thread: completes every SUBMIT; returns how many it saw. */
  private Future<Integer> answeringEngine(String endpoint) {
    TestEngine engine = new TestEngine(endpoint, TestEngine.identityOf(0));
    engine.register();
    return engineThread.submit(
        () -> {
          try (engine) {
            int submits = 0;
            while (!stop.get()) {
              byte[] frame = engine.poll(Duration.ofMillis(50));
              if (frame != null) {
                submits++;
                engine.complete(Pack.unpack(frame).asArrayValue().get(1).asIntegerValue().asLong());
              }
            }
            return submits;
          }
        });
  }

  /** Stops the engine: how many SUBMITs it answered. */
  private int stopEngine(Future<Integer> engine) throws Exception {
    stop.set(true);
    return engine.get(10, TimeUnit.SECONDS);
  }

  /** Submits requests {@code from} to {@code to - 1}, each a small token prompt. */
  private static void submit(TestClient client, int from, int to) {
    for (int i = from; i < to; i++) {
      client.submit(i, List.of(1, 2, 3, i));
    }
  }

  /** The next {@code n} replies are all COMPLETED, one for each of {@code n} request ids. */
  private static void expectCompleted(TestClient client, int n) {
    Set<Long> answered = new HashSet<>();
    for (ClientReply reply : client.receiveReplies(n)) {
      assertThat(ReplyRecords.status(reply.record().toByteArray())).isEqualTo("COMPLETED");
      answered.add(reply.clientRequestId());
    }
    assertThat(answered).hasSize(n);
  }

  /** The last count of {@code counter} in serve's --report-every output, or -1. */
  private static long count(ServeProcess serve, String counter) {
    Matcher m =
        Pattern.compile("(?m)^" + counter + "\\n\\s*count = (\\d+)$").matcher(serve.stderr());
    long count = -1;
    while (m.find()) {
      count = Long.parseLong(m.group(1));
    }
    return count;
  }

  /** {@code serve --port 0 --engines 1 --log-level warn FLAGS...} on a 256 MiB heap. */
  private ServeProcess serveOn256MiB(String... flags) throws Exception {
    List<String> args = new ArrayList<>(List.of("--port", "0", "--engines", "1"));
    args.addAll(List.of("--log-level", "warn"));
    args.addAll(List.of(flags));
    return ServeProcess.start(temp, List.of("-Xmx256m"), args.toArray(String[]::new));
  }

  /**
   * Half of the normal client's requests, then {@code big} sends {@code frame}, then the other
   * half; every normal request must get its COMPLETED reply.
   */
  private static void submitBeside(TestClient normal, TestClient big, byte[] frame) {
    normal.connect();
    big.connect();
    submit(normal, 0, NORMAL_REQUESTS / 2);
    big.send(frame);
    submit(normal, NORMAL_REQUESTS / 2, NORMAL_REQUESTS);
    expectCompleted(normal, NORMAL_REQUESTS);
  }

  @Test
  void aSubmitOf64MiBBesideANormalClientIsAnsweredFailedNamingTheLimitOnA256MiBHeap()
      throws Exception {
    try (ServeProcess serve = serveOn256MiB("--report-every", "200ms");
        TestClient normal = new TestClient(serve.endpoint(), "normal");
        TestClient big = new TestClient(serve.endpoint(), "big")) {
      Future<Integer> engine = answeringEngine(serve.endpoint());
      // --max-message-bytes's default: ZMQ takes no larger message
      byte[] huge = submitOfSize(7, 64 << 20);
      int tokens = ByteBuffer.wrap(huge).getInt(4);
      submitBeside(normal, big, huge);
      huge = null;

      ClientReply reply = big.receiveReply();
      assertThat(reply.clientRequestId()).isEqualTo(7);
      byte[] record = reply.record().toByteArray();
      assertThat(ReplyRecords.status(record)).isEqualTo("FAILED");
      assertThat(ReplyRecords.failureMessage(record))
          .isEqualTo("the prompt has " + tokens + " tokens, more than --max-prompt-tokens 1048576");
      assertThat(ReplyRecords.field(Pack.unpack(record), "prompt").isNilValue()).isTrue();
      Await.until(
          "coordinator_limit_rejected_total 1 in a report",
          () -> count(serve, "coordinator_limit_rejected_total") == 1,
          serve::stderr);
      assertThat(stopEngine(engine))
          .as("SUBMITs that reached the engine")
          .isEqualTo(NORMAL_REQUESTS);
      assertThat(serve.process().isAlive()).isTrue();
      assertThat(serve.stderr()).doesNotContain("OutOfMemoryError", "internal error");
      serve.stop();
    }
  }

  @Test
  void aSubmitOverMaxMessageBytesLosesOnlyItsOwnConnection() throws Exception {
    try (ServeProcess serve = serveOn256MiB("--max-message-bytes", "1m");
        TestClient normal = new TestClient(serve.endpoint(), "normal");
        TestClient big = new TestClient(serve.endpoint(), "big")) {
      Future<Integer> engine = answeringEngine(serve.endpoint());
      submitBeside(normal, big, submitOfSize(7, 2 << 20));

      assertThat(big.poll(QUIET)).as("a reply to the message ZMQ dropped").isNull();
      // ZMQ closed its connection and the DEALER made a new one: to the coordinator a new peer,
      // which must CONNECT again, and is then served
      big.connect();
      big.submit(8, List.of(1, 2, 3));
      expectCompleted(big, 1);
      assertThat(stopEngine(engine))
          .as("SUBMITs that reached the engine")
          .isEqualTo(NORMAL_REQUESTS + 1);
      assertThat(serve.process().isAlive()).isTrue();
      serve.stop();
    }
  }
}
