package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.value.Value;
import org.zeromq.SocketType;
import org.zeromq.ZMQ;

@Timeout(30)
class EngineCommandTest {

  @Test
  void runsUntilStopAndSaysWhatItDid() throws Exception {
    try (ZMQ.Context context = ZMQ.context(1);
        ZMQ.Socket router = boundRouter(context)) {
      CompletableFuture<CliRun> engine =
          CompletableFuture.supplyAsync(
              () -> CliRun.of("engine", "--connect", router.getLastEndpoint(), "--rank", "5"));

      byte[] identity = router.recv(0);
      byte[] registration = router.recv(0);
      router.send(identity, ZMQ.SNDMORE);
      router.send(new byte[] {(byte) 0x91, 45}, 0); // [45] STOP
      byte[] identityAgain = router.recv(0);
      byte[] disconnect = router.recv(0);
      CliRun run = engine.get(10, TimeUnit.SECONDS);

      assertThat(new String(identity, StandardCharsets.UTF_8)).isEqualTo("mp-coord-5");
      assertThat(registration).isEmpty();
      assertThat(identityAgain).isEqualTo(identity);
      assertThat(disconnect).containsExactly(0x91, 60); // [60] DISCONNECT
      assertThat(run.status()).isZero();
      assertThat(run.out()).contains("engine mp-coord-5 stopped: accepted 0");
      assertThat(run.err()).contains("engine mp-coord-5 connected to tcp://127.0.0.1:");
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void recordsCarryTheExtensionKeysOnlyWithTheirFlag(boolean extensionKeys) throws Exception {
    try (ZMQ.Context context = ZMQ.context(1);
        ZMQ.Socket router = boundRouter(context)) {
      List<String> args =
          new ArrayList<>(List.of("engine", "--connect", router.getLastEndpoint(), "--rank", "3"));
      args.addAll(List.of("--base-ms", "0", "--generated-tokens", "2"));
      if (extensionKeys) {
        args.add("--extension-keys");
      }
      CompletableFuture<CliRun> engine =
          CompletableFuture.supplyAsync(() -> CliRun.of(args.toArray(String[]::new)));
      byte[] identity = router.recv(0);
      router.recv(0); // registration

      MessageBufferPacker submit = MessagePack.newDefaultBufferPacker();
      submit.packArrayHeader(4).packInt(20).packInt(7).packArrayHeader(16);
      for (int t = 0; t < 16; t++) {
        submit.packInt(100 + t);
      }
      submit.packMapHeader(1).packString("num_tokens_to_generate").packInt(2);
      router.send(identity, ZMQ.SNDMORE);
      router.send(submit.toByteArray(), 0);
      router.recv(0);
      Value reply = MessagePack.newDefaultUnpacker(router.recv(0)).unpackValue();
      router.send(identity, ZMQ.SNDMORE);
      router.send(new byte[] {(byte) 0x91, 45}, 0); // [45] STOP
      CliRun run = engine.get(10, TimeUnit.SECONDS);

      assertThat(reply.asArrayValue().get(0).asIntegerValue().asInt()).isEqualTo(21);
      List<String> keys = new ArrayList<>();
      reply
          .asArrayValue()
          .get(1)
          .asArrayValue()
          .get(0)
          .asMapValue()
          .keySet()
          .forEach(k -> keys.add(k.asStringValue().asString()));
      assertThat(keys).contains("request_id", "generated_tokens", "num_cached_tokens");
      if (extensionKeys) {
        assertThat(keys).contains("served_by_rank", "cached_blocks");
      } else {
        assertThat(keys).doesNotContain("served_by_rank", "cached_blocks");
      }
      assertThat(run.status()).isZero();
    }
  }

  /** A ROUTER on a loopback port chosen at run time, for the engine to connect to. */
  private static ZMQ.Socket boundRouter(ZMQ.Context context) {
    ZMQ.Socket router = context.socket(SocketType.ROUTER);
    router.setLinger(0);
    router.setReceiveTimeOut(10_000);
    router.bind("tcp://127.0.0.1:*");
    return router;
  }

  @Test
  void helpDescribesTheFlags() {
    CliRun run = CliRun.of("engine", "--help");

    assertThat(run.status()).isZero();
    assertThat(run.out())
        .contains("Usage: coordinator engine")
        .contains("--connect")
        .contains("--rank")
        .contains("--cache-blocks")
        .contains("--block-size")
        .contains("--base-ms")
        .contains("--per-prompt-token-us")
        .contains("--per-generated-token-us")
        .contains("--generated-tokens")
        .contains("--stream")
        .contains("--extension-keys");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--rank 0",
        "--connect tcp://127.0.0.1:5555",
        "--connect localhost:5555 --rank 0",
        "--connect tcp://127.0.0.1:0 --rank 0",
        "--connect tcp://127.0.0.1:5555 --rank -1",
        "--connect tcp://127.0.0.1:5555 --rank x",
        "--connect tcp://127.0.0.1:5555 --rank 0 --cache-blocks -1",
        "--connect tcp://127.0.0.1:5555 --rank 0 --block-size 0",
        "--connect tcp://127.0.0.1:5555 --rank 0 --base-ms -1",
        "--connect tcp://127.0.0.1:5555 --rank 0 --per-prompt-token-us NaN",
        "--connect tcp://127.0.0.1:5555 --rank 0 --generated-tokens -3",
        "--connect tcp://127.0.0.1:5555 --rank 0 --plain-records --extension-keys",
        "--connect tcp://127.0.0.1:5555 --rank 0 --bogus"
      })
  void badFlagsExit2WithOneLine(String flags) {
    CliRun run = CliRun.of(("engine " + flags).split(" "));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.errLines()).hasSize(1);
    assertThat(run.errLines().get(0)).startsWith("coordinator engine: ");
  }
}
