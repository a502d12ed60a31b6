package io.dpcoord.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Engine replies decoded with the forwarded prompts known ({@link MessageCodec#recognisePrompts})
 * pass the prompt's copies by comparing bytes; what is accepted and what is rejected, and why, must
 * not change.
 */
class PromptEchoTest {
  private static final int FRAMES = 30_000;

  private final List<RawValue> prompts = new ArrayList<>();
  private int lookups;
  private final LongFunction<RawValue> forwarded =
      id -> {
        lookups++;
        return id >= 0 && id < prompts.size() ? prompts.get((int) id) : null;
      };
  private final MessageCodec plain = new MessageCodec();
  private final MessageCodec echoing = new MessageCodec().recognisePrompts(forwarded);

  @Test
  void repliesEchoingTheirPromptDecodeAsWithoutTheShortcut() throws IOException {
    long seed = Long.getLong("fuzz.seed", 0xec40_2026L);
    Random rnd = new Random(seed);
    for (int i = 0; i < 64; i++) {
      prompts.add(forwardedPrompt(rnd));
    }
    int accepted = 0;
    for (int i = 0; i < FRAMES; i++) {
      byte[] frame = reply(rnd);
      if (rnd.nextInt(4) != 0) {
        frame = DecoderFuzzTest.mutate(rnd, frame);
      }
      String where = "seed " + seed + ", frame " + i;
      Object expected = outcome(plain, frame);
      assertThat(outcome(echoing, frame)).as(where).isEqualTo(expected);
      if (expected instanceof EngineReply r && !r.records().isEmpty()) {
        accepted++;
      }
    }
    assertThat(accepted).as("frames with records accepted").isGreaterThan(FRAMES / 5);
    assertThat(lookups).as("prompts looked up").isGreaterThan(FRAMES / 5);
  }

  @Test
  void aCopyCutShortByTheFrameIsRejected() throws IOException, ProtocolException {
    Random rnd = new Random(7);
    prompts.add(forwardedPrompt(rnd));
    byte[] frame = reply(rnd, 0, true);
    int cut = indexOf(frame, prompts.get(0).toByteArray()) + prompts.get(0).length() - 1;
    byte[] shortFrame = Arrays.copyOf(frame, cut);
    assertThat(outcome(echoing, shortFrame)).isEqualTo(outcome(plain, shortFrame));
    assertThat(outcome(echoing, shortFrame).toString()).startsWith("MALFORMED_MSGPACK");
    assertThat(outcome(echoing, frame)).isInstanceOf(EngineReply.class);
  }

  /** The message decoded, or the reason and message it was rejected with. */
  private static Object outcome(MessageCodec codec, byte[] frame) {
    try {
      return codec.decode(Direction.TO_COORDINATOR, frame);
    } catch (ProtocolException e) {
      return e.reason() + ": " + e.getMessage();
    }
  }

  /** A prompt as the coordinator forwards it: decoded from a client's SUBMIT. */
  private RawValue forwardedPrompt(Random rnd) throws IOException {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packArrayHeader(4).packInt(Header.SUBMIT_REQUEST.wire()).packLong(1);
      if (rnd.nextInt(4) == 0) {
        p.packString(RandomValues.randomText(rnd, 1 + rnd.nextInt(300)));
      } else {
        int n = rnd.nextInt(300);
        p.packArrayHeader(n);
        for (int k = 0; k < n; k++) {
          p.packLong(rnd.nextInt(4) == 0 ? rnd.nextInt(128) : rnd.nextInt(150_000));
        }
      }
      p.packMapHeader(0);
      return ((SubmitRequest) plain.decode(Direction.TO_COORDINATOR, p.toByteArray()))
          .prompt()
          .raw();
    } catch (ProtocolException e) {
      throw new AssertionError(e);
    }
  }

  private byte[] reply(Random rnd) throws IOException {
    int id = rnd.nextInt(prompts.size() + 4) - 2; // a few ids that know no prompt
    return reply(rnd, id, rnd.nextBoolean());
  }

  /**
   * ENGINE_REPLY with one record carrying the prompt of {@code id} (or another's) as Megatron's.
   */
  private byte[] reply(Random rnd, int id, boolean idFirst) throws IOException {
    RawValue prompt = prompts.get(Math.floorMod(rnd.nextInt(8) == 0 ? id + 1 : id, prompts.size()));
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packArrayHeader(2).packInt(Header.ENGINE_REPLY.wire()).packArrayHeader(1);
      p.packMapHeader(5);
      if (idFirst) {
        p.packString("request_id").packLong(id);
      }
      p.packString("prompt");
      prompt.writeTo(p);
      p.packString("prompt_tokens").packArrayHeader(2).packString("tensor");
      prompt.writeTo(p);
      p.packString("status").packString("COMPLETED");
      p.packString("events");
      RandomValues.write(p, rnd, 2);
      if (!idFirst) {
        p.packString("request_id").packLong(id);
      }
      return p.toByteArray();
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int k = 0; k < needle.length; k++) {
        if (haystack[i + k] != needle[k]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
