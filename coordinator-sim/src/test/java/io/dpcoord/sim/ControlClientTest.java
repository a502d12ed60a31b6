package io.dpcoord.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dpcoord.protocol.Connect;
import io.dpcoord.protocol.ConnectAck;
import io.dpcoord.protocol.ControlSignal;
import io.dpcoord.protocol.Header;
import io.dpcoord.protocol.SetGenerationEpoch;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class ControlClientTest {
  private final TestRouter router = new TestRouter();

  @AfterEach
  void cleanUp() {
    router.close();
  }

  @Test
  void handshakesThenSendsSignalsAndEpochs() {
    CompletableFuture<ControlClient> connecting =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return ControlClient.connect(router.endpoint(), TestRouter.TIMEOUT);
              } catch (TimeoutException e) {
                throw new CompletionException(e);
              }
            });
    TestRouter.Received hello = router.receiveLive();
    assertThat(hello.decode()).isInstanceOf(Connect.class);
    router.send(hello.identity(), new ConnectAck());

    try (ControlClient client = connecting.join()) {
      client.signal(Header.PAUSE);
      client.setGenerationEpoch(3);
    }

    assertThat(router.receive().decode()).isEqualTo(new ControlSignal(Header.PAUSE));
    assertThat(router.receive().decode()).isEqualTo(new SetGenerationEpoch(3));
  }

  @Test
  void noAckIsATimeout() {
    assertThatThrownBy(() -> ControlClient.connect(router.endpoint(), Duration.ofMillis(100)))
        .isInstanceOf(TimeoutException.class);
  }
}
