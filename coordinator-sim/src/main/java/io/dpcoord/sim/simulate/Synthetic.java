package io.dpcoord.sim.simulate;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Synthetic workloads of five shapes, generated on the fly from a seed: the same spec and seed give
 * the same requests on every iteration and every thread, and a million requests are never held at
 * once.
 *
 * <p>A spec is {@code KIND} or {@code KIND:key=value,key=value,...}, for example {@code rag} or
 * {@code rag:requests=100000,rate=50}. Spaces around names and values are ignored. Integers may be
 * written {@code 100000}, {@code 100_000} or {@code 1e5}. Every kind takes:
 *
 * <ul>
 *   <li>{@code requests}: how many requests (default 10,000);
 *   <li>{@code rate}: requests per second, Poisson arrivals; {@code A..B} makes the rate rise (or
 *       fall) linearly from A to B over the run, which then lasts {@code 2 requests / (A + B)}
 *       seconds;
 *   <li>{@code block}: tokens per hashed block (default 256: the hash granularity of the
 *       simulation, not the engines' page size; coarser blocks keep long contexts cheap to track,
 *       finer ones count partial sharing more closely);
 *   <li>{@code output}: output tokens per request.
 * </ul>
 *
 * <p>The kinds, with their own keys ({@link #usage()} lists every key with its default):
 *
 * <ul>
 *   <li>{@code chat}: multi-turn chat. Sessions of {@code turns} turns (10) start at random over
 *       the run, {@code requests / turns} of them; turn 1's prompt is a shared system prompt of
 *       {@code system} tokens (default 0) and a user message of {@code message} tokens; each later
 *       turn's prompt is the previous prompt, the previous answer ({@code output} tokens) and a new
 *       message, {@code think} seconds (exponential) after the previous turn. Defaults: messages of
 *       160 and answers of 340 tokens, near ShareGPT's means of 161 and 338 (Kwon et al., vLLM,
 *       SOSP'23); 30 s think time.
 *   <li>{@code agent}: tool-using agents: the same growth with longer steps. Step 1 is a shared
 *       system prompt with tool definitions ({@code system}, 2,000 tokens) and a task ({@code
 *       task}, 500); each later step appends the model's tool call ({@code output}, 150) and the
 *       tool's result ({@code result}, 1,500), {@code think} seconds (tool latency, 2) after the
 *       previous step. Agents of {@code steps} steps (20) reach contexts of about 34,000 tokens.
 *   <li>{@code system-prompt}: {@code prompts} shared system prompts (16) of {@code system} tokens
 *       (2,000), chosen Zipf({@code zipf}, 1.0) by popularity, each followed by a unique question
 *       ({@code question}, 200); answers of 300.
 *   <li>{@code rag}: retrieval-augmented generation: a shared instruction ({@code instruction}, 300
 *       tokens), then {@code k} (5) distinct documents drawn Zipf({@code zipf}, 1.0) from a corpus
 *       of {@code corpus} (1,000) documents of {@code document} tokens (512) each, in the order
 *       drawn, then a unique question ({@code question}, 100); answers of 200.
 *   <li>{@code llm-d}: the shape of llm-d's prefix-cache benchmark (inference-perf's {@code
 *       shared_prefix} data: 150 groups, 5 prompts per group, a 6,000-token system prompt, 1,200-
 *       token questions, 1,000 output tokens, a ladder of rates from 3 to 60 QPS). {@code groups}
 *       groups share a system prompt of {@code system} tokens; each of a group's {@code users}
 *       users has a question of {@code question} tokens. As in inference-perf, the groups x users
 *       prompts are shuffled once and sent in turn, so each prompt recurs; {@code fresh=true} gives
 *       every request a new question instead. Lengths are exact; the rate ramps 3..60.
 * </ul>
 *
 * <p>Message, question, result and output lengths other than llm-d's are drawn uniformly within 50%
 * of the given mean. Arrivals do not wait for answers (an open loop): a session's next turn comes
 * its think time after the previous turn arrived, whether or not that turn has finished. For chat
 * and agent sessions, {@code rate} is the long-run request rate: sessions start at {@code rate /
 * turns per session}.
 *
 * <p>Block hashes are built from segment ids (see {@link PromptChain}), never from tokens: equal
 * content at the same position after the same prefix gives equal hashes.
 */
public final class Synthetic implements Workload {
  /*
   * Design notes.
   *
   * Each kind turns its parameters into an immutable source (tables such as the Zipf CDF or
   * llm-d's prompt order are built once); requests() starts a new iterator with its own random
   * generators, split from the seed in a fixed order (timing, then content), so iterations are
   * equal and independent. Independent kinds rebuild each prompt from its segments (a few dozen
   * blocks); session kinds keep one PromptChain per open session and extend it, holding only the
   * sessions that have started and not ended.
   */

  /** Tokens per block unless the spec says {@code block=}. */
  public static final int DEFAULT_BLOCK_SIZE = 256;

  /** Requests unless the spec says {@code requests=}. */
  public static final int DEFAULT_REQUESTS = 10_000;

  /** The longest prompt a spec may produce, in tokens. */
  static final long MAX_PROMPT_TOKENS = 1 << 24;

  private static final int MAX_BLOCK_SIZE = 1 << 20;
  private static final int MAX_K = 64;
  private static final int MAX_PROMPTS = 1 << 24;

  // segment roles, mixed into segment ids
  private static final long SYSTEM = 1;
  private static final long FIRST_INPUT = 2;
  private static final long ANSWER = 3;
  private static final long NEXT_INPUT = 4;
  private static final long QUESTION = 5;
  private static final long INSTRUCTION = 6;
  private static final long DOCUMENT = 7;

  /** The kinds of synthetic workload, each with its keys and how it generates requests. */
  public enum Kind {
    CHAT(
        "chat",
        "multi-turn chat sessions whose prompts grow by the answer and a new message",
        "10",
        "340",
        count("turns", "10", 1, "turns per session (requests/turns sessions)"),
        count("system", "0", 0, "tokens of the system prompt all sessions share"),
        count("message", "160", 1, "mean tokens of a user message"),
        decimal("think", "30", "mean seconds between a session's turns (exponential)")) {
      @Override
      Source source(Synthetic w) {
        return new Sessions(w, "turns", "message", "message");
      }
    },
    AGENT(
        "agent",
        "tool-using agents whose contexts grow by a tool call and its result per step",
        "10",
        "150",
        count("steps", "20", 1, "steps per agent (requests/steps agents)"),
        count("system", "2000", 0, "tokens of the shared system prompt and tool definitions"),
        count("task", "500", 1, "mean tokens of an agent's task"),
        count("result", "1500", 0, "mean tokens of a tool result"),
        decimal("think", "2", "mean seconds of a tool call between steps (exponential)")) {
      @Override
      Source source(Synthetic w) {
        return new Sessions(w, "steps", "task", "result");
      }
    },
    SYSTEM_PROMPT(
        "system-prompt",
        "shared system prompts, Zipf-popular, each followed by a unique question",
        "10",
        "300",
        count("prompts", "16", 1, "system prompts"),
        count("system", "2000", 0, "tokens of a system prompt"),
        decimal("zipf", "1.0", "Zipf exponent of the prompts' popularity (0: uniform)"),
        count("question", "200", 1, "mean tokens of a question")) {
      @Override
      Source source(Synthetic w) {
        return new SystemPrompts(w);
      }
    },
    RAG(
        "rag",
        "a shared instruction, k Zipf-popular documents from a corpus, a unique question",
        "10",
        "200",
        count("instruction", "300", 0, "tokens of the shared instruction"),
        count("corpus", "1000", 1, "documents in the corpus"),
        count("k", "5", 1, "distinct documents per prompt"),
        count("document", "512", 1, "tokens of a document"),
        decimal("zipf", "1.0", "Zipf exponent of the documents' popularity (0: uniform)"),
        count("question", "100", 1, "mean tokens of a question")) {
      @Override
      Source source(Synthetic w) {
        return new Rag(w);
      }
    },
    LLM_D(
        "llm-d",
        "llm-d's prefix-cache benchmark: groups sharing a long prefix, users' questions, a ramp",
        "3..60",
        "1000",
        count("groups", "150", 1, "groups, each with its own system prompt"),
        count("users", "5", 1, "users per group, each with a question"),
        count("system", "6000", 0, "tokens of a group's system prompt"),
        count("question", "1200", 1, "tokens of a question"),
        flag("fresh", "false", "true: a new question for every request")) {
      @Override
      Source source(Synthetic w) {
        return new LlmD(w);
      }
    };

    private final String cliName;
    private final String summary;
    private final List<Param> params;

    Kind(String cliName, String summary, String rate, String output, Param... own) {
      this.cliName = cliName;
      this.summary = summary;
      List<Param> all = new ArrayList<>();
      all.add(count("requests", Integer.toString(DEFAULT_REQUESTS), 1, "requests"));
      all.add(new Param("rate", Type.RATE, rate, 0, "requests per second, or A..B for a ramp"));
      all.add(count("block", Integer.toString(DEFAULT_BLOCK_SIZE), 1, "tokens per block"));
      all.add(count("output", output, 1, "output tokens (a mean, but exact in llm-d)"));
      all.addAll(List.of(own));
      this.params = List.copyOf(all);
    }

    /** The name in a spec, e.g. {@code system-prompt}. */
    public String cliName() {
      return cliName;
    }

    abstract Source source(Synthetic w);

    static Kind named(String name) {
      for (Kind k : values()) {
        if (k.cliName.equals(name)) {
          return k;
        }
      }
      throw new IllegalArgumentException(
          "unknown workload kind '"
              + name
              + "' (kinds: "
              + Arrays.stream(values()).map(Kind::cliName).collect(Collectors.joining(", "))
              + ")");
    }
  }

  private final Kind kind;
  private final String spec;
  private final long seed;
  private final Map<String, Object> values;
  private final int requests;
  private final int blockSize;
  private final double rateStart;
  private final double rateEnd;
  private final long salt;
  private final Source source;

  private Synthetic(Kind kind, String spec, long seed, Map<String, Object> values) {
    this.kind = kind;
    this.spec = spec;
    this.seed = seed;
    this.values = values;
    this.requests = intValue("requests");
    this.blockSize = intValue("block");
    if (intValue("output") > MAX_PROMPT_TOKENS) {
      throw bad("'output' must be at most " + MAX_PROMPT_TOKENS + ", got " + intValue("output"));
    }
    double[] rate = (double[]) values.get("rate");
    this.rateStart = rate[0];
    this.rateEnd = rate[1];
    this.salt = PromptChain.mix(seed ^ 0x5DEECE66DL);
    this.source = kind.source(this);
  }

  /**
   * The workload a spec describes, with {@code seed}.
   *
   * @throws IllegalArgumentException naming the bad part of the spec: an unknown kind or key, a
   *     malformed pair, a value of the wrong type or out of range, or values that do not fit
   *     together
   */
  public static Synthetic parse(String spec, long seed) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("empty workload spec");
    }
    String s = spec.strip();
    int colon = s.indexOf(':');
    Kind kind = Kind.named((colon < 0 ? s : s.substring(0, colon)).strip());
    Map<String, String> given = new LinkedHashMap<>();
    if (colon >= 0 && !s.substring(colon + 1).isBlank()) {
      for (String pair : s.substring(colon + 1).split(",", -1)) {
        int eq = pair.indexOf('=');
        if (eq < 0 || pair.substring(0, eq).isBlank()) {
          throw new IllegalArgumentException(
              kind.cliName + ": expected key=value, got '" + pair.strip() + "' in '" + s + "'");
        }
        String key = pair.substring(0, eq).strip();
        if (given.put(key, pair.substring(eq + 1).strip()) != null) {
          throw new IllegalArgumentException(kind.cliName + ": key '" + key + "' given twice");
        }
      }
    }
    Map<String, Object> values = new LinkedHashMap<>();
    for (Param p : kind.params) {
      String given1 = given.remove(p.key);
      values.put(p.key, p.parse(kind, given1 == null ? p.value : given1));
    }
    if (!given.isEmpty()) {
      throw new IllegalArgumentException(
          kind.cliName
              + " has no key '"
              + given.keySet().iterator().next()
              + "' (keys: "
              + kind.params.stream().map(Param::key).collect(Collectors.joining(", "))
              + ")");
    }
    int block = (Integer) values.get("block");
    if (block > MAX_BLOCK_SIZE) {
      throw new IllegalArgumentException(
          kind.cliName + ": 'block' must be at most " + MAX_BLOCK_SIZE + ", got " + block);
    }
    return new Synthetic(kind, s, seed, values);
  }

  /** Every kind with its keys and defaults, for a command's help. */
  public static String usage() {
    StringBuilder b = new StringBuilder();
    b.append("KIND[:key=value,...]; rate=A..B ramps from A to B requests/s\n");
    for (Kind k : Kind.values()) {
      b.append('\n').append(k.cliName).append(": ").append(k.summary).append('\n');
      for (Param p : k.params) {
        b.append(String.format(Locale.ROOT, "  %-12s %-7s %s%n", p.key, p.value, p.help));
      }
    }
    return b.toString();
  }

  @Override
  public String name() {
    return spec + " (seed " + seed + ")";
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public Iterator<SimRequest> requests() {
    return source.requests();
  }

  /** The kind of workload. */
  public Kind kind() {
    return kind;
  }

  /** The number of requests. */
  public int size() {
    return requests;
  }

  /** The spec with every key's value, defaults included, e.g. {@code rag:requests=10000,...}. */
  public String describe() {
    StringBuilder b = new StringBuilder(kind.cliName).append(':');
    String sep = "";
    for (Map.Entry<String, Object> e : values.entrySet()) {
      b.append(sep).append(e.getKey()).append('=');
      Object v = e.getValue();
      if (v instanceof double[] r) {
        b.append(number(r[0]));
        if (r[1] != r[0]) {
          b.append("..").append(number(r[1]));
        }
      } else if (v instanceof Double d) {
        b.append(number(d));
      } else {
        b.append(v);
      }
      sep = ",";
    }
    return b.toString();
  }

  private static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  // ---- parameters ----

  private int intValue(String key) {
    return (Integer) values.get(key);
  }

  private double doubleValue(String key) {
    return (Double) values.get(key);
  }

  private boolean flagValue(String key) {
    return (Boolean) values.get(key);
  }

  private IllegalArgumentException bad(String message) {
    return new IllegalArgumentException(kind.cliName + ": " + message);
  }

  private enum Type {
    COUNT,
    DECIMAL,
    RATE,
    FLAG
  }

  private record Param(String key, Type type, String value, int min, String help) {
    Object parse(Kind kind, String text) {
      String what =
          switch (type) {
            case COUNT -> "an integer >= " + min;
            case DECIMAL -> "a number >= 0";
            case RATE -> "a rate > 0 (requests/s) or a ramp A..B of two";
            case FLAG -> "true or false";
          };
      try {
        return switch (type) {
          case COUNT -> {
            int n = new BigDecimal(text.replace("_", "")).intValueExact();
            if (n < min) {
              throw new NumberFormatException();
            }
            yield n;
          }
          case DECIMAL -> {
            double d = Double.parseDouble(text);
            if (!(d >= 0) || Double.isInfinite(d)) {
              throw new NumberFormatException();
            }
            yield d;
          }
          case RATE -> {
            int dots = text.indexOf("..");
            double a = positive(dots < 0 ? text : text.substring(0, dots));
            double b = dots < 0 ? a : positive(text.substring(dots + 2));
            yield new double[] {a, b};
          }
          case FLAG -> {
            if (!text.equals("true") && !text.equals("false")) {
              throw new NumberFormatException();
            }
            yield Boolean.parseBoolean(text);
          }
        };
      } catch (NumberFormatException | ArithmeticException e) {
        throw new IllegalArgumentException(
            kind.cliName + ": '" + key + "' must be " + what + ", got '" + text + "'");
      }
    }

    private static double positive(String text) {
      double d = Double.parseDouble(text.strip());
      if (!(d > 0) || Double.isInfinite(d)) {
        throw new NumberFormatException();
      }
      return d;
    }
  }

  private static Param count(String key, String value, int min, String help) {
    return new Param(key, Type.COUNT, value, min, help);
  }

  private static Param decimal(String key, String value, String help) {
    return new Param(key, Type.DECIMAL, value, 0, help);
  }

  private static Param flag(String key, String value, String help) {
    return new Param(key, Type.FLAG, value, 0, help);
  }

  // ---- generation ----

  /** An id for segment {@code index} of {@code role}, distinct per seed. */
  private long segment(long role, long index) {
    return PromptChain.combine(PromptChain.combine(salt, role), index);
  }

  /** A length uniform in [mean - mean/2, mean + mean/2]. */
  private static int around(SplittableRandom random, int mean) {
    int half = mean / 2;
    return mean == 0 ? 0 : random.nextInt(mean - half, mean + half + 1);
  }

  private static long upper(int mean) {
    return (long) mean + mean / 2;
  }

  private void checkPromptLength(long tokens, String what) {
    if (tokens > MAX_PROMPT_TOKENS) {
      throw bad(what + " could reach " + tokens + " tokens, more than " + MAX_PROMPT_TOKENS);
    }
  }

  /** A kind's immutable generator; {@link #requests()} starts an independent iteration. */
  private abstract static class Source {
    final Synthetic w;

    Source(Synthetic w) {
      this.w = w;
    }

    abstract Iterator<SimRequest> requests();
  }

  /** The request kinds whose prompts do not depend on earlier requests. */
  private abstract static class Independent extends Source {
    Independent(Synthetic w) {
      super(w);
    }

    /** Appends request {@code index}'s prompt to {@code chain}; returns its output tokens. */
    abstract int prompt(PromptChain chain, SplittableRandom random, int index);

    @Override
    Iterator<SimRequest> requests() {
      SplittableRandom root = new SplittableRandom(w.seed);
      Arrivals arrivals = new Arrivals(root.split(), w.rateStart, w.rateEnd, w.requests);
      SplittableRandom content = root.split();
      PromptChain chain = new PromptChain(w.blockSize);
      return new Iterator<>() {
        private int emitted;

        @Override
        public boolean hasNext() {
          return emitted < w.requests;
        }

        @Override
        public SimRequest next() {
          if (emitted >= w.requests) {
            throw new NoSuchElementException();
          }
          long at = arrivals.next();
          chain.clear();
          int output = prompt(chain, content, emitted++);
          return new SimRequest(at, chain.tokens(), output, chain.blocks());
        }
      };
    }
  }

  private static final class SystemPrompts extends Independent {
    private final ZipfTable popularity;
    private final int system;
    private final int question;
    private final int output;

    SystemPrompts(Synthetic w) {
      super(w);
      int prompts = w.intValue("prompts");
      if (prompts > ZipfTable.MAX_ITEMS) {
        throw w.bad("'prompts' must be at most " + ZipfTable.MAX_ITEMS + ", got " + prompts);
      }
      this.popularity = new ZipfTable(prompts, w.doubleValue("zipf"));
      this.system = w.intValue("system");
      this.question = w.intValue("question");
      this.output = w.intValue("output");
      w.checkPromptLength(system + upper(question), "a prompt");
    }

    @Override
    int prompt(PromptChain chain, SplittableRandom random, int index) {
      chain.append(w.segment(SYSTEM, popularity.sample(random)), system);
      chain.append(w.segment(QUESTION, index), around(random, question));
      return around(random, output);
    }
  }

  private static final class Rag extends Independent {
    private final ZipfTable popularity;
    private final int instruction;
    private final int k;
    private final int document;
    private final int question;
    private final int output;

    Rag(Synthetic w) {
      super(w);
      int corpus = w.intValue("corpus");
      this.k = w.intValue("k");
      if (corpus > ZipfTable.MAX_ITEMS) {
        throw w.bad("'corpus' must be at most " + ZipfTable.MAX_ITEMS + ", got " + corpus);
      }
      if (k > corpus || k > MAX_K) {
        throw w.bad(
            "'k' ("
                + k
                + ") must be at most the corpus ("
                + corpus
                + ") and at most "
                + MAX_K
                + ": a prompt's documents are distinct");
      }
      this.popularity = new ZipfTable(corpus, w.doubleValue("zipf"));
      this.instruction = w.intValue("instruction");
      this.document = w.intValue("document");
      this.question = w.intValue("question");
      this.output = w.intValue("output");
      w.checkPromptLength(instruction + (long) k * document + upper(question), "a prompt");
    }

    @Override
    int prompt(PromptChain chain, SplittableRandom random, int index) {
      chain.append(w.segment(INSTRUCTION, 0), instruction);
      int[] chosen = new int[k];
      for (int i = 0; i < k; i++) {
        int doc;
        do {
          doc = popularity.sample(random);
        } while (contains(chosen, i, doc));
        chosen[i] = doc;
        chain.append(w.segment(DOCUMENT, doc), document);
      }
      chain.append(w.segment(QUESTION, index), around(random, question));
      return around(random, output);
    }

    private static boolean contains(int[] a, int n, int v) {
      for (int i = 0; i < n; i++) {
        if (a[i] == v) {
          return true;
        }
      }
      return false;
    }
  }

  private static final class LlmD extends Independent {
    private final int users;
    private final int system;
    private final int question;
    private final int output;
    private final boolean fresh;
    private final int[] order;

    LlmD(Synthetic w) {
      super(w);
      int groups = w.intValue("groups");
      this.users = w.intValue("users");
      if ((long) groups * users > MAX_PROMPTS) {
        throw w.bad(
            "groups x users ("
                + (long) groups * users
                + ") must be at most "
                + MAX_PROMPTS
                + " prompts");
      }
      this.system = w.intValue("system");
      this.question = w.intValue("question");
      this.output = w.intValue("output");
      this.fresh = w.flagValue("fresh");
      w.checkPromptLength((long) system + question, "a prompt");
      // inference-perf makes the prompts once, shuffles them and sends them in turn
      order = new int[groups * users];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      SplittableRandom shuffle = new SplittableRandom(PromptChain.mix(w.seed ^ 0x11D));
      for (int i = order.length - 1; i > 0; i--) {
        int j = shuffle.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }

    @Override
    int prompt(PromptChain chain, SplittableRandom random, int index) {
      int p = order[index % order.length];
      int group = p / users;
      chain.append(w.segment(SYSTEM, group), system);
      chain.append(w.segment(QUESTION, fresh ? order.length + (long) index : p), question);
      return output;
    }
  }

  /** Chat and agent sessions: each request extends its session's previous prompt. */
  private static final class Sessions extends Source {
    private final int turns;
    private final int sessions;
    private final int system;
    private final int first;
    private final int next;
    private final int output;
    private final double thinkNanos;

    Sessions(Synthetic w, String turnsKey, String firstKey, String nextKey) {
      super(w);
      this.turns = w.intValue(turnsKey);
      this.sessions = (int) ((w.requests + (long) turns - 1) / turns);
      this.system = w.intValue("system");
      this.first = w.intValue(firstKey);
      this.next = w.intValue(nextKey);
      this.output = w.intValue("output");
      this.thinkNanos = w.doubleValue("think") * 1e9;
      w.checkPromptLength(
          system
              + upper(first)
              + (Math.min(turns, w.requests) - 1L) * (upper(output) + upper(next)),
          "a session's context");
    }

    @Override
    Iterator<SimRequest> requests() {
      return new SessionIterator();
    }

    private static final class Session {
      final int id;
      final PromptChain chain;
      int turnsLeft;
      int lastOutput;
      long nextArrival;

      Session(int id, int turns, int blockSize) {
        this.id = id;
        this.turnsLeft = turns;
        this.chain = new PromptChain(blockSize);
      }
    }

    private final class SessionIterator implements Iterator<SimRequest> {
      private final SplittableRandom timing;
      private final SplittableRandom content;
      private final Arrivals starts;
      private final PriorityQueue<Session> open =
          new PriorityQueue<>(
              (a, b) ->
                  a.nextArrival != b.nextArrival
                      ? Long.compare(a.nextArrival, b.nextArrival)
                      : Integer.compare(a.id, b.id));
      private int started;
      private long nextStart;
      private int emitted;
      private long unique;

      SessionIterator() {
        SplittableRandom root = new SplittableRandom(w.seed);
        this.timing = root.split();
        this.content = root.split();
        // sessions start at rate / turns, so requests come at `rate` in the long run
        double perSession = (double) w.requests / sessions;
        this.starts =
            new Arrivals(timing, w.rateStart / perSession, w.rateEnd / perSession, sessions);
        this.nextStart = starts.next();
      }

      @Override
      public boolean hasNext() {
        return emitted < w.requests;
      }

      @Override
      public SimRequest next() {
        if (emitted >= w.requests) {
          throw new NoSuchElementException();
        }
        Session s;
        long at;
        if (started < sessions && (open.isEmpty() || nextStart < open.peek().nextArrival)) {
          // every session has `turns` turns but the last, which has what is left
          int left = (int) Math.min(turns, w.requests - (long) started * turns);
          s = new Session(started++, left, w.blockSize);
          at = nextStart;
          if (started < sessions) {
            nextStart = starts.next();
          }
          s.chain.append(w.segment(SYSTEM, 0), system);
          s.chain.append(w.segment(FIRST_INPUT, unique++), around(content, first));
        } else {
          s = open.poll();
          at = s.nextArrival;
          s.chain.append(w.segment(ANSWER, unique++), s.lastOutput);
          s.chain.append(w.segment(NEXT_INPUT, unique++), around(content, next));
        }
        int out = around(content, output);
        SimRequest r = new SimRequest(at, s.chain.tokens(), out, s.chain.blocks());
        emitted++;
        s.lastOutput = out;
        if (--s.turnsLeft > 0) {
          double think = -Math.log(1.0 - timing.nextDouble()) * thinkNanos;
          s.nextArrival = at + (long) think;
          open.add(s);
        }
        return r;
      }
    }
  }
}
