package io.dpcoord.cli.bench;

import io.dpcoord.protocol.Prompt;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.LoadConfig;
import io.dpcoord.sim.LoadGenerator;
import io.dpcoord.sim.LoadReport;
import io.dpcoord.sim.SimulatedEngine;
import io.dpcoord.sim.Workload;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The load benchmark: for each prompt length, target and routing setting, one after the other, a
 * fresh server JVM ({@link ServerProcess}), {@code engines} simulated engines and a closed-loop
 * load generator in this JVM; warm-up requests, then measured ones, with the server JVM's CPU times
 * taken around the measured ones.
 *
 * <p>Prompts: {@value #SYSTEM_PROMPTS} shared system prompts of three quarters of the prompt
 * length, each request one of them (at random) and a unique random suffix; the warm-up and the
 * measured requests draw from the same system prompts. The engines answer {@code engineLatency}
 * after a request arrives (no cost per token) with {@value #GENERATED_TOKENS} generated tokens;
 * their block size is the coordinator's (16), so prefix routing finds what it routed.
 */
public final class LoadBench {
  static final int SYSTEM_PROMPTS = 8;
  static final int GENERATED_TOKENS = 16;
  private static final int BLOCK_SIZE = 16;
  private static final long PROGRESS_SECONDS = 5;

  /** One run's settings. */
  public record Case(Target target, int promptTokens, Boolean routing) {
    /** "on", "off", or "-" for the forwarder, which has no routing. */
    public String routingName() {
      return routing == null ? "-" : routing ? "on" : "off";
    }

    @Override
    public String toString() {
      return target.cliName()
          + ", "
          + promptTokens
          + "-token prompts"
          + (routing == null ? "" : ", prefix routing " + routingName());
    }
  }

  /**
   * What to run.
   *
   * @param requests measured requests per run at 256-token prompts (see {@link #requestsFor})
   * @param warmup warm-up requests per run at 256-token prompts, scaled the same way
   * @param rate measured requests a second at most (paced); 0 for unpaced
   * @param rounds how many times every case runs, case after case, round after round
   * @param megatron where Megatron's coordinator is, if {@code targets} has {@link
   *     Target#MEGATRON}; else null
   * @param serverJavaOptions added to the server JVM's options, after the benchmark's own (for the
   *     coordinator and the forwarder; Megatron's server is not a JVM)
   */
  public record Config(
      List<Integer> promptTokens,
      List<Boolean> routings,
      List<Target> targets,
      int requests,
      int warmup,
      int concurrency,
      int engines,
      Duration engineLatency,
      double rate,
      int rounds,
      Megatron megatron,
      List<String> serverJavaOptions) {

    /** Every run, prompt length by prompt length: the targets in order, each routing setting. */
    public List<Case> cases() {
      List<Case> out = new ArrayList<>();
      for (int tokens : promptTokens) {
        for (Target t : targets) {
          if (t == Target.FORWARDER) {
            out.add(new Case(t, tokens, null));
          } else {
            routings.forEach(r -> out.add(new Case(t, tokens, r)));
          }
        }
      }
      return out;
    }

    /**
     * Requests for {@code count} at 256-token prompts scaled to {@code promptTokens}-token ones:
     * {@code count * sqrt(256 / promptTokens)} for prompts longer than 256 tokens (a quarter at 4k,
     * about 18 % at 8k), so that the long runs do not dominate the time; at least 1.
     */
    public static int requestsFor(int count, int promptTokens) {
      if (promptTokens <= 256) {
        return count;
      }
      return Math.max(1, (int) Math.round(count * Math.sqrt(256.0 / promptTokens)));
    }
  }

  private final Config config;
  private final PrintWriter progress;

  /** A benchmark that reports its progress, one line per step, to {@code progress}. */
  public LoadBench(Config config, PrintWriter progress) {
    this.config = config;
    this.progress = progress;
  }

  /**
   * Runs every case in turn.
   *
   * @throws IllegalStateException if a run loses, duplicates or fails a request, or its engines do
   *     not register
   */
  public List<BenchRow> run() throws IOException, InterruptedException, TimeoutException {
    List<Case> cases = config.cases();
    // so that the first measured run's server does not compete with this JVM compiling the
    // engines' and the client's code
    say(
        "[0/%d] %s, warm-up requests only: compiles the engines and the client",
        cases.size(), cases.get(0));
    run(cases.get(0), 0);
    List<BenchRow> rows = new ArrayList<>();
    int runs = cases.size() * config.rounds();
    for (int i = 0; i < runs; i++) {
      Case c = cases.get(i % cases.size());
      int round = i / cases.size() + 1;
      say(
          "[%d/%d] %s%s",
          i + 1, runs, c, config.rounds() > 1 ? ", round " + round + " of " + config.rounds() : "");
      BenchRow row = run(c, round);
      say(
          "       %.0f requests/s, server CPU %.1f µs/request (loop %.1f), added latency p50 %.0f µs",
          row.requestsPerSecond(),
          row.cpuMicros(row.cpu().process()),
          row.cpuMicros(row.cpu().loop()),
          row.addedMicros(row.latency().p50()));
      rows.add(row);
    }
    return rows;
  }

  /** One run: the warm-up requests, then (for a round from 1 on) the measured ones; else null. */
  private BenchRow run(Case c, int round)
      throws IOException, InterruptedException, TimeoutException {
    int warmup = Config.requestsFor(config.warmup(), c.promptTokens());
    int requests = Config.requestsFor(config.requests(), c.promptTokens());
    int systemTokens = c.promptTokens() * 3 / 4;
    Workload workload =
        new Workload(SYSTEM_PROMPTS, systemTokens, c.promptTokens() - systemTokens, 1);
    try (ServerProcess server =
        ServerProcess.start(
            c.target(),
            c.routing() == null || c.routing(),
            config.engines(),
            config.megatron(),
            config.serverJavaOptions())) {
      List<SimulatedEngine> engines = new ArrayList<>();
      try {
        for (int rank = 0; rank < config.engines(); rank++) {
          engines.add(
              SimulatedEngine.start(
                  server.endpoint(),
                  EngineConfig.builder(rank)
                      .blockSize(BLOCK_SIZE)
                      .base(config.engineLatency())
                      .perPromptToken(Duration.ZERO)
                      .perGeneratedToken(Duration.ZERO)
                      .build()));
        }
        if (!server.awaitEngines()) {
          throw new IllegalStateException(c + ": the engines did not register within 30 s");
        }
        // Two clients one after the other, as the measured phase's is a third, and a first
        // reading of the server's CPU times: the server's code for a client leaving and another
        // arriving, and for that reading, is then compiled before the measurement.
        load(server.endpoint(), workload, warmup - warmup / 2, 0, "warm-up (first client)");
        server.cpu();
        if (warmup > 1) {
          load(server.endpoint(), workload, warmup / 2, 0, "warm-up (second client)");
        }
        if (round == 0) {
          return null;
        }
        ServerCpu before = server.cpu();
        LoadReport report = load(server.endpoint(), workload, requests, config.rate(), "measured");
        ServerCpu used = server.cpu().minus(before);
        return new BenchRow(c, round, requests, report, used, config.engineLatency().toNanos());
      } finally {
        engines.forEach(SimulatedEngine::close); // before the server, which they leave
      }
    }
  }

  /**
   * Sends {@code count} requests, paced to {@code rate} a second if it is above 0; fails unless
   * every one was answered once and completed.
   */
  private LoadReport load(String endpoint, Workload workload, int count, double rate, String phase)
      throws TimeoutException {
    LoadConfig load =
        LoadConfig.builder()
            .requests(count)
            .concurrency(config.concurrency())
            .rate(rate)
            .generatedTokens(GENERATED_TOKENS)
            .connectTimeout(Duration.ofSeconds(30))
            .build();
    LoadGenerator generator =
        new LoadGenerator(endpoint, load, () -> Prompt.ofTokens(workload.next()));
    say("       %s: %d requests", phase, count);
    ScheduledExecutorService ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bench-progress");
              t.setDaemon(true);
              return t;
            });
    ticker.scheduleAtFixedRate(
        () -> say("       %s: %d of %d answered", phase, generator.progress().completed(), count),
        PROGRESS_SECONDS,
        PROGRESS_SECONDS,
        TimeUnit.SECONDS);
    LoadReport report;
    try {
      report = generator.run();
    } finally {
      ticker.shutdownNow();
    }
    if (report.completed() != count || !report.ok() || report.failed() != 0) {
      throw new IllegalStateException(
          phase + " requests did not all complete exactly once: " + report.format().trim());
    }
    return report;
  }

  private synchronized void say(String format, Object... args) {
    progress.println(String.format(Locale.ROOT, format, args));
    progress.flush();
  }
}
