package io.dpcoord.bench;

import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.EngineReply;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.SubmitRequest;
import io.dpcoord.tokenizers.TextTokenizer;
import java.io.IOException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The codec's cost per frame on the event loop: decoding a client's SUBMIT and an engine's 36-field
 * ENGINE_REPLY, encoding the SUBMIT forwarded to an engine and the reply forwarded to a client.
 *
 * <p>Decoding reads the token ids (routing needs them) and walks every other byte once to validate
 * it, but for the copies of a forwarded prompt in a reply when the prompts are known (as on the
 * loop), which are compared as bytes; opaque fields become slices of the frame. Encoding copies
 * those slices. Run: {@code java -jar coordinator-bench/target/benchmarks.jar CodecBenchmark -prof
 * gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBenchmark {
  private static final int SIZE = 16;
  private static final int MASK = SIZE - 1;

  /** Prompt length in tokens, for the SUBMIT and for the reply's prompt_tokens. */
  @Param({"256", "4096"})
  public int promptTokens;

  /**
   * The token ids: {@code uniform128k} at random below 128,000 (half uint16, half uint32, mixed at
   * random), {@code uniform32k} below 32,000 (almost all uint16, as the load benchmark's prompts),
   * {@code llama3} real text (the tokenizer benchmarks' mixed corpus) through the Llama 3 tokenizer
   * under {@code .cache/tokenizers} ({@code ./test} fetches it; {@code -Ddpcoord.root=DIR} if not
   * run from the repository): fixint, uint8, uint16 and uint32 mixed as text mixes them.
   */
  @Param({"uniform128k", "uniform32k", "llama3"})
  public String ids;

  private final MessageCodec codec = new MessageCodec();
  private final RawValue[] prompts = new RawValue[SIZE];
  /* as the coordinator's loop decodes replies: knowing each request's forwarded prompt */
  private final MessageCodec coordinator =
      new MessageCodec().recognisePrompts(id -> prompts[(int) (id - 5000) & MASK]);
  private final byte[][] submitFrames = new byte[SIZE][];
  private final byte[][] replyFrames = new byte[SIZE][];
  private final EngineSubmit[] engineSubmits = new EngineSubmit[SIZE];
  private final ClientReply[] clientReplies = new ClientReply[SIZE];
  private int index;

  /** Builds the frames as Megatron peers would send them, and the messages to encode. */
  @Setup
  public void setUp() throws IOException, ProtocolException {
    SplittableRandom random = new SplittableRandom(42);
    long[] text = ids.equals("llama3") ? llama3Corpus() : null;
    for (int i = 0; i < SIZE; i++) {
      long[] tokens = new long[promptTokens];
      int from = text == null ? 0 : random.nextInt(text.length - promptTokens);
      for (int k = 0; k < tokens.length; k++) {
        tokens[k] =
            switch (ids) {
              case "uniform128k" -> random.nextLong(128_000);
              case "uniform32k" -> random.nextLong(32_000);
              case "llama3" -> text[from + k];
              default -> throw new IllegalArgumentException("ids: " + ids);
            };
      }
      submitFrames[i] = submitFrame(1000 + i, tokens);
      replyFrames[i] = replyFrame(5000 + i, tokens, random);
      SubmitRequest submit =
          (SubmitRequest) codec.decode(Direction.TO_COORDINATOR, submitFrames[i]);
      prompts[i] = submit.prompt().raw();
      engineSubmits[i] = new EngineSubmit(5000 + i, submit.prompt(), submit.samplingParams(), null);
      EngineReply reply = (EngineReply) codec.decode(Direction.TO_COORDINATOR, replyFrames[i]);
      clientReplies[i] = new ClientReply(1000 + i, reply.records().get(0).raw());
    }
  }

  /** The tokenizer benchmarks' corpus through Llama 3, repeated to at least 16,384 ids. */
  private static long[] llama3Corpus() {
    TextTokenizer llama3 =
        BenchTexts.load("huggingface:.cache/tokenizers/llama3", BenchTexts.root());
    long[] once = llama3.tokenize(String.join("", BenchTexts.paragraphs()));
    long[] out = new long[Math.max(16_384, once.length)];
    for (int k = 0; k < out.length; k++) {
      out[k] = once[k % once.length];
    }
    return out;
  }

  /** A client's SUBMIT: token prompt and a Megatron-sized sampling_params map. */
  @Benchmark
  public Message decodeSubmit() throws ProtocolException {
    return codec.decode(Direction.TO_COORDINATOR, submitFrames[index++ & MASK]);
  }

  /** An engine's ENGINE_REPLY carrying one 36-field record. */
  @Benchmark
  public Message decodeEngineReply() throws ProtocolException {
    return codec.decode(Direction.TO_COORDINATOR, replyFrames[index++ & MASK]);
  }

  /**
   * The same, decoded as the coordinator does: the record's two copies of the forwarded prompt
   * ({@code prompt_tokens}, {@code remaining_prompt_tokens}) are passed by comparing bytes.
   */
  @Benchmark
  public Message decodeEngineReplyKnownPrompt() throws ProtocolException {
    return coordinator.decode(Direction.TO_COORDINATOR, replyFrames[index++ & MASK]);
  }

  /** The SUBMIT the coordinator forwards to the chosen engine. */
  @Benchmark
  public byte[] encodeEngineSubmit() {
    return codec.encode(engineSubmits[index++ & MASK]);
  }

  /** The reply the coordinator forwards to the owning client. */
  @Benchmark
  public byte[] encodeClientReply() {
    return codec.encode(clientReplies[index++ & MASK]);
  }

  private static byte[] submitFrame(long clientRequestId, long[] tokens) throws IOException {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packArrayHeader(4);
      p.packInt(20);
      p.packLong(clientRequestId);
      packTokens(p, tokens);
      samplingParams(p);
      return p.toByteArray();
    }
  }

  private static void samplingParams(MessageBufferPacker p) throws IOException {
    p.packMapHeader(15);
    p.packString("temperature");
    p.packDouble(0.7);
    p.packString("top_k");
    p.packInt(0);
    p.packString("top_p");
    p.packDouble(0.9);
    p.packString("return_log_probs");
    p.packBoolean(false);
    p.packString("return_segments");
    p.packBoolean(false);
    p.packString("num_tokens_to_generate");
    p.packInt(256);
    p.packString("num_tokens_total");
    p.packNil();
    p.packString("termination_id");
    p.packInt(2);
    p.packString("top_n_logprobs");
    p.packInt(0);
    p.packString("return_prompt_top_n_logprobs");
    p.packBoolean(false);
    p.packString("add_BOS");
    p.packBoolean(false);
    p.packString("skip_prompt_log_probs");
    p.packBoolean(false);
    p.packString("stop_words");
    p.packNil();
    p.packString("detokenize_stop_sequence");
    p.packBoolean(false);
    p.packString("return_prompt_tokens");
    p.packBoolean(true);
  }

  /** ENGINE_REPLY with one record shaped like DynamicInferenceRequest.serialize(). */
  private static byte[] replyFrame(long requestId, long[] tokens, SplittableRandom random)
      throws IOException {
    int generated = 256;
    double t0 = 1.718e9 + requestId;
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packArrayHeader(2);
      p.packInt(21);
      p.packArrayHeader(1);
      p.packMapHeader(36);
      p.packString("request_id");
      p.packLong(requestId);
      p.packString("prompt");
      p.packNil();
      p.packString("sampling_params");
      samplingParams(p);
      p.packString("inference_parameters");
      p.packNil();
      p.packString("prompt_tokens");
      tensor(p, tokens);
      p.packString("arrival_time");
      p.packDouble(t0);
      p.packString("status");
      p.packString("COMPLETED");
      for (String key :
          new String[] {
            "encoder_prompt",
            "generated_text",
            "segments",
            "generated_segments",
            "generated_sequence_lengths",
            "prompt_log_probs",
            "prompt_top_n_logprobs",
            "generated_top_n_logprobs",
            "routing_indices",
            "stop_word_ids",
            "disaggregated_params"
          }) {
        p.packString(key);
        p.packNil();
      }
      long[] out = new long[generated];
      for (int k = 0; k < generated; k++) {
        out[k] = random.nextLong(128_000);
      }
      p.packString("generated_tokens");
      packTokens(p, out);
      p.packString("generated_log_probs");
      p.packArrayHeader(generated);
      for (int k = 0; k < generated; k++) {
        p.packDouble(-random.nextDouble());
      }
      p.packString("generated_length");
      p.packInt(generated);
      p.packString("tpot");
      p.packArrayHeader(8);
      for (int k = 0; k < 8; k++) {
        p.packDouble(0.012 + k * 1e-5);
      }
      p.packString("uid");
      p.packString("chatcmpl-" + Long.toHexString(random.nextLong()) + "0123456789abcdef");
      p.packString("remaining_prompt_tokens");
      tensor(p, tokens);
      p.packString("policy_epoch");
      epochs(p);
      p.packString("kv_cache_epoch");
      epochs(p);
      p.packString("latency");
      p.packDouble(2.5);
      p.packString("finished_chunk_token_count");
      p.packInt(0);
      p.packString("cg_wait_iters");
      p.packInt(0);
      p.packString("block_size_tokens");
      p.packInt(256);
      p.packString("enable_prefix_caching");
      p.packBoolean(true);
      p.packString("num_cached_tokens");
      p.packInt(tokens.length / 2);
      p.packString("precomputed_block_hashes");
      p.packArrayHeader(tokens.length / 256);
      for (int k = 0; k < tokens.length / 256; k++) {
        p.packLong(random.nextLong(1L << 61));
      }
      p.packString("ttft");
      p.packDouble(0.045);
      p.packString("events");
      p.packArrayHeader(3);
      event(p, t0, "ADD_ENGINE");
      event(p, t0 + 0.001, "ADD_CONTEXT");
      event(p, t0 + 2.5, "FINISH");
      p.packString("acceptance_step_lengths");
      p.packArrayHeader(0);
      return p.toByteArray();
    }
  }

  private static void packTokens(MessageBufferPacker p, long[] tokens) throws IOException {
    p.packArrayHeader(tokens.length);
    for (long t : tokens) {
      p.packLong(t);
    }
  }

  private static void tensor(MessageBufferPacker p, long[] tokens) throws IOException {
    p.packArrayHeader(2);
    p.packString("tensor");
    packTokens(p, tokens);
  }

  private static void epochs(MessageBufferPacker p) throws IOException {
    p.packArrayHeader(1);
    p.packArrayHeader(2);
    p.packInt(0);
    p.packInt(0);
  }

  private static void event(MessageBufferPacker p, double timestamp, String type)
      throws IOException {
    p.packMapHeader(3);
    p.packString("timestamp");
    p.packDouble(timestamp);
    p.packString("type");
    p.packString(type);
    p.packString("payload");
    p.packNil();
  }
}
