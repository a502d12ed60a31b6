package io.dpcoord.sim;

import static io.dpcoord.sim.TestRouter.await;
import static io.dpcoord.sim.TestRouter.fields;
import static io.dpcoord.sim.TestRouter.intArray;
import static io.dpcoord.sim.TestRouter.map;
import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.protocol.AbortRequest;
import io.dpcoord.protocol.ControlSignal;
import io.dpcoord.protocol.Disconnect;
import io.dpcoord.protocol.EngineReply;
import io.dpcoord.protocol.EngineReplyPartial;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.protocol.EngineSubmitWithKv;
import io.dpcoord.protocol.Header;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.Registration;
import io.dpcoord.protocol.ReleaseKv;
import io.dpcoord.protocol.ReplyRecord;
import io.dpcoord.protocol.SetGenerationEpoch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.msgpack.value.Value;

@Timeout(20)
class SimulatedEngineTest {
  private static final RawValue FIVE_TOKENS = map("num_tokens_to_generate", 5);

  private final AtomicLong clock = new AtomicLong();
  private final List<SimulatedEngine> engines = new ArrayList<>();
  private TestRouter router;

  @BeforeEach
  void bind() {
    router = new TestRouter();
  }

  @AfterEach
  void cleanUp() {
    engines.forEach(SimulatedEngine::kill);
    router.close();
  }

  /** An engine with no modelled cost: every request is due as soon as it arrives. */
  private EngineConfig.Builder instant(int rank) {
    return EngineConfig.builder(rank)
        .base(Duration.ZERO)
        .perPromptToken(Duration.ZERO)
        .perGeneratedToken(Duration.ZERO);
  }

  /** An engine on the test's manual clock, which moves only when the test says. */
  private EngineConfig.Builder manual(int rank) {
    return instant(rank).nanoClock(clock::get);
  }

  /** Starts an engine and returns its identity once its registration frame has arrived. */
  private byte[] register(EngineConfig config) {
    SimulatedEngine engine = SimulatedEngine.start(router.endpoint(), config);
    engines.add(engine);
    TestRouter.Received r = router.receiveLive();
    assertThat(r.decode()).isInstanceOf(Registration.class);
    return r.identity();
  }

  private SimulatedEngine engine() {
    return engines.get(engines.size() - 1);
  }

  private static Prompt tokens(int n) {
    return Prompt.ofTokens(LongStream.rangeClosed(1, n).toArray());
  }

  private void submit(byte[] engine, long rid, Prompt prompt, RawValue params) {
    router.send(engine, new EngineSubmit(rid, prompt, params, RawValue.nil()));
  }

  private List<ReplyRecord> nextReply() {
    Message m = router.receive().decode();
    assertThat(m).isInstanceOf(EngineReply.class);
    return ((EngineReply) m).records();
  }

  private ReplyRecord onlyRecord() {
    List<ReplyRecord> records = nextReply();
    assertThat(records).hasSize(1);
    return records.get(0);
  }

  private void advance(Duration d) {
    clock.addAndGet(d.toNanos());
    engine().wake();
  }

  @Test
  void registersWithAnEmptyFrameUnderItsRankIdentity() {
    SimulatedEngine engine = SimulatedEngine.start(router.endpoint(), instant(3).build());
    engines.add(engine);

    TestRouter.Received r = router.receiveLive();

    assertThat(r.payload()).isEmpty();
    assertThat(r.identityText()).isEqualTo("mp-coord-3").isEqualTo(engine.identity());
  }

  @Test
  void replyRecordHasTheShapeOfAMegatronRequest() {
    byte[] engine = register(instant(2).build());
    Prompt prompt = tokens(40);

    submit(engine, 7, prompt, FIVE_TOKENS);
    ReplyRecord record = onlyRecord();

    assertThat(record.requestId()).isEqualTo(7);
    Map<String, Value> f = fields(record.raw());
    assertThat(f)
        .containsKeys(
            "request_id",
            "prompt",
            "prompt_tokens",
            "generated_tokens",
            "generated_text",
            "status",
            "sampling_params",
            "inference_parameters",
            "events",
            "latency",
            "num_cached_tokens",
            "served_by_rank",
            "cached_blocks");
    assertThat(f.get("request_id").asIntegerValue().toLong()).isEqualTo(7);
    assertThat(record.raw().get("prompt")).isEqualTo(prompt.raw());
    assertThat(record.raw().get("sampling_params")).isEqualTo(FIVE_TOKENS);
    assertThat(f.get("status").asStringValue().asString()).isEqualTo("COMPLETED");
    assertThat(f.get("generated_tokens").asArrayValue().size()).isEqualTo(5);
    assertThat(f.get("generated_text").isNilValue()).isTrue();
    assertThat(f.get("prompt_tokens").asArrayValue().get(0).asStringValue().asString())
        .isEqualTo("tensor");
    assertThat(f.get("prompt_tokens").asArrayValue().get(1).asArrayValue().size()).isEqualTo(40);
    assertThat(f.get("latency").isFloatValue()).isTrue();
    assertThat(f.get("served_by_rank").asIntegerValue().toInt()).isEqualTo(2);
    assertThat(eventTypes(f)).containsExactly("ADD_ENGINE", "FINISH");
    for (Value e : f.get("events").asArrayValue()) {
      Map<Value, Value> event = e.asMapValue().map();
      assertThat(event.get(str("timestamp")).isFloatValue()).isTrue();
      assertThat(event.get(str("payload")).isNilValue()).isTrue();
    }
  }

  @Test
  void recordsCanLeaveOutTheExtensionFields() {
    byte[] engine = register(instant(0).extensionFields(false).build());

    submit(engine, 1, tokens(20), FIVE_TOKENS);

    assertThat(fields(onlyRecord().raw())).doesNotContainKeys("served_by_rank", "cached_blocks");
  }

  @Test
  void generatesTheDefaultTokenCountWhenTheRequestDoesNotSay() {
    byte[] engine = register(instant(0).generatedTokens(3).build());

    submit(engine, 1, tokens(20), map("temperature", 1));

    assertThat(fields(onlyRecord().raw()).get("generated_tokens").asArrayValue().size())
        .isEqualTo(3);
  }

  @Test
  void aRepeatedPrefixReportsCachedBlocks() {
    byte[] engine = register(instant(0).blockSize(16).build());
    long[] shared = LongStream.rangeClosed(1, 64).toArray();
    long[] diverging = shared.clone();
    diverging[40] = 99_999; // same first two blocks, different third and fourth

    List<Long> numCachedTokens = new ArrayList<>();
    submit(engine, 1, Prompt.ofTokens(shared), FIVE_TOKENS);
    long first = cachedBlocks(onlyRecord(numCachedTokens));
    submit(engine, 2, Prompt.ofTokens(shared), FIVE_TOKENS);
    long second = cachedBlocks(onlyRecord(numCachedTokens));
    submit(engine, 3, Prompt.ofTokens(diverging), FIVE_TOKENS);
    long third = cachedBlocks(onlyRecord(numCachedTokens));

    assertThat(first).isZero();
    assertThat(second).isEqualTo(4);
    assertThat(third).isEqualTo(2);
    assertThat(numCachedTokens).containsExactly(0L, 64L, 32L);
    assertThat(engine().stats().blocksLookedUp()).isEqualTo(12);
    assertThat(engine().stats().cachedBlocksHit()).isEqualTo(6);
  }

  @Test
  void numCachedTokensCountsTheBlocksATinyCacheStillHolds() {
    // four blocks of cache, evicting the deepest block of the least recent lineage first
    byte[] engine = register(instant(0).blockSize(16).cacheBlocks(4).build());
    long[] a = LongStream.rangeClosed(1, 48).toArray(); // three blocks
    long[] b = LongStream.rangeClosed(1001, 1032).toArray(); // two other blocks
    List<Long> numCachedTokens = new ArrayList<>();

    submit(engine, 1, Prompt.ofTokens(a), FIVE_TOKENS); // cache, most recent first: a0 a1 a2
    onlyRecord(numCachedTokens);
    submit(engine, 2, Prompt.ofTokens(b), FIVE_TOKENS); // b0 b1 a0 a1: a2 evicted
    onlyRecord(numCachedTokens);
    submit(engine, 3, Prompt.ofTokens(a), FIVE_TOKENS); // a0 a1 hit; a2 again, b1 evicted
    onlyRecord(numCachedTokens);
    submit(engine, 4, Prompt.ofTokens(a), FIVE_TOKENS); // all three
    onlyRecord(numCachedTokens);
    submit(engine, 5, Prompt.ofTokens(b), FIVE_TOKENS); // b0 only
    onlyRecord(numCachedTokens);

    assertThat(numCachedTokens).containsExactly(0L, 0L, 32L, 48L, 16L);
    assertThat(engine().stats().cachedBlocksHit()).isEqualTo(2 + 3 + 1);
  }

  /**
   * The next reply's only record; adds its num_cached_tokens, as the codec reads it, to {@code to}.
   */
  private ReplyRecord onlyRecord(List<Long> to) {
    ReplyRecord r = onlyRecord();
    long written = fields(r.raw()).get("num_cached_tokens").asIntegerValue().toLong();
    assertThat(r.cachedTokens()).isEqualTo(written);
    to.add(written);
    return r;
  }

  @Test
  void aCachedPrefixIsServedBeforeAnUncachedOneSentEarlier() {
    // 1 ms per uncached prompt token; the clock stands still, so only a request whose prompt is
    // entirely cached (zero cost) can be due
    byte[] engine = register(manual(0).perPromptToken(Duration.ofMillis(1)).build());
    submit(engine, 1, tokens(64), FIVE_TOKENS);
    await("the first request is taken in", () -> engine().stats().accepted() == 1);

    submit(engine, 2, tokens(64), FIVE_TOKENS);
    ReplyRecord cached = onlyRecord();
    advance(Duration.ofMillis(64));
    ReplyRecord uncached = onlyRecord();

    assertThat(cached.requestId()).isEqualTo(2);
    assertThat(cachedBlocks(cached)).isEqualTo(4);
    assertThat(uncached.requestId()).isEqualTo(1);
  }

  @Test
  void modelledLatencyChargesOnlyUncachedPromptTokens() {
    EngineConfig c =
        EngineConfig.builder(0)
            .base(Duration.ofMillis(2))
            .perPromptToken(Duration.ofNanos(10_000))
            .perGeneratedToken(Duration.ofNanos(100_000))
            .build();

    assertThat(c.latencyNanos(300, 16)).isEqualTo(2_000_000 + 3_000_000 + 1_600_000);
    assertThat(c.latencyNanos(12, 16)).isLessThan(c.latencyNanos(300, 16));
    assertThat(c.generationNanos(16)).isEqualTo(1_600_000);
  }

  @Test
  void abortAnswersFailedAtOnceAndIgnoresUnknownIds() {
    byte[] engine = register(manual(0).base(Duration.ofSeconds(10)).build());
    submit(engine, 1, tokens(20), FIVE_TOKENS);

    router.send(engine, new AbortRequest(99)); // unknown: no reply
    router.send(engine, new AbortRequest(1));
    ReplyRecord record = onlyRecord();

    assertThat(record.requestId()).isEqualTo(1);
    Map<String, Value> f = fields(record.raw());
    assertThat(f.get("status").asStringValue().asString()).isEqualTo("FAILED");
    assertThat(eventTypes(f)).last().isEqualTo("FAIL");
    assertThat(engine().stats().aborted()).isEqualTo(1);
    assertThat(engine().stats().inProgress()).isZero();
  }

  @ParameterizedTest
  @CsvSource({"PAUSE, UNPAUSE", "SUSPEND, RESUME"})
  void noProgressWhileHaltedAndRequestsQueue(Header halt, Header resume) {
    byte[] engine = register(manual(0).base(Duration.ofMillis(10)).build());
    router.send(engine, new ControlSignal(halt));
    submit(engine, 1, tokens(20), FIVE_TOKENS); // due at 10 ms of engine time
    submit(engine, 2, tokens(20), FIVE_TOKENS);
    submit(engine, 3, tokens(20), FIVE_TOKENS);
    await("the requests are taken in", () -> engine().stats().accepted() == 3);

    advance(Duration.ofMillis(100));
    router.send(engine, new AbortRequest(2));
    long firstAnswered = onlyRecord().requestId();
    router.send(engine, new ControlSignal(resume));
    router.send(engine, new AbortRequest(3)); // its answer shows the resume was handled
    long secondAnswered = onlyRecord().requestId();
    advance(Duration.ofMillis(10));
    ReplyRecord done = onlyRecord();

    assertThat(firstAnswered).isEqualTo(2);
    assertThat(secondAnswered).isEqualTo(3);
    assertThat(done.requestId()).isEqualTo(1);
    assertThat(fields(done.raw()).get("status").asStringValue().asString()).isEqualTo("COMPLETED");
  }

  @Test
  void aSecondSubmitForARequestInProgressIsInvalid() {
    byte[] engine = register(manual(0).base(Duration.ofMillis(5)).build());
    submit(engine, 1, tokens(20), FIVE_TOKENS);
    submit(engine, 1, tokens(20), FIVE_TOKENS);
    await("the duplicate is counted", () -> engine().stats().invalidFrames() == 1);

    advance(Duration.ofMillis(5));

    assertThat(onlyRecord().requestId()).isEqualTo(1);
    assertThat(engine().stats().accepted()).isEqualTo(1);
  }

  @Test
  void repliesDueTogetherLeaveInOneMessage() {
    byte[] engine = register(manual(0).base(Duration.ofMillis(5)).build());
    submit(engine, 1, tokens(20), FIVE_TOKENS);
    submit(engine, 2, tokens(20), FIVE_TOKENS);
    await("both requests are taken in", () -> engine().stats().accepted() == 2);

    advance(Duration.ofMillis(5));
    List<ReplyRecord> records = nextReply();

    assertThat(records).extracting(ReplyRecord::requestId).containsExactly(1L, 2L);
  }

  @Test
  void manyRepliesDueTogetherLeaveInMessagesOfAtMost64Records() {
    byte[] engine = register(manual(0).base(Duration.ofMillis(5)).build());
    int n = 2 * SimulatedEngine.RECORDS_PER_MESSAGE + 3;
    for (long rid = 0; rid < n; rid++) {
      submit(engine, rid, tokens(20), FIVE_TOKENS);
    }
    await("all requests are taken in", () -> engine().stats().accepted() == n);

    advance(Duration.ofMillis(5));
    List<Long> ids = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    while (ids.size() < n) {
      List<ReplyRecord> records = nextReply();
      sizes.add(records.size());
      records.forEach(r -> ids.add(r.requestId()));
    }

    assertThat(sizes).containsExactly(64, 64, 3);
    assertThat(ids).containsExactlyElementsOf(LongStream.range(0, n).boxed().toList());
  }

  @Test
  void aNewGenerationEpochClearsTheCache() {
    byte[] engine = register(instant(0).build());
    Prompt prompt = tokens(64);

    submit(engine, 1, prompt, FIVE_TOKENS);
    onlyRecord();
    submit(engine, 2, prompt, FIVE_TOKENS);
    long beforeEpoch = cachedBlocks(onlyRecord());
    router.send(engine, new SetGenerationEpoch(1));
    submit(engine, 3, prompt, FIVE_TOKENS);
    long afterEpoch = cachedBlocks(onlyRecord());
    router.send(engine, new SetGenerationEpoch(1)); // the same epoch again: nothing new
    submit(engine, 4, prompt, FIVE_TOKENS);
    long sameEpoch = cachedBlocks(onlyRecord());

    assertThat(beforeEpoch).isEqualTo(4);
    assertThat(afterEpoch).isZero();
    assertThat(sameEpoch).isEqualTo(4);
  }

  @Test
  void streamedRequestSendsPartialsBeforeItsReply() {
    byte[] engine = register(instant(0).streamChunkTokens(4).build());

    submit(engine, 5, tokens(20), map("num_tokens_to_generate", 8, "streaming", true));
    Message first = router.receive().decode();
    Message second = router.receive().decode();

    // Megatron main's partial: the request id and the tokens generated since the last partial
    assertThat(first).isInstanceOf(EngineReplyPartial.class);
    ReplyRecord partial = ((EngineReplyPartial) first).records().get(0);
    assertThat(partial.requestId()).isEqualTo(5);
    Map<String, Value> p = fields(partial.raw());
    assertThat(p.keySet()).containsExactly("request_id", "new_tokens");
    assertThat(longs(p.get("new_tokens"))).isEqualTo(generated(5, 0, 4));
    assertThat(second).isInstanceOf(EngineReply.class);
    ReplyRecord last = ((EngineReply) second).records().get(0);
    assertThat(last.requestId()).isEqualTo(5);
    assertThat(longs(fields(last.raw()).get("generated_tokens"))).isEqualTo(generated(5, 0, 8));
    assertThat(engine().stats().partialsSent()).isEqualTo(1);
  }

  @Test
  void streamingIntervalSetsTheTokensOfEachPartialAndOnlyStreamingTrueStreams() {
    byte[] engine = register(instant(0).streamChunkTokens(4).build());

    // as Megatron's client sends them: streaming true, one token per partial
    submit(
        engine,
        6,
        tokens(20),
        map("num_tokens_to_generate", 3, "streaming", true, "streaming_interval", 1));
    List<ReplyRecord> partials = new ArrayList<>();
    for (Message m = router.receive().decode();
        !(m instanceof EngineReply);
        m = router.receive().decode()) {
      partials.addAll(((EngineReplyPartial) m).records()); // all due at once: may share a message
    }
    assertThat(partials).hasSize(2);
    for (int i = 0; i < 2; i++) {
      assertThat(longs(fields(partials.get(i).raw()).get("new_tokens")))
          .as("partial %d", i)
          .isEqualTo(generated(6, i, i + 1));
    }
    // streaming false (Megatron's default), and an unknown "stream" key: no partials
    submit(
        engine,
        7,
        tokens(20),
        map("num_tokens_to_generate", 8, "streaming", false, "stream", true));
    assertThat(router.receive().decode()).isInstanceOf(EngineReply.class);
    assertThat(engine().stats().partialsSent()).isEqualTo(2);
  }

  private static long[] longs(Value array) {
    return array.asArrayValue().list().stream()
        .mapToLong(v -> v.asIntegerValue().asLong())
        .toArray();
  }

  private static long[] generated(long requestId, int from, int to) {
    return LongStream.range(from, to)
        .map(i -> RecordWriter.generatedToken(requestId, (int) i))
        .toArray();
  }

  @Test
  void submitWithKvIsServedLikeASubmit() {
    byte[] engine = register(instant(0).build());

    router.send(
        engine,
        new EngineSubmitWithKv(9, tokens(20), FIVE_TOKENS, map("k", 1), RawValue.ofLong(3)));

    assertThat(onlyRecord().requestId()).isEqualTo(9);
  }

  @Test
  void textPromptsAreServedAndEchoed() {
    byte[] engine = register(instant(0).build());
    Prompt prompt = Prompt.ofText("You are a helpful assistant. Tell me about ZMQ routers.");

    submit(engine, 4, prompt, FIVE_TOKENS);
    ReplyRecord record = onlyRecord();

    assertThat(record.raw().get("prompt")).isEqualTo(prompt.raw());
  }

  @Test
  void releaseKvAndProfilerSignalsAreNoOps() {
    byte[] engine = register(instant(0).build());

    router.send(engine, new ReleaseKv(1));
    router.send(engine, new ControlSignal(Header.START_CUDA_PROFILER));
    router.send(engine, new ControlSignal(Header.STOP_CUDA_PROFILER));
    submit(engine, 1, tokens(20), FIVE_TOKENS);

    assertThat(onlyRecord().requestId()).isEqualTo(1);
    assertThat(engine().stats().invalidFrames()).isZero();
  }

  @Test
  void invalidFramesAreCountedAndServingGoesOn() {
    byte[] engine = register(instant(0).build());

    router.send(engine, new byte[] {(byte) 0xc1}); // not msgpack
    router.send(engine, intArray(99)); // unknown header
    router.send(engine, intArray(20, 1)); // SUBMIT with the wrong arity
    router.send(engine, intArray(1)); // CONNECT_ACK: not for an engine
    router.sendParts(engine, intArray(40), intArray(41)); // two frames
    router.send(engine, new byte[0]); // empty
    submit(engine, 1, tokens(20), FIVE_TOKENS);

    assertThat(onlyRecord().requestId()).isEqualTo(1);
    await("every invalid frame is counted", () -> engine().stats().invalidFrames() >= 6);
    assertThat(engine().state()).isEqualTo(SimulatedEngine.State.RUNNING);
  }

  @Test
  void stopSendsDisconnectAndEnds() throws InterruptedException {
    byte[] engine = register(instant(0).build());

    router.send(engine, new ControlSignal(Header.STOP));

    assertThat(router.receive().decode()).isInstanceOf(Disconnect.class);
    assertThat(engine().awaitStopped(TestRouter.TIMEOUT)).isTrue();
    assertThat(engine().state()).isEqualTo(SimulatedEngine.State.STOPPED);
  }

  @Test
  void closeSendsDisconnectThenDropsTheConnection() {
    register(instant(0).build());

    engine().close();

    assertThat(router.receive().decode()).isInstanceOf(Disconnect.class);
    assertThat(router.receive().gone()).isTrue();
    assertThat(engine().state()).isEqualTo(SimulatedEngine.State.CLOSED);
  }

  @Test
  void killDropsTheConnectionWithoutAWord() {
    byte[] engine = register(manual(0).base(Duration.ofSeconds(10)).build());
    submit(engine, 1, tokens(20), FIVE_TOKENS);
    await("the request is taken in", () -> engine().stats().accepted() == 1);

    engine().kill();

    TestRouter.Received next = router.receive();
    assertThat(next.gone()).as("the first thing after kill is the dropped connection").isTrue();
    assertThat(engine().state()).isEqualTo(SimulatedEngine.State.KILLED);
  }

  private static long cachedBlocks(ReplyRecord r) {
    return fields(r.raw()).get("cached_blocks").asIntegerValue().toLong();
  }

  private static List<String> eventTypes(Map<String, Value> record) {
    List<String> types = new ArrayList<>();
    for (Value e : record.get("events").asArrayValue()) {
      types.add(e.asMapValue().map().get(str("type")).asStringValue().asString());
    }
    return types;
  }

  private static Value str(String s) {
    return org.msgpack.value.ValueFactory.newString(s);
  }
}
