package io.dpcoord.bench;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import io.dpcoord.metrics.DropwizardMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.protocol.Prompt;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.LoadConfig;
import io.dpcoord.sim.LoadGenerator;
import io.dpcoord.sim.LoadReport;
import io.dpcoord.sim.SimulatedEngine;
import io.dpcoord.tokenizers.TextTokenizer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeoutException;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;

/**
 * The event loop's CPU per request with detokenization on and off, end to end in one JVM.
 *
 * <p>An in-process {@link Coordinator} with a tokenizer, simulated engines that answer fast (200
 * µs, no per-token cost) with {@code --generated} tokens, and a closed-loop {@link LoadGenerator}
 * sending text prompts: {@code --prefixes} shared system prompts of about {@code --prefix-tokens}
 * tokens, each followed by a unique suffix up to about {@code --prompt-tokens}, cut from the same
 * mixed corpus as {@link TokenizerBenchmark}. Every prompt is tokenized up front for the engines
 * (so that they do not compete for the cores), and the same prompts are sent in every round.
 *
 * <p>A round starts a coordinator (detokenization on or off) and the engines, sends {@code
 * --warmup} requests, then {@code --requests} measured ones. Over the measured ones it takes the
 * CPU time of the thread {@code coordinator-loop} and of the threads {@code
 * coordinator-tokenizer-*} (ThreadMXBean), the process CPU and the wall time. Two unmeasured rounds
 * (on, then off; warm-up requests only) compile the code first; then the rounds run in pairs, one
 * on and one off, alternating which goes first. Then it prints each round and the medians with
 * their ranges.
 *
 * <pre>
 * java -cp coordinator-bench/target/benchmarks.jar io.dpcoord.bench.LoopCpuHarness [--rounds 3]
 *     [--tokenizer huggingface:.cache/tokenizers/qwen3] [--warmup 1000] [--requests 3000] ...
 * </pre>
 */
public final class LoopCpuHarness {
  private static final String LOOP_THREAD = "coordinator-loop";
  private static final String TOKENIZER_THREAD = "coordinator-tokenizer-";
  private static final Duration ENGINE_LATENCY = Duration.ofNanos(200_000);
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final Options options;
  private final TextTokenizer tokenizer;
  private final TextTokenizer engineTokenizer;
  private final List<String> prompts;

  private LoopCpuHarness(Options options) {
    this.options = options;
    this.tokenizer = BenchTexts.load(options.tokenizer, options.root);
    this.prompts = prompts(options, tokenizer);
    long[][] tokens = new long[prompts.size()][];
    IntStream.range(0, tokens.length)
        .parallel()
        .forEach(i -> tokens[i] = tokenizer.tokenize(prompts.get(i)));
    Map<String, long[]> byText = new HashMap<>();
    for (int i = 0; i < tokens.length; i++) {
      byText.put(prompts.get(i), tokens[i]);
    }
    this.engineTokenizer = new Pretokenized(byText, tokenizer);
    IntSummary lengths = IntSummary.of(Arrays.stream(tokens).mapToInt(t -> t.length).toArray());
    System.out.printf(
        Locale.ROOT,
        "%d distinct prompts (%d shared prefixes): %s tokens each (mean %.0f), %d to %d chars%n",
        prompts.size(),
        options.prefixes,
        lengths.range(),
        lengths.mean,
        prompts.stream().mapToInt(String::length).min().orElse(0),
        prompts.stream().mapToInt(String::length).max().orElse(0));
  }

  /** Runs the rounds and prints the table; exits 1 if a round loses or fails a request. */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("LoopCpuHarness: " + e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    System.out.println("load average at start: " + loadAverage());
    System.out.println(options);
    LoopCpuHarness harness = new LoopCpuHarness(options);
    // compiles the code of both settings before anything is measured
    for (boolean detokenize : new boolean[] {true, false}) {
      harness.round(0, detokenize, false);
    }
    System.out.println("JIT warm-up rounds done (detokenize on, then off; not measured)");
    List<Round> rounds = new ArrayList<>();
    for (int pair = 0; pair < options.rounds; pair++) {
      boolean onFirst = pair % 2 == 0;
      for (boolean detokenize : new boolean[] {onFirst, !onFirst}) {
        Round r = harness.round(rounds.size() + 1, detokenize, true);
        System.out.println(r.format());
        rounds.add(r);
      }
    }
    System.out.println("load average at end: " + loadAverage());
    summary(rounds);
  }

  // ------------------------------------------------------------------ prompts

  /**
   * {@code warmup + requests} distinct prompts: shared prefix k (chosen at random) of random corpus
   * paragraphs, then a unique suffix of random paragraphs. Lengths are reached by summing the
   * paragraphs' token counts, so the exact counts differ a little (printed at start).
   */
  private static List<String> prompts(Options o, TextTokenizer tokenizer) {
    List<String> paragraphs = BenchTexts.paragraphs();
    int[] counts = paragraphs.stream().mapToInt(p -> tokenizer.tokenize(p).length).toArray();
    String[] prefixes = new String[o.prefixes];
    for (int k = 0; k < prefixes.length; k++) {
      prefixes[k] =
          append(
              new StringBuilder("System prompt " + k + ".\n\n"),
              paragraphs,
              counts,
              o.prefixTokens,
              new SplittableRandom(1000 + k));
    }
    SplittableRandom random = new SplittableRandom(1);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < o.warmup + o.requests; i++) {
      StringBuilder prompt = new StringBuilder(prefixes[random.nextInt(prefixes.length)]);
      prompt.append("Request ").append(i).append(".\n\n");
      out.add(append(prompt, paragraphs, counts, o.promptTokens - o.prefixTokens, random));
    }
    return out;
  }

  private static String append(
      StringBuilder sb,
      List<String> paragraphs,
      int[] counts,
      int tokens,
      SplittableRandom random) {
    int added = 0;
    while (added < tokens) {
      int p = random.nextInt(paragraphs.size());
      sb.append(paragraphs.get(p));
      added += counts[p];
    }
    return sb.toString();
  }

  // ------------------------------------------------------------------ rounds

  /** One round: the warm-up requests, then (if {@code measured}) the measured ones; else null. */
  private Round round(int number, boolean detokenize, boolean measured)
      throws IOException, InterruptedException {
    MetricRegistry registry = new MetricRegistry();
    CoordinatorConfig config =
        CoordinatorConfig.builder()
            .expectedEngines(options.engines)
            .tokenizer(tokenizer)
            .tokenizerThreads(options.tokenizerThreads)
            .detokenize(detokenize)
            .metrics(new DropwizardMetrics(registry))
            .build();
    try (Coordinator coordinator = Coordinator.start(config)) {
      List<SimulatedEngine> engines = new ArrayList<>();
      try {
        for (int rank = 0; rank < options.engines; rank++) {
          engines.add(
              SimulatedEngine.start(
                  coordinator.endpoint(),
                  EngineConfig.builder(rank)
                      .blockSize(config.routing().blockSize())
                      .base(ENGINE_LATENCY)
                      .perPromptToken(Duration.ZERO)
                      .perGeneratedToken(Duration.ZERO)
                      .tokenizer(engineTokenizer)
                      .build()));
        }
        if (!coordinator.status().awaitStarted(Duration.ofSeconds(30))) {
          throw new IllegalStateException("the engines did not register within 30 s");
        }
        load(coordinator.endpoint(), 0, options.warmup, "warm-up");
        if (!measured) {
          return null;
        }
        CpuSnapshot before = CpuSnapshot.take();
        LoadReport report =
            load(coordinator.endpoint(), options.warmup, options.requests, "measured");
        CpuSnapshot after = CpuSnapshot.take();
        Round r = new Round(number, detokenize, options.requests, report, before, after, registry);
        r.check(options.warmup + options.requests);
        return r;
      } finally {
        engines.forEach(SimulatedEngine::close); // before the coordinator, which they leave
      }
    }
  }

  /** Sends prompts {@code first .. first + count - 1}; fails unless every one completed. */
  private LoadReport load(String endpoint, int first, int count, String phase) {
    int[] next = {first};
    LoadConfig config =
        LoadConfig.builder()
            .requests(count)
            .concurrency(options.concurrency)
            .generatedTokens(options.generated)
            .connectTimeout(Duration.ofSeconds(30))
            .build();
    LoadReport report;
    try {
      report =
          new LoadGenerator(endpoint, config, () -> Prompt.ofText(prompts.get(next[0]++))).run();
    } catch (TimeoutException e) {
      throw new IllegalStateException(phase + ": " + e.getMessage(), e);
    }
    if (report.completed() != count || !report.ok() || report.failed() != 0) {
      throw new IllegalStateException(phase + " load did not complete cleanly: " + report);
    }
    return report;
  }

  /** The CPU times of the coordinator's threads and of the process, and the wall clock. */
  private record CpuSnapshot(
      long wallNanos, long processNanos, Map<Long, Long> loop, Map<Long, Long> tokenizers) {
    static CpuSnapshot take() {
      Map<Long, Long> loop = new HashMap<>();
      Map<Long, Long> tokenizers = new HashMap<>();
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        long cpu = THREADS.getThreadCpuTime(t.getId());
        if (!t.isAlive() || cpu < 0) {
          continue;
        }
        if (t.getName().equals(LOOP_THREAD)) {
          loop.put(t.getId(), cpu);
        } else if (t.getName().startsWith(TOKENIZER_THREAD)) {
          tokenizers.put(t.getId(), cpu);
        }
      }
      if (loop.size() != 1) {
        throw new IllegalStateException("expected one " + LOOP_THREAD + " thread, found " + loop);
      }
      long process =
          ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
              .getProcessCpuTime();
      return new CpuSnapshot(System.nanoTime(), process, loop, tokenizers);
    }

    /** CPU spent since {@code before} by the threads alive now (new ones from zero). */
    static long delta(Map<Long, Long> before, Map<Long, Long> after) {
      long sum = 0;
      for (Map.Entry<Long, Long> e : after.entrySet()) {
        sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
      }
      return sum;
    }
  }

  /** One round's measured phase. */
  private static final class Round {
    final int number;
    final boolean detokenize;
    final double requestsPerSecond;
    final double loopMicros;
    final double tokenizerMicros;
    final double processMicros;
    final double loopBusy;
    final double p50Millis;
    final long tokenized;
    final long detokenized;
    final long detokenizeFailed;
    final long untokenized;
    final double tokenizeMeanMicros;
    final double detokenizeMeanMicros;

    Round(
        int number,
        boolean detokenize,
        int requests,
        LoadReport report,
        CpuSnapshot before,
        CpuSnapshot after,
        MetricRegistry registry) {
      this.number = number;
      this.detokenize = detokenize;
      long wall = after.wallNanos - before.wallNanos;
      long loop = CpuSnapshot.delta(before.loop, after.loop);
      this.requestsPerSecond = report.requestsPerSecond();
      this.loopMicros = loop / 1e3 / requests;
      this.tokenizerMicros =
          CpuSnapshot.delta(before.tokenizers, after.tokenizers) / 1e3 / requests;
      this.processMicros = (after.processNanos - before.processNanos) / 1e3 / requests;
      this.loopBusy = (double) loop / wall;
      this.p50Millis = report.latency().p50();
      Timer tokenize = timer(registry, Metric.COORDINATOR_TOKENIZE_LATENCY_SECONDS);
      Timer detok = timer(registry, Metric.COORDINATOR_DETOKENIZE_LATENCY_SECONDS);
      this.tokenized = tokenize.getCount();
      this.detokenized = detok.getCount();
      this.tokenizeMeanMicros = meanMicros(tokenize);
      this.detokenizeMeanMicros = meanMicros(detok);
      this.detokenizeFailed = counter(registry, Metric.COORDINATOR_DETOKENIZE_FAILED_TOTAL);
      this.untokenized = counter(registry, Metric.ROUTING_TEXT_PROMPT_UNTOKENIZED_TOTAL);
    }

    private static Timer timer(MetricRegistry registry, Metric metric) {
      return registry.getTimers().get(metric.metricName());
    }

    /** The timer's mean in µs, weighted to recent samples (Dropwizard's decaying reservoir). */
    private static double meanMicros(Timer timer) {
      return timer.getCount() == 0 ? 0 : timer.getSnapshot().getMean() / 1e3;
    }

    private static long counter(MetricRegistry registry, Metric metric) {
      return registry.getCounters().get(metric.metricName()).getCount();
    }

    /** Every prompt tokenized, every record detokenized when on (none when off), none failed. */
    void check(long sent) {
      long expected = detokenize ? sent : 0;
      if (tokenized != sent || detokenized != expected || detokenizeFailed + untokenized != 0) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "round %d: tokenized %d of %d prompts, detokenized %d records (expected %d), "
                    + "%d detokenize failures, %d prompts routed untokenized",
                number,
                tokenized,
                sent,
                detokenized,
                expected,
                detokenizeFailed,
                untokenized));
      }
    }

    String format() {
      return String.format(
          Locale.ROOT,
          "round %d, detokenize %-3s: %6.0f requests/s, loop %6.1f µs/request (busy %4.1f %%),"
              + " tokenizer workers %7.1f µs/request, process %7.1f µs/request, p50 %5.1f ms,"
              + " worker wall time: tokenize %6.1f µs/prompt, detokenize %5.1f µs/record",
          number,
          detokenize ? "on" : "off",
          requestsPerSecond,
          loopMicros,
          100 * loopBusy,
          tokenizerMicros,
          processMicros,
          p50Millis,
          tokenizeMeanMicros,
          detokenizeMeanMicros);
    }
  }

  private static void summary(List<Round> rounds) {
    Map<String, ToDoubleFunction<Round>> columns = new LinkedHashMap<>();
    columns.put("loop CPU µs/request", r -> r.loopMicros);
    columns.put("tokenizer workers CPU µs/request", r -> r.tokenizerMicros);
    columns.put("process CPU µs/request", r -> r.processMicros);
    columns.put("requests/s", r -> r.requestsPerSecond);
    columns.put("p50 latency ms", r -> r.p50Millis);
    System.out.println();
    System.out.println(
        "| | detokenize on: median | range | detokenize off: median | range |"
            + " on / off (medians) |");
    System.out.println("|---|---|---|---|---|---|");
    for (Map.Entry<String, ToDoubleFunction<Round>> c : columns.entrySet()) {
      double[] on = values(rounds, true, c.getValue());
      double[] off = values(rounds, false, c.getValue());
      System.out.printf(
          Locale.ROOT,
          "| %s | %.1f | %.1f to %.1f | %.1f | %.1f to %.1f | %.3f |%n",
          c.getKey(),
          median(on),
          on[0],
          on[on.length - 1],
          median(off),
          off[0],
          off[off.length - 1],
          median(on) / median(off));
    }
    StringBuilder pairs = new StringBuilder();
    for (int i = 0; i + 1 < rounds.size(); i += 2) {
      Round a = rounds.get(i);
      Round b = rounds.get(i + 1);
      Round on = a.detokenize ? a : b;
      Round off = a.detokenize ? b : a;
      pairs.append(String.format(Locale.ROOT, " %.3f", on.loopMicros / off.loopMicros));
    }
    System.out.println();
    System.out.println("loop CPU on / off, per pair of rounds:" + pairs);
  }

  private static double[] values(List<Round> rounds, boolean on, ToDoubleFunction<Round> f) {
    return rounds.stream().filter(r -> r.detokenize == on).mapToDouble(f).sorted().toArray();
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  /** The minimum, maximum and mean of some counts. */
  private record IntSummary(int min, int max, double mean) {
    static IntSummary of(int[] values) {
      return new IntSummary(
          Arrays.stream(values).min().orElse(0),
          Arrays.stream(values).max().orElse(0),
          Arrays.stream(values).average().orElse(0));
    }

    String range() {
      return min + " to " + max;
    }
  }

  /**
   * The engines' tokenizer: the prompts' ids computed up front, the real tokenizer for anything
   * else.
   */
  private record Pretokenized(Map<String, long[]> byText, TextTokenizer real)
      implements TextTokenizer {
    @Override
    public long[] tokenize(String text) {
      long[] ids = byText.get(text);
      return ids != null ? ids : real.tokenize(text);
    }

    @Override
    public String detokenize(long[] ids) {
      return real.detokenize(ids);
    }

    @Override
    public long eod() {
      return real.eod();
    }
  }

  /** Command-line options. */
  private static final class Options {
    static final String USAGE =
        "usage: LoopCpuHarness [--tokenizer SPEC] [--root DIR] [--rounds N] [--warmup N]"
            + " [--requests N] [--concurrency N] [--prompt-tokens N] [--prefix-tokens N]"
            + " [--prefixes N] [--generated N] [--engines N] [--tokenizer-threads N]";

    String tokenizer = "huggingface:.cache/tokenizers/qwen3";
    Path root = BenchTexts.root();
    int rounds = 3;
    int warmup = 1000;
    int requests = 3000;
    int concurrency = 32;
    int promptTokens = 4096;
    int prefixTokens = 3072;
    int prefixes = 8;
    int generated = 256;
    int engines = 4;
    int tokenizerThreads = CoordinatorConfig.defaultTokenizerThreads();

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i += 2) {
        String name = args[i];
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(name + " needs a value");
        }
        String value = args[i + 1];
        switch (name) {
          case "--tokenizer" -> o.tokenizer = value;
          case "--root" -> o.root = Path.of(value).toAbsolutePath().normalize();
          case "--rounds" -> o.rounds = atLeast(name, value, 1);
          case "--warmup" -> o.warmup = atLeast(name, value, 1);
          case "--requests" -> o.requests = atLeast(name, value, 1);
          case "--concurrency" -> o.concurrency = atLeast(name, value, 1);
          case "--prompt-tokens" -> o.promptTokens = atLeast(name, value, 1);
          case "--prefix-tokens" -> o.prefixTokens = atLeast(name, value, 1);
          case "--prefixes" -> o.prefixes = atLeast(name, value, 1);
          case "--generated" -> o.generated = atLeast(name, value, 1);
          case "--engines" -> o.engines = atLeast(name, value, 1);
          case "--tokenizer-threads" -> o.tokenizerThreads = atLeast(name, value, 0);
          default -> throw new IllegalArgumentException("unknown option " + name);
        }
      }
      if (o.prefixTokens >= o.promptTokens) {
        throw new IllegalArgumentException("--prefix-tokens must be below --prompt-tokens");
      }
      return o;
    }

    private static int atLeast(String name, String value, int min) {
      try {
        int n = Integer.parseInt(value);
        if (n >= min) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(
          name + " must be an integer >= " + min + ", got '" + value + "'");
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "tokenizer %s (root %s), %d tokenizer thread(s), %d engines (%d µs a request),"
              + " %d rounds each of detokenize on and off: %d warm-up + %d measured requests,"
              + " concurrency %d, prompts of about %d tokens (%d shared prefixes of about %d),"
              + " %d generated tokens; %d cores",
          tokenizer,
          root,
          tokenizerThreads,
          engines,
          ENGINE_LATENCY.toNanos() / 1000,
          rounds,
          warmup,
          requests,
          concurrency,
          promptTokens,
          prefixes,
          prefixTokens,
          generated,
          Runtime.getRuntime().availableProcessors());
    }
  }
}
