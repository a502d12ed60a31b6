package io.dpcoord.sim;

import io.dpcoord.protocol.ClientReply;
import io.dpcoord.protocol.ClientReplyPartial;
import io.dpcoord.protocol.Direction;
import io.dpcoord.protocol.Message;
import io.dpcoord.protocol.MessageCodec;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.protocol.ProtocolException;
import io.dpcoord.protocol.RawValue;
import io.dpcoord.protocol.SubmitRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.zeromq.ZMQ;

/**
 * A load-generating client: connects a DEALER (no high-water marks), does the CONNECT handshake,
 * then keeps up to {@code concurrency} requests in flight until {@code requests} are answered.
 *
 * <pre>{@code
 * LoadReport report = new LoadGenerator("tcp://127.0.0.1:5555", LoadConfig.builder().requests(1000).build()).run();
 * }</pre>
 *
 * <p>Client request ids are 0, 1, 2, ... in send order; the socket's identity is left to ZMQ, so
 * several generators can load one coordinator at once with the same ids. Every id is tracked: a
 * second reply for an id is a duplicate, a reply for an id never sent is counted apart, a FAILED
 * reply counts as answered. The run ends when every request is answered, or when no reply has
 * arrived for the idle timeout: the requests still in flight are then lost. {@link #progress()} and
 * {@link #finishSubmitting()} may be called from any thread while {@link #run()} runs.
 */
public final class LoadGenerator {
  /*
   * Design notes. The run is one thread polling one socket (plus a self-pipe, so that
   * finishSubmitting() takes effect at once). The window refills after every batch of replies.
   * Per request it keeps one long (the send time) and one bit (answered), indexed by the client
   * request id, so duplicate and unknown-id detection is exact and O(1); latencies of completed
   * requests are kept for exact percentiles at the end (8 bytes each: 8 MB per million).
   */

  private final String endpoint;
  private final LoadConfig config;
  private final Supplier<Prompt> prompts;
  private final Wakeup wakeup = new Wakeup();
  private final AtomicBoolean used = new AtomicBoolean();
  private volatile boolean finishRequested;

  // progress, written by the run thread
  private volatile long sentView;
  private volatile long completedView;
  private volatile long failedView;
  private volatile long duplicatedView;
  private volatile long startNanos;
  private volatile long endNanos;
  private volatile boolean finished;

  // run-thread state
  private final MessageCodec codec = new MessageCodec();
  private final BitSet answered = new BitSet();
  private long[] sentAt = new long[1024];
  private long[] latencies = new long[1024];
  private int latencyCount;
  private final SortedMap<Integer, Long> perRank = new TreeMap<>();
  private long limit;
  private long sent;
  private long completed;
  private long failed;
  private long duplicated;
  private long unknownIds;
  private long partials;
  private long invalidFrames;

  /** A generator for the coordinator at {@code endpoint}; nothing connects until {@link #run()}. */
  public LoadGenerator(String endpoint, LoadConfig config) {
    this(endpoint, config, null);
  }

  /**
   * A generator that sends the prompts {@code prompts} supplies (text prompts, say), one per
   * request, called on the run thread; null sends the config's workload of token prompts.
   */
  public LoadGenerator(String endpoint, LoadConfig config, Supplier<Prompt> prompts) {
    if (endpoint == null || config == null) {
      throw new IllegalArgumentException("a load generator needs an endpoint and a config");
    }
    this.endpoint = endpoint;
    this.config = config;
    this.prompts = prompts;
  }

  /**
   * Runs the load to its end and reports; call once.
   *
   * @throws TimeoutException if the coordinator does not answer CONNECT within the connect timeout
   * @throws IllegalArgumentException if the endpoint cannot be connected to
   * @throws IllegalStateException if called a second time
   */
  public LoadReport run() throws TimeoutException {
    if (!used.compareAndSet(false, true)) {
      throw new IllegalStateException("a load generator runs once");
    }
    ZMQ.Context context = ZMQ.context(1);
    ZMQ.Socket socket;
    try {
      socket = Dealers.connect(context, endpoint, null, 0, config.curve());
    } catch (IllegalArgumentException e) {
      context.close();
      wakeup.close();
      throw e;
    }
    ZMQ.Poller poller = context.poller(2);
    try {
      poller.register(socket, ZMQ.Poller.POLLIN);
      poller.register(wakeup.channel(), ZMQ.Poller.POLLIN);
      ControlClient.handshake(socket, poller, 0, codec, endpoint, config.connectTimeout());
      return load(socket, poller);
    } finally {
      finished = true;
      poller.close();
      socket.close();
      context.close();
      wakeup.close();
    }
  }

  /** Stops sending new requests; the run ends once those in flight are answered (or lost). */
  public void finishSubmitting() {
    finishRequested = true;
    wakeup.wake();
  }

  /** A live snapshot; any thread. */
  public LoadProgress progress() {
    long start = startNanos;
    long end = finished ? endNanos : System.nanoTime();
    return new LoadProgress(
        sentView,
        completedView,
        failedView,
        duplicatedView,
        start == 0 ? 0 : Math.max(0, end - start),
        finished);
  }

  private LoadReport load(ZMQ.Socket socket, ZMQ.Poller poller) {
    Supplier<Prompt> source = prompts;
    if (source == null) {
      Workload workload = config.workload();
      source = () -> Prompt.ofTokens(workload.next());
    }
    RawValue samplingParams = samplingParams();
    long idleNanos = config.idleTimeout().toNanos();
    limit = Math.min(config.requests(), LoadConfig.MAX_REQUESTS);
    long start = System.nanoTime();
    startNanos = start == 0 ? 1 : start;
    long lastReply = start;
    long lost = 0;
    fill(socket, source, samplingParams);
    while (true) {
      if (finishRequested && limit > sent) {
        limit = sent;
      }
      long inFlight = sent - (completed + failed);
      if (inFlight == 0 && sent >= limit) {
        break;
      }
      long now = System.nanoTime();
      long idleLeft = lastReply + idleNanos - now;
      if (idleLeft <= 0) {
        lost = inFlight;
        break;
      }
      long wait = idleLeft;
      if (config.rate() > 0 && sent < limit) {
        wait = Math.min(wait, Math.max(0, dueNanos(sent) - now));
      }
      poller.poll(wait == 0 ? 0 : (wait - 1) / 1_000_000 + 1);
      if (poller.pollin(1)) {
        wakeup.drain();
      }
      if (poller.pollin(0) && receiveAll(socket) > 0) {
        lastReply = System.nanoTime();
      }
      fill(socket, source, samplingParams);
    }
    long end = System.nanoTime();
    endNanos = end;
    return new LoadReport(
        sent,
        completed,
        failed,
        lost,
        duplicated,
        unknownIds,
        partials,
        invalidFrames,
        end - start,
        LoadReport.Latency.of(latencies, latencyCount),
        perRank);
  }

  /** Sends requests while the window has room and the count allows. */
  private void fill(ZMQ.Socket socket, Supplier<Prompt> source, RawValue samplingParams) {
    while (sent < limit && sent - (completed + failed) < config.concurrency() && !finishRequested) {
      if (config.rate() > 0 && System.nanoTime() < dueNanos(sent)) {
        break; // paced: not yet
      }
      long id = sent;
      byte[] frame = codec.encode(new SubmitRequest(id, source.get(), samplingParams, null));
      if (id >= sentAt.length) {
        sentAt = Arrays.copyOf(sentAt, (int) Math.min(LoadConfig.MAX_REQUESTS, sentAt.length * 2L));
      }
      sentAt[(int) id] = System.nanoTime();
      if (!socket.send(frame, 0)) {
        throw new IllegalStateException("cannot send request " + id + ": errno " + socket.errno());
      }
      sent++;
    }
    sentView = sent;
  }

  /** When request {@code i} is due under {@link LoadConfig#rate}: i / rate after the start. */
  private long dueNanos(long i) {
    return startNanos + (long) (i * 1e9 / config.rate());
  }

  /** Handles every frame waiting on the socket; returns how many replies (of any kind) came. */
  private int receiveAll(ZMQ.Socket socket) {
    int replies = 0;
    byte[] frame;
    while ((frame = socket.recv(ZMQ.DONTWAIT)) != null) {
      replies++;
      handle(frame);
    }
    completedView = completed;
    failedView = failed;
    duplicatedView = duplicated;
    return replies;
  }

  private void handle(byte[] frame) {
    Message m;
    try {
      m = codec.decode(Direction.TO_CLIENT, frame);
    } catch (ProtocolException e) {
      invalidFrames++;
      return;
    }
    if (m instanceof ClientReply r) {
      reply(r.clientRequestId(), r.record());
    } else if (m instanceof ClientReplyPartial) {
      partials++;
    }
    // a repeated CONNECT_ACK needs nothing
  }

  private void reply(long id, RawValue record) {
    if (id < 0 || id >= sent) {
      unknownIds++;
      return;
    }
    int i = (int) id;
    if (answered.get(i)) {
      duplicated++;
      return;
    }
    answered.set(i);
    if ("FAILED".equals(field(record, "status"))) {
      failed++;
      return;
    }
    completed++;
    if (latencyCount == latencies.length) {
      latencies = Arrays.copyOf(latencies, latencies.length * 2);
    }
    latencies[latencyCount++] = System.nanoTime() - sentAt[i];
    RawValue rank = record.get("served_by_rank");
    if (rank != null) {
      try {
        long r = rank.asLong();
        if (r >= 0 && r <= Integer.MAX_VALUE) {
          perRank.merge((int) r, 1L, Long::sum);
        }
      } catch (ProtocolException e) {
        // not an int: the record says nothing usable about its engine
      }
    }
  }

  private static String field(RawValue record, String key) {
    RawValue v = record.get(key);
    if (v == null) {
      return null;
    }
    try {
      return v.asString();
    } catch (ProtocolException e) {
      return null;
    }
  }

  private RawValue samplingParams() {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packMapHeader(config.stream() ? 2 : 1);
      p.packString("num_tokens_to_generate");
      p.packInt(config.generatedTokens());
      if (config.stream()) {
        p.packString("streaming"); // Megatron SamplingParams' field
        p.packBoolean(true);
      }
      return RawValue.of(p.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory packer failed", e);
    } catch (ProtocolException e) {
      throw new IllegalStateException("wrote malformed sampling params", e);
    }
  }
}
