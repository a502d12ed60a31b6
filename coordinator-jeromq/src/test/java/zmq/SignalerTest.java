package zmq;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.jeromq.SignalerFix;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import zmq.util.Errno;

/** The fixed {@code zmq.Signaler}: a signal is counted before its byte is written. */
@Timeout(30)
class SignalerTest {
  private Ctx ctx;
  private Signaler signaler;

  @BeforeEach
  void open() {
    ctx = new Ctx();
    signaler = new Signaler(ctx, 1, new Errno());
  }

  @AfterEach
  void close() throws Exception {
    signaler.close();
    ctx.terminate();
  }

  @Test
  void theFixedSignalerIsTheOneOnTheClassPath() {
    assertThat(SignalerFix.isLoaded()).isTrue();
  }

  @Test
  void aSignalIsCountedBeforeItsByteIsWritten() throws Exception {
    // fill the pipe, so that the sender's write must wait for the reader to make room
    Pipe.SinkChannel sink = field("w");
    long filled = 0;
    ByteBuffer filler = ByteBuffer.allocate(4096);
    for (int n = 1; n > 0; filled += n) {
      filler.clear();
      n = sink.write(filler);
    }
    CompletableFuture<Void> sent = CompletableFuture.runAsync(signaler::send);

    // jeromq's own signaler counts only after the write, so waitEvent(0) would stay false here
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    boolean counted = false;
    while (!counted && System.nanoTime() < deadline) {
      counted = signaler.waitEvent(0);
      Thread.onSpinWait();
    }
    assertThat(counted).as("the signal is counted while its byte waits").isTrue();
    assertThat(sent).isNotDone();

    // make room: the byte is written, and recv() reads it
    Pipe.SourceChannel source = field("r");
    for (long drained = 0; drained < filled; ) {
      filler.clear().limit((int) Math.min(filler.capacity(), filled - drained));
      drained += source.read(filler);
    }
    sent.get(10, TimeUnit.SECONDS);
    signaler.recv();
    assertThat(signaler.waitEvent(0)).isFalse();
  }

  @Test
  void recvWaitsForACountedByteThatIsNotWrittenYet() throws Exception {
    // the moment between send()'s count and its write
    AtomicLong written = field("wcursor");
    written.incrementAndGet();
    assertThat(signaler.waitEvent(0)).isTrue();
    CompletableFuture<Void> received = CompletableFuture.runAsync(signaler::recv);
    assertThat(received).isNotDone();

    Pipe.SinkChannel sink = field("w");
    assertThat(sink.write(ByteBuffer.allocate(1))).isEqualTo(1);
    received.get(10, TimeUnit.SECONDS);
    assertThat(signaler.waitEvent(0)).isFalse();
  }

  @SuppressWarnings("unchecked")
  private <T> T field(String name) throws ReflectiveOperationException {
    Field f = Signaler.class.getDeclaredField(name);
    f.setAccessible(true);
    return (T) f.get(signaler);
  }
}
