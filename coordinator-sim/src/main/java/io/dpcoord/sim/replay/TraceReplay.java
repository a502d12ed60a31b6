package io.dpcoord.sim.replay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.dpcoord.routing.BlockHasher;
import io.dpcoord.routing.Decision;
import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.tokenizers.TextTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives the routing module from a JSON Lines trace and writes one JSON line per submit, as {@code
 * docs/spec/ROUTING.md} ("Trace replay") defines.
 *
 * <p>Input events: {@code submit} (id, and tokens or text), {@code complete} (id), {@code remove}
 * (rank), {@code add} (rank), {@code epoch} (value) and {@code advance} (ms). Output per submit:
 * {@code {"id":7,"rank":2,"match":3,"hit":true,"stale":false}}, where {@code rank} is the engine's
 * label (its original index for the start-up engines) and {@code match} the chosen engine's match
 * depth in blocks. A bad line stops the replay with a {@link TraceException} naming the line; every
 * line before it has been written, nothing for the bad line. The configuration's {@link
 * RouterConfig#release() release} decides what {@code add} does to a label that is known already.
 */
public final class TraceReplay {
  /*
   * Design notes.
   *
   * Engines are labels. The start-up engines 0..ranks-1 register under 4-byte big-endian
   * identities, whose unsigned byte order is the label order, so label = rank index until
   * engines leave; they register in label order (Megatron 0.18's round-robin order). `add`
   * registers the label's identity: a new label is appended (Router.register), a removed one
   * rejoins (Router.rejoin: Megatron 0.19, cold at the end; 0.18, at its old index with its old
   * pending count and entries, last in round-robin order), an active one is a restart
   * (Router.replace: 0.19, same place, cold; 0.18, nothing changes). The output always names the
   * label, never the current rank index.
   *
   * Streaming. The input is split into lines in a byte buffer (LineSource) and each line gets
   * its own parser over that buffer, so a malformed line is reported with its number and cannot
   * swallow the next one. Only the current line is held. What does accumulate is one map entry
   * per request id (16 bytes), kept after completion so that a reused id is reported as a
   * duplicate and a second completion as such. Output is formatted into a byte buffer without
   * String.format or per-line strings.
   *
   * Every check of a line happens before it changes any state or writes anything, so a bad line
   * leaves no trace in the output. Unknown fields are ignored (traces may carry annotations).
   *
   * Time is virtual: the router's clock reads a counter that only `advance` moves, so TTL expiry
   * in a replay is deterministic. An `epoch` op starts a new epoch when its value differs from
   * the previous epoch op's (the first one always does): a re-broadcast of the same epoch does
   * not invalidate caches.
   */

  private static final JsonFactory JSON = new JsonFactory();
  private static final int UNKNOWN = Integer.MIN_VALUE + 1;
  private static final int COMPLETED = -1;
  private static final byte[] ID = ascii("{\"id\":");
  private static final byte[] RANK = ascii(",\"rank\":");
  private static final byte[] MATCH = ascii(",\"match\":");
  private static final byte[] HIT = ascii(",\"hit\":");
  private static final byte[] STALE = ascii(",\"stale\":");
  private static final byte[] TRUE = ascii("true");
  private static final byte[] FALSE = ascii("false");
  private static final byte[] END = ascii("}\n");

  private final Router router;
  private final BlockHasher hasher;
  private final RouterConfig config;
  private final TextTokenizer tokenizer;
  private final Map<Integer, Integer> engineOfLabel = new HashMap<>();
  private int[] labelOfEngine = new int[16];
  private final LongIntMap requests = new LongIntMap();
  private long clockNanos;
  private boolean epochSeen;
  private long epochValue;
  private long submits;

  // the line being parsed
  private String op;
  private boolean hasId;
  private long id;
  private boolean hasTokens;
  private String text;
  private final JsonFields.Int64s tokens = new JsonFields.Int64s();
  private boolean hasRank;
  private long rank;
  private boolean hasValue;
  private long value;
  private boolean hasMs;
  private long ms;

  private final byte[] out = new byte[1 << 16];
  private int outPos;

  /**
   * A replay of token prompts only (see {@link #TraceReplay(RouterConfig, int, TextTokenizer)}).
   */
  public TraceReplay(RouterConfig config, int ranks) {
    this(config, ranks, null);
  }

  /**
   * Creates a replay of {@code ranks} start-up engines labelled 0..ranks-1; the configuration's
   * clock is replaced by the replay's virtual one. Text prompts ({@code "text"} instead of {@code
   * "tokens"}) are tokenized with {@code tokenizer}, as the coordinator does; one it cannot read is
   * routed by load only, as the coordinator does.
   *
   * @param tokenizer the engines' tokenizer, or null: a text prompt is then a bad line
   * @throws IllegalArgumentException if {@code ranks} is not positive
   */
  public TraceReplay(RouterConfig config, int ranks, TextTokenizer tokenizer) {
    if (ranks <= 0) {
      throw new IllegalArgumentException("ranks must be positive, got " + ranks);
    }
    this.router = new Router(config.toBuilder().nanoClock(() -> clockNanos).build());
    this.hasher = new BlockHasher(config.blockSize());
    this.config = config;
    this.tokenizer = tokenizer;
    List<byte[]> identities = new ArrayList<>(ranks);
    for (int label = 0; label < ranks; label++) {
      identities.add(identity(label));
    }
    int[] engines = router.registerInitial(identities);
    for (int label = 0; label < ranks; label++) {
      track(label, engines[label]);
    }
  }

  /** The router being replayed, for inspection. */
  public Router router() {
    return router;
  }

  /**
   * Replays every line of {@code in}, writing the decisions to {@code sink}, and returns the number
   * of submits. The sink is flushed when the replay ends, also when a line is bad.
   *
   * @throws TraceException for the first bad line
   */
  public long run(InputStream in, OutputStream sink) throws IOException, TraceException {
    LineSource lines = new LineSource(in);
    try {
      while (lines.next()) {
        if (outPos > out.length - 160) {
          drain(sink);
        }
        replay(lines);
      }
    } finally {
      drain(sink);
      sink.flush();
    }
    return submits;
  }

  private void replay(LineSource line) throws IOException, TraceException {
    if (line.isBlank()) {
      return;
    }
    long n = line.number();
    parse(line);
    if (op == null) {
      throw new TraceException(n, "missing field 'op'");
    }
    switch (op) {
      case "submit" -> submit(n);
      case "complete" -> complete(n);
      case "remove" -> remove(n);
      case "add" -> add(n);
      case "epoch" -> epoch(n);
      case "advance" -> advance(n);
      default ->
          throw new TraceException(
              n,
              "unknown op '" + op + "' (expected submit, complete, remove, add, epoch, advance)");
    }
  }

  // ---- ops ----

  private void submit(long n) throws TraceException {
    need(n, hasId, "id");
    if (hasTokens == (text != null)) {
      throw new TraceException(n, "submit needs field 'tokens' or field 'text' (one of them)");
    }
    if (text != null && tokenizer == null) {
      throw new TraceException(n, "submit " + id + " has a text prompt: give --tokenizer");
    }
    if (requests.get(id, UNKNOWN) != UNKNOWN) {
      throw new TraceException(n, "duplicate submit id " + id);
    }
    if (router.activeEngines() == 0) {
      throw new TraceException(n, "no engine is active to route request " + id + " to");
    }
    int count = 0;
    if (text == null) {
      count = hasher.hash(tokens.values(), config.blocksToHash(tokens.size()));
    } else if (config.hashesPrompts()) {
      count = hashText();
    }
    Decision d = router.route(hasher.hashes(), count, true);
    router.commit(d, hasher.hashes(), count);
    requests.put(id, d.engine());
    submits++;
    write(ID);
    writeLong(id);
    write(RANK);
    writeLong(labelOfEngine[d.engine()]);
    write(MATCH);
    writeLong(d.matchDepth());
    write(HIT);
    write(d.hit() ? TRUE : FALSE);
    write(STALE);
    write(d.staleFound() ? TRUE : FALSE);
    write(END);
  }

  /** Tokenizes and hashes the line's text; 0 hashes (load only) when the tokenizer cannot. */
  private int hashText() {
    try {
      long[] ids = tokenizer.tokenize(text);
      return hasher.hash(ids, config.blocksToHash(ids.length));
    } catch (IllegalArgumentException e) {
      return 0;
    }
  }

  private void complete(long n) throws TraceException {
    need(n, hasId, "id");
    int engine = requests.get(id, UNKNOWN);
    if (engine == UNKNOWN) {
      throw new TraceException(n, "unknown request id " + id);
    }
    if (engine == COMPLETED) {
      throw new TraceException(n, "request id " + id + " was already completed");
    }
    router.complete(engine);
    requests.put(id, COMPLETED);
  }

  private void remove(long n) throws TraceException {
    need(n, hasRank, "rank");
    Integer engine = rank >= 0 && rank <= Integer.MAX_VALUE ? engineOfLabel.get((int) rank) : null;
    if (engine == null) {
      throw new TraceException(n, "rank " + rank + " is out of range: no engine has that label");
    }
    if (!router.remove(engine)) {
      throw new TraceException(n, "rank " + rank + " is not active");
    }
  }

  private void add(long n) throws TraceException {
    need(n, hasRank, "rank");
    if (rank < 0 || rank > Integer.MAX_VALUE) {
      throw new TraceException(
          n, "rank " + rank + " is out of range: labels are 0.." + Integer.MAX_VALUE);
    }
    int label = (int) rank;
    Integer engine = engineOfLabel.get(label);
    if (engine == null) {
      track(label, router.register());
    } else if (router.rankOf(engine) >= 0) {
      track(label, router.replace(engine));
    } else {
      track(label, router.rejoin(engine));
    }
  }

  private void epoch(long n) throws TraceException {
    need(n, hasValue, "value");
    if (!epochSeen || value != epochValue) {
      router.newEpoch();
    }
    epochSeen = true;
    epochValue = value;
  }

  private void advance(long n) throws TraceException {
    need(n, hasMs, "ms");
    if (ms < 0) {
      throw new TraceException(n, "advance needs a non-negative 'ms', got " + ms);
    }
    try {
      clockNanos = Math.addExact(clockNanos, Math.multiplyExact(ms, 1_000_000L));
    } catch (ArithmeticException e) {
      throw new TraceException(n, "advance of " + ms + " ms overflows the virtual clock");
    }
  }

  private void need(long n, boolean present, String field) throws TraceException {
    if (!present) {
      throw new TraceException(n, op + " needs field '" + field + "'");
    }
  }

  private void track(int label, int engine) {
    engineOfLabel.put(label, engine);
    if (engine >= labelOfEngine.length) {
      labelOfEngine = Arrays.copyOf(labelOfEngine, Math.max(engine + 1, labelOfEngine.length * 2));
    }
    labelOfEngine[engine] = label;
  }

  private static byte[] identity(int label) {
    return new byte[] {
      (byte) (label >>> 24), (byte) (label >>> 16), (byte) (label >>> 8), (byte) label
    };
  }

  // ---- parsing ----

  private void parse(LineSource line) throws IOException, TraceException {
    op = null;
    hasId = hasTokens = hasRank = hasValue = hasMs = false;
    text = null;
    line.readObject(JSON, this::field);
  }

  private void field(String name, JsonParser p, JsonToken v, long n)
      throws IOException, TraceException {
    switch (name) {
      case "op" -> op = JsonFields.string(p, v, "op", n);
      case "id" -> {
        id = JsonFields.integer(p, v, "id", n);
        hasId = true;
      }
      case "text" -> text = JsonFields.string(p, v, "text", n);
      case "tokens" -> {
        tokens.read(p, v, "tokens", n);
        hasTokens = true;
      }
      case "rank" -> {
        rank = JsonFields.integer(p, v, "rank", n);
        hasRank = true;
      }
      case "value" -> {
        value = JsonFields.integer(p, v, "value", n);
        hasValue = true;
      }
      case "ms" -> {
        ms = JsonFields.integer(p, v, "ms", n);
        hasMs = true;
      }
      default -> p.skipChildren();
    }
  }

  // ---- output ----

  private void write(byte[] bytes) {
    System.arraycopy(bytes, 0, out, outPos, bytes.length);
    outPos += bytes.length;
  }

  private void writeLong(long v) {
    if (v == Long.MIN_VALUE) {
      write(ascii(Long.toString(v)));
      return;
    }
    if (v < 0) {
      out[outPos++] = '-';
      v = -v;
    }
    int digits = 1;
    for (long t = v; t >= 10; t /= 10) {
      digits++;
    }
    for (int i = outPos + digits - 1; i >= outPos; i--) {
      out[i] = (byte) ('0' + v % 10);
      v /= 10;
    }
    outPos += digits;
  }

  private void drain(OutputStream sink) throws IOException {
    if (outPos > 0) {
      sink.write(out, 0, outPos);
      outPos = 0;
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
