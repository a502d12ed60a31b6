package io.dpcoord.sim;

import io.dpcoord.protocol.AbortRequest;
import io.dpcoord.protocol.ControlSignal;
import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.Disconnect;
import io.dpcoord.protocol.EngineReply;
import io.dpcoord.protocol.EngineReplyPartial;
import io.dpcoord.protocol.EngineSubmit;
import io.dpcoord.protocol.EngineSubmitWithKv;
import io.dpcoord.protocol.Header;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RateLimitedLog;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.ReleaseKv;
import io.dpcoord.protocol.ReplyRecord;
import io.dpcoord.protocol.SetGenerationEpoch;
import io.dpcoord.routing.BlockHasher;
import io.dpcoord.sim.simulate.BlockCache;
import io.dpcoord.sim.simulate.Eviction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * A simulated Megatron engine: a DEALER with identity {@code mp-coord-<rank>} on its own thread
 * that registers with an empty frame, models a prefix cache and a step latency, and answers each
 * request with a Megatron-shaped record.
 *
 * <pre>{@code
 * SimulatedEngine engine = SimulatedEngine.start("tcp://127.0.0.1:5555", EngineConfig.builder(0).build());
 * ...
 * engine.close(); // DISCONNECT, then close
 * }</pre>
 *
 * <p>It honours ABORT_REQUEST (answered FAILED at once), PAUSE/UNPAUSE and SUSPEND/RESUME (no
 * progress while either holds; new requests queue), STOP (DISCONNECT, then the engine ends),
 * SET_GENERATION_EPOCH (a new epoch clears the prefix cache), and takes RELEASE_KV and the profiler
 * signals as no-ops. Invalid frames are counted and logged, never fatal. {@link #close()} leaves
 * politely; {@link #kill()} drops the connection like a crashed process.
 */
public final class SimulatedEngine implements AutoCloseable {
  /*
   * Design notes.
   *
   * Time. Every request gets its deadlines when it arrives: prefill ends after base + per
   * uncached prompt token, then one token per per-generated-token cost; the final reply is due
   * when the last token is. Deadlines sit in a priority queue; the thread polls the socket with
   * a timeout that ends at the earliest deadline, so nothing sleeps and nothing spins. Requests
   * run concurrently (the batch is unbounded), so latency does not grow with load: the model is a
   * prefix-cache cost model, not a throughput model.
   *
   * Pauses. Deadlines are kept on an engine clock that stops while the engine is paused or
   * suspended: engine time = clock - total paused time. A request that arrives while paused gets
   * its deadlines from the frozen engine time, so it starts when the engine resumes; requests in
   * flight resume where they stopped. No deadline is ever rewritten.
   *
   * Batching. Everything due at one wake-up leaves in one message: one [22, [...]] with the
   * partial records, then one [21, [...]] with the finished ones, so a request's partials always
   * precede its final record.
   *
   * Streaming keeps one queue entry per request: a partial reply schedules the next one (every
   * streaming_interval tokens, else streamChunkTokens) or the final reply, so a long generation
   * costs O(1) memory. A partial is Megatron main's {"request_id", "new_tokens"}: the tokens since
   * the last one.
   *
   * Aborts answer at once and mark the request done; its entry left in the queue is skipped when
   * it comes up (lazy deletion, O(log n) per request overall).
   *
   * Threads. Only the engine thread touches the socket. close() and kill() set a command and wake
   * the poll through a self-pipe (Wakeup); the engine thread carries the command out.
   */

  private static final Logger LOG = LoggerFactory.getLogger(SimulatedEngine.class);
  private static final int CLOSE_LINGER_MILLIS = 1000;
  // records in one reply message at most: 64 records of a 5,000-token request are about 1 MB
  static final int RECORDS_PER_MESSAGE = 64;
  private static final Duration STOP_WAIT = Duration.ofSeconds(5);
  private static final int SOCKET = 0;
  private static final int WAKE = 1;

  /** Where an engine is in its life. */
  public enum State {
    /** Serving. */
    RUNNING,
    /** Ended after a STOP signal (it sent DISCONNECT). */
    STOPPED,
    /** Ended by {@link #close()} (it sent DISCONNECT). */
    CLOSED,
    /** Ended by {@link #kill()} (it sent nothing). */
    KILLED,
    /** Ended by an unexpected error (logged). */
    FAILED
  }

  private enum Command {
    NONE,
    CLOSE,
    KILL
  }

  /** One deadline: at engine time {@code at}, {@code request} has {@code tokens} tokens. */
  private record Due(long at, long seq, ActiveRequest request, int tokens)
      implements Comparable<Due> {
    @Override
    public int compareTo(Due o) {
      int c = Long.compare(at, o.at);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private final EngineConfig config;
  private final String endpoint;
  private final ZMQ.Context context;
  private final ZMQ.Socket socket;
  private final ZMQ.Poller poller;
  private final Wakeup wakeup = new Wakeup();
  private final Thread thread;
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile Command command = Command.NONE;
  private volatile State state = State.RUNNING;

  // engine-thread state
  private final MessageCodec codec = new MessageCodec();
  private final BlockHasher hasher;
  private final BlockCache cache;
  private final RecordWriter records;
  private final Map<Long, ActiveRequest> active = new HashMap<>();
  private final PriorityQueue<Due> queue = new PriorityQueue<>();
  private final List<ReplyRecord> finals = new ArrayList<>();
  private final List<ReplyRecord> partials = new ArrayList<>();
  private long seq;
  private boolean paused;
  private boolean suspended;
  private long haltedSince;
  private long haltedTotal;
  private boolean haveEpoch;
  private long epoch;
  private boolean stopSignalled;
  private final RateLimitedLog warnings =
      new RateLimitedLog(
          line -> LOG.warn("engine {}: {}", identity(), line),
          TimeUnit.SECONDS.toNanos(1),
          System::nanoTime);

  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong served = new AtomicLong();
  private final AtomicLong aborted = new AtomicLong();
  private final AtomicLong cachedBlocksHit = new AtomicLong();
  private final AtomicLong blocksLookedUp = new AtomicLong();
  private final AtomicLong partialsSent = new AtomicLong();
  private final AtomicLong invalidFrames = new AtomicLong();
  private final AtomicLong sendFailures = new AtomicLong();
  private final AtomicLong inProgress = new AtomicLong();

  private SimulatedEngine(String endpoint, EngineConfig config) {
    this.config = config;
    this.endpoint = endpoint;
    this.hasher = new BlockHasher(config.blockSize());
    this.cache = new BlockCache(config.cacheBlocks(), Eviction.LINEAGE);
    this.records = new RecordWriter(config.rank(), config.blockSize(), config.extensionFields());
    this.context = ZMQ.context(1);
    try {
      this.socket =
          Dealers.connect(
              context,
              endpoint,
              config.identity().getBytes(StandardCharsets.UTF_8),
              0,
              config.curve());
    } catch (IllegalArgumentException e) {
      context.close();
      wakeup.close();
      throw e;
    }
    this.poller = context.poller(2);
    poller.register(socket, ZMQ.Poller.POLLIN);
    poller.register(wakeup.channel(), ZMQ.Poller.POLLIN);
    this.thread = new Thread(this::run, "engine-" + config.rank());
    thread.setDaemon(true);
  }

  /**
   * Connects an engine to the coordinator at {@code endpoint} and starts serving.
   *
   * @throws IllegalArgumentException if the endpoint cannot be connected to (malformed, say)
   */
  public static SimulatedEngine start(String endpoint, EngineConfig config) {
    if (endpoint == null || config == null) {
      throw new IllegalArgumentException("an engine needs an endpoint and a config, got null");
    }
    SimulatedEngine engine = new SimulatedEngine(endpoint, config);
    engine.thread.start();
    return engine;
  }

  /** The data-parallel rank. */
  public int rank() {
    return config.rank();
  }

  /** The ZMQ identity, {@code mp-coord-<rank>}. */
  public String identity() {
    return config.identity();
  }

  /** The endpoint it connects to. */
  public String endpoint() {
    return endpoint;
  }

  /** Where the engine is in its life. */
  public State state() {
    return state;
  }

  /** A snapshot of the counters; any thread. */
  public EngineStats stats() {
    return new EngineStats(
        accepted.get(),
        served.get(),
        aborted.get(),
        cachedBlocksHit.get(),
        blocksLookedUp.get(),
        partialsSent.get(),
        invalidFrames.get(),
        sendFailures.get(),
        inProgress.get());
  }

  /** Waits until the engine has ended (STOP, close, kill); false on timeout. */
  public boolean awaitStopped(Duration timeout) throws InterruptedException {
    return ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Sends DISCONNECT, closes the socket and waits (at most 5 s) for the thread. Idempotent. */
  @Override
  public void close() {
    end(Command.CLOSE);
  }

  /**
   * Closes the socket at once with linger 0 and sends nothing, like a crashed engine; waits (at
   * most 5 s) for the thread. Queued replies are lost.
   */
  public void kill() {
    end(Command.KILL);
  }

  /** Makes the engine thread look at its clock again (tests that move a manual clock). */
  void wake() {
    wakeup.wake();
  }

  private void end(Command c) {
    if (ended.getCount() > 0) {
      command = c;
      wakeup.wake();
    }
    try {
      if (!ended.await(STOP_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
        LOG.warn("engine {} did not stop within {}", identity(), STOP_WAIT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------ engine thread

  private void run() {
    State last = State.FAILED;
    try {
      send(new byte[0]); // registration
      while (true) {
        Command c = command;
        if (c == Command.KILL) {
          last = State.KILLED;
          break;
        }
        if (c == Command.CLOSE || stopSignalled) {
          send(codec.encode(new Disconnect()));
          last = c == Command.CLOSE ? State.CLOSED : State.STOPPED;
          break;
        }
        try {
          step();
        } catch (ZMQException e) {
          if (e.getErrorCode() == zmq.ZError.ETERM) {
            break;
          }
          warn("socket error: " + e);
        } catch (RuntimeException e) {
          LOG.error("engine {}: unexpected error, continuing", identity(), e);
        }
      }
    } catch (RuntimeException e) {
      LOG.error("engine {} stopped unexpectedly", identity(), e);
    } finally {
      shutDown(last);
    }
  }

  private void shutDown(State last) {
    try {
      socket.setLinger(last == State.KILLED || last == State.FAILED ? 0 : CLOSE_LINGER_MILLIS);
      poller.close();
      socket.close();
      context.term();
    } catch (RuntimeException e) {
      LOG.warn("engine {}: error while closing: {}", identity(), e.toString());
    } finally {
      wakeup.close();
      inProgress.set(0);
      state = last;
      ended.countDown();
    }
  }

  /** One iteration: wait for a message or the next deadline, handle input, send what is due. */
  private void step() {
    poller.poll(pollTimeoutMillis());
    if (poller.pollin(WAKE)) {
      wakeup.drain();
    }
    if (poller.pollin(SOCKET)) {
      receiveAll();
    }
    sendDue();
  }

  private long pollTimeoutMillis() {
    if (halted() || queue.isEmpty()) {
      return -1;
    }
    long wait = EngineConfig.saturatedAdd(queue.peek().at, -engineNanos());
    return wait <= 0 ? 0 : (wait - 1) / 1_000_000 + 1; // rounded up: never wake early
  }

  private void receiveAll() {
    while (!stopSignalled && command == Command.NONE) {
      byte[] frame = socket.recv(ZMQ.DONTWAIT);
      if (frame == null) {
        return;
      }
      if (socket.hasReceiveMore()) {
        int parts = 1;
        while (socket.hasReceiveMore()) {
          socket.recv(0);
          parts++;
        }
        invalid("a message of " + parts + " frames (expected one)");
        continue;
      }
      handle(frame);
    }
  }

  private void handle(byte[] frame) {
    Message m;
    try {
      m = codec.decode(Direction.TO_ENGINE, frame);
    } catch (ProtocolException e) {
      invalid(e.getMessage());
      return;
    }
    if (m instanceof EngineSubmit s) {
      submit(s.requestId(), s.prompt(), s.samplingParams());
    } else if (m instanceof EngineSubmitWithKv s) {
      submit(s.requestId(), s.prompt(), s.samplingParams());
    } else if (m instanceof AbortRequest a) {
      abort(a.requestId());
    } else if (m instanceof SetGenerationEpoch e) {
      newEpoch(e.epoch());
    } else if (m instanceof ControlSignal c) {
      signal(c.header());
    } else if (!(m instanceof ReleaseKv)) {
      invalid("unexpected " + m.header());
    }
  }

  private void submit(long requestId, Prompt prompt, RawValue samplingParams) {
    if (active.containsKey(requestId)) {
      invalid("SUBMIT_REQUEST for request " + requestId + ", which is already being served");
      return;
    }
    long[] tokens = tokens(prompt);
    int blocks = hasher.hash(tokens, tokens.length / config.blockSize());
    int cached = cache.lookupAndInsert(hasher.hashes(), blocks);
    int generated = generatedTokens(samplingParams);
    int streamChunk =
        config.stream() || streamRequested(samplingParams) ? streamChunk(samplingParams) : 0;
    long uncached = tokens.length - (long) cached * config.blockSize();
    long prefillDone = EngineConfig.saturatedAdd(engineNanos(), config.latencyNanos(uncached, 0));
    ActiveRequest r =
        new ActiveRequest(
            requestId,
            prompt.raw(),
            tokens,
            samplingParams,
            generated,
            cached,
            streamChunk,
            config.unixSeconds().getAsDouble(),
            prefillDone);
    active.put(requestId, r);
    schedule(r, streamChunk > 0 ? Math.min(streamChunk, generated) : generated);
    accepted.incrementAndGet();
    inProgress.incrementAndGet();
    blocksLookedUp.addAndGet(blocks);
    cachedBlocksHit.addAndGet(cached);
  }

  /**
   * The prompt's tokens: a text prompt through the engine's tokenizer; one it cannot read counts as
   * no tokens (a real engine would answer FAILED; the model only needs a cache footprint).
   */
  private long[] tokens(Prompt prompt) {
    if (!prompt.isText()) {
      return prompt.tokens();
    }
    try {
      return config.tokenizer().tokenize(prompt.text());
    } catch (IllegalArgumentException e) {
      warn("cannot tokenize a text prompt: " + e.getMessage());
      return new long[0];
    }
  }

  /** Queues the moment {@code r} has generated {@code tokens} tokens. */
  private void schedule(ActiveRequest r, int tokens) {
    long at = EngineConfig.saturatedAdd(r.prefillDoneNanos, config.generationNanos(tokens));
    queue.add(new Due(at, seq++, r, tokens));
  }

  private int generatedTokens(RawValue samplingParams) {
    return count(samplingParams, "num_tokens_to_generate", 0, config.generatedTokens());
  }

  /** Whether sampling_params asks for partial replies, as Megatron's does: "streaming": true. */
  private static boolean streamRequested(RawValue samplingParams) {
    RawValue v = samplingParams.get("streaming");
    return v != null && v.length() == 1 && v.toByteArray()[0] == (byte) 0xc3;
  }

  /** Tokens per partial reply: sampling_params' streaming_interval, else the engine's own. */
  private int streamChunk(RawValue samplingParams) {
    return count(samplingParams, "streaming_interval", 1, config.streamChunkTokens());
  }

  /**
   * The int {@code key} of sampling_params, at least {@code min} and at most {@link
   * EngineConfig#MAX_GENERATED_TOKENS}; {@code otherwise} when it is absent, nil, not an int or
   * below {@code min} (the last two logged).
   */
  private int count(RawValue samplingParams, String key, int min, int otherwise) {
    RawValue v = samplingParams.get(key);
    if (v == null || v.isNil()) {
      return otherwise;
    }
    try {
      long n = v.asLong();
      if (n >= min) {
        return (int) Math.min(n, EngineConfig.MAX_GENERATED_TOKENS);
      }
      warn(key + " " + n + " is below " + min + "; using " + otherwise);
    } catch (ProtocolException e) {
      warn(key + " is not an int; using " + otherwise);
    }
    return otherwise;
  }

  private void abort(long requestId) {
    ActiveRequest r = active.remove(requestId);
    if (r == null) {
      return; // unknown or already answered: nothing to do
    }
    r.done = true;
    // like a request that failed before its first token: no generated tokens are reported
    RawValue record =
        records.write(r, RecordWriter.FAILED, 0, "FAIL", config.unixSeconds().getAsDouble());
    // counters first, so that whoever sees the reply also sees them
    aborted.incrementAndGet();
    inProgress.decrementAndGet();
    send(codec.encode(new EngineReply(List.of(new ReplyRecord(requestId, record)), 0)));
  }

  private void newEpoch(long value) {
    if (!haveEpoch || value != epoch) {
      cache.clear();
      haveEpoch = true;
      epoch = value;
    }
  }

  private void signal(Header h) {
    boolean wasHalted = halted();
    switch (h) {
      case PAUSE -> paused = true;
      case UNPAUSE -> paused = false;
      case SUSPEND -> suspended = true;
      case RESUME -> suspended = false;
      case STOP -> stopSignalled = true;
      default -> {
        // START_CUDA_PROFILER, STOP_CUDA_PROFILER: nothing to profile here
      }
    }
    long now = config.nanoClock().getAsLong();
    if (!wasHalted && halted()) {
      haltedSince = now;
    } else if (wasHalted && !halted()) {
      haltedTotal += now - haltedSince;
    }
  }

  private boolean halted() {
    return paused || suspended;
  }

  /** The engine clock: the real clock minus the time spent paused or suspended. */
  private long engineNanos() {
    long now = config.nanoClock().getAsLong();
    return (halted() ? haltedSince : now) - haltedTotal;
  }

  private void sendDue() {
    long now = engineNanos();
    double unixNow = Double.NaN;
    while (!queue.isEmpty() && queue.peek().at <= now) {
      Due d = queue.poll();
      ActiveRequest r = d.request;
      if (r.done) {
        continue;
      }
      if (Double.isNaN(unixNow)) {
        unixNow = config.unixSeconds().getAsDouble();
      }
      if (d.tokens < r.generatedTokens) {
        partials.add(new ReplyRecord(r.requestId, records.partial(r, r.streamed, d.tokens)));
        r.streamed = d.tokens;
        schedule(r, Math.min(d.tokens + r.streamChunk, r.generatedTokens));
      } else {
        r.done = true;
        active.remove(r.requestId);
        finals.add(
            new ReplyRecord(
                r.requestId,
                records.write(r, RecordWriter.COMPLETED, r.generatedTokens, "FINISH", unixNow)));
      }
    }
    partialsSent.addAndGet(partials.size());
    sendInSteps(partials, batch -> new EngineReplyPartial(batch, 0));
    served.addAndGet(finals.size());
    inProgress.addAndGet(-finals.size());
    sendInSteps(finals, batch -> new EngineReply(batch, 0));
  }

  /**
   * Sends {@code records} at most {@link #RECORDS_PER_MESSAGE} to a message, as an engine sends
   * what each step produced, and clears them: an engine thread that woke late must not send one
   * message larger than the coordinator's --max-message-bytes (which would drop its connection).
   */
  private void sendInSteps(List<ReplyRecord> records, Function<List<ReplyRecord>, Message> reply) {
    for (int from = 0; from < records.size(); from += RECORDS_PER_MESSAGE) {
      List<ReplyRecord> batch =
          records.subList(from, Math.min(records.size(), from + RECORDS_PER_MESSAGE));
      send(codec.encode(reply.apply(batch)));
    }
    records.clear();
  }

  private void send(byte[] frame) {
    if (!socket.send(frame, ZMQ.DONTWAIT)) {
      sendFailures.incrementAndGet();
      warn("a send failed (" + socket.errno() + "); the reply is lost");
    }
  }

  private void invalid(String reason) {
    invalidFrames.incrementAndGet();
    warn("dropped an invalid frame: " + reason);
  }

  /** Logs at most one warning a second, with the count of those left out. */
  private void warn(String message) {
    warnings.warn("engine", message);
  }

  @Override
  public String toString() {
    return "SimulatedEngine{" + identity() + " -> " + endpoint + ", " + state + "}";
  }
}
