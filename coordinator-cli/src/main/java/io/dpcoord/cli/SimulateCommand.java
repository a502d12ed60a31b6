package io.dpcoord.cli;

import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.sim.replay.TraceException;
import io.dpcoord.sim.simulate.Eviction;
import io.dpcoord.sim.simulate.SimConfig;
import io.dpcoord.sim.simulate.SimCsv;
import io.dpcoord.sim.simulate.SimHtml;
import io.dpcoord.sim.simulate.SimResult;
import io.dpcoord.sim.simulate.SimTable;
import io.dpcoord.sim.simulate.Sweep;
import io.dpcoord.sim.simulate.Workload;
import io.dpcoord.sim.simulate.Workloads;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code simulate}: the routing module on a trace or a synthetic workload with modelled engines, in
 * virtual time (docs/SIMULATOR.md). Sweep flags take comma-separated lists; their cross product
 * runs on a pool of threads, with the results of a sequential run.
 */
@Command(
    name = "simulate",
    mixinStandardHelpOptions = true,
    description = {
      "Simulates the router and N modelled engines (prefix cache, continuous batching) on a"
          + " workload, in virtual time, and reports hit ratios, their bounds, latencies and load"
          + " balance per configuration.",
      "",
      "WORKLOAD is a trace file (Mooncake JSONL with hash_ids, or the route-replay trace format;"
          + " .gz accepted) or a synthetic workload KIND[:key=value,...], KIND one of chat,"
          + " system-prompt, rag, agent, llm-d (below, and docs/SIMULATOR.md).",
      "Flags marked LIST take comma-separated values; every combination is simulated.",
      ""
    })
public final class SimulateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "WORKLOAD",
      description = "A trace file, or KIND[:key=value,...] for a synthetic workload.")
  String workload;

  @Option(
      names = "--policy",
      paramLabel = "LIST",
      hideParamSyntax = true,
      split = ",",
      converter = RouteReplayCommand.PolicyName.class,
      defaultValue = "longest_prefix",
      description =
          "Routing policies: longest_prefix, first_prefix_block, load_balanced (0.19) or"
              + " round_robin (0.18), Megatron's; relative_load, sglang, dynamo, llm_d,"
              + " least_work (0.19), beyond it (default: ${DEFAULT-VALUE}).")
  List<Policy> policies;

  @Option(
      names = "--alpha",
      paramLabel = "LIST",
      hideParamSyntax = true,
      split = ",",
      defaultValue = "0.5",
      description = "Prefix weights in [0, 1] (default: ${DEFAULT-VALUE}).")
  List<Double> alphas;

  @Option(
      names = "--ttl",
      paramLabel = "LIST",
      hideParamSyntax = true,
      split = ",",
      converter = DurationConverter.class,
      defaultValue = "0",
      description = "Index entry lifetimes in virtual time, e.g. 30s; 0 keeps them (default: 0).")
  List<Duration> ttls;

  @Option(
      names = "--index-capacity",
      paramLabel = "LIST",
      hideParamSyntax = true,
      split = ",",
      defaultValue = "1048576",
      description = "Router index capacities in block hashes (default: ${DEFAULT-VALUE}).")
  List<Integer> indexCapacities;

  @Option(
      names = "--engines",
      paramLabel = "LIST",
      hideParamSyntax = true,
      split = ",",
      defaultValue = "8",
      description = "Engine counts (default: ${DEFAULT-VALUE}).")
  List<Integer> engines;

  @Option(
      names = "--cache-blocks",
      paramLabel = "LIST",
      hideParamSyntax = true,
      split = ",",
      description =
          "Prefix-cache capacities per engine, in blocks of the workload's block size (default:"
              + " 262,144 tokens' worth, 512 blocks of a Mooncake trace).")
  List<Integer> cacheBlocks;

  @Option(
      names = "--eviction",
      paramLabel = "LIST",
      hideParamSyntax = true,
      split = ",",
      converter = EvictionName.class,
      defaultValue = "lineage",
      description =
          "Cache eviction: lineage (least recently used leaf first, as vLLM and SGLang) or lru"
              + " (plain LRU in prompt order) (default: ${DEFAULT-VALUE}).")
  List<Eviction> evictions;

  @Option(
      names = "--feedback",
      arity = "1",
      paramLabel = "LIST",
      hideParamSyntax = true,
      split = ",",
      converter = OnOff.class,
      defaultValue = "off",
      description =
          "Engine feedback: on, the router stops counting on index entries that the engines'"
              + " num_cached_tokens show to be evicted; off, as Megatron (default: off).")
  List<Boolean> feedbacks;

  @Option(
      names = "--megatron",
      paramLabel = "RELEASE",
      converter = RouteReplayCommand.ReleaseName.class,
      defaultValue = "0.19",
      description = "Whose routing rule: 0.19 or 0.18 (default: ${DEFAULT-VALUE}).")
  MegatronRelease release;

  @Option(
      names = "--max-requests",
      paramLabel = "N",
      defaultValue = "16",
      description =
          "Pending requests the router counts as a full engine (default: ${DEFAULT-VALUE}).")
  int maxRequests;

  @Option(
      names = "--max-num-seqs",
      paramLabel = "N",
      defaultValue = "" + SimConfig.DEFAULT_MAX_NUM_SEQS,
      description = "Most requests running on an engine at once (default: ${DEFAULT-VALUE}).")
  int maxNumSeqs;

  @Option(
      names = "--max-batched-tokens",
      paramLabel = "N",
      defaultValue = "" + SimConfig.DEFAULT_MAX_BATCHED_TOKENS,
      description =
          "Most tokens in one engine step, decode plus prefill chunks (default: ${DEFAULT-VALUE}).")
  int maxBatchedTokens;

  @Option(
      names = "--step-base-ms",
      paramLabel = "MS",
      defaultValue = "" + SimConfig.DEFAULT_STEP_BASE_MS,
      description = "Step time: fixed part a, in ms (default: ${DEFAULT-VALUE}).")
  double stepBaseMs;

  @Option(
      names = "--step-prefill-us",
      paramLabel = "US",
      defaultValue = "" + SimConfig.DEFAULT_PREFILL_US_PER_TOKEN,
      description =
          "Step time: b, in us per prefill token in the step (default: ${DEFAULT-VALUE}).")
  double prefillUs;

  @Option(
      names = "--step-decode-us",
      paramLabel = "US",
      defaultValue = "" + SimConfig.DEFAULT_DECODE_US_PER_SEQ,
      description = "Step time: c, in us per sequence in the step (default: ${DEFAULT-VALUE}).")
  double decodeUs;

  @Option(
      names = "--speed",
      paramLabel = "X",
      defaultValue = "1",
      description =
          "Replay arrivals X times faster (0.5: twice as slow) (default: ${DEFAULT-VALUE}).")
  double speed;

  @Mixin SeedOption seed;

  @Option(
      names = "--block-size",
      paramLabel = "TOKENS",
      description =
          "Tokens per block of a trace (default: 512 for Mooncake traces, 16 for route-replay"
              + " traces, as serve); synthetic workloads take block= in their spec.")
  Integer blockSize;

  @Option(
      names = "--interval",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      defaultValue = "100ms",
      description =
          "Between the submits of a route-replay trace that have no time_ms (default:"
              + " ${DEFAULT-VALUE}).")
  Duration interval;

  @Option(
      names = "--output-tokens",
      paramLabel = "N",
      defaultValue = "128",
      description =
          "Tokens generated per request of a route-replay trace without output_tokens (default:"
              + " ${DEFAULT-VALUE}).")
  int outputTokens;

  @Option(
      names = "--skip-bad",
      description = "Skip bad trace lines (and say how many) instead of stopping at the first.")
  boolean skipBad;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Configurations simulated at once (default: the cores).")
  Integer threads;

  @Option(names = "--csv", paramLabel = "FILE", description = "Also write the results as CSV.")
  Path csv;

  @Option(
      names = "--html",
      paramLabel = "FILE",
      description = "Also write a self-contained HTML report with charts.")
  Path html;

  @Override
  public Integer call() throws Exception {
    List<Policy> usedPolicies = policies;
    check(!engines.isEmpty() && !alphas.isEmpty(), "--engines and --alpha need values");
    for (Policy p : usedPolicies) {
      check(
          release.offers(p),
          "--policy "
              + p.cliName()
              + " is not a policy of --megatron "
              + release.cliName()
              + " (choices: "
              + release.policyNames()
              + ")");
    }
    for (double a : alphas) {
      check(a >= 0 && a <= 1, "--alpha values must be in [0, 1], got " + a);
    }
    for (int n : engines) {
      check(n >= 1 && n <= 4096, "--engines values must be in 1..4096, got " + n);
    }
    for (int c : indexCapacities) {
      check(
          c >= 1 && c <= RouterConfig.MAX_INDEX_CAPACITY,
          "--index-capacity values must be in 1.."
              + RouterConfig.MAX_INDEX_CAPACITY
              + ", got "
              + c);
    }
    if (cacheBlocks != null) {
      for (int c : cacheBlocks) {
        check(c >= 0, "--cache-blocks values must be >= 0, got " + c);
      }
    }
    check(maxRequests >= 1, "--max-requests must be >= 1, got " + maxRequests);
    check(speed > 0 && Double.isFinite(speed), "--speed must be > 0, got " + speed);
    check(threads == null || threads >= 1, "--threads must be >= 1, got " + threads);
    check(blockSize == null || blockSize >= 1, "--block-size must be >= 1, got " + blockSize);
    check(outputTokens >= 1, "--output-tokens must be >= 1, got " + outputTokens);
    for (Path out : new Path[] {csv, html}) {
      check(out == null || !Files.isDirectory(out), out + " is a directory");
    }

    PrintWriter err = spec.commandLine().getErr();
    Workload w = open(err);
    List<SimConfig> configs = configs(w.blockSize());
    int pool = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    List<SimResult> results = runWithProgress(w, configs, pool, err);

    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        Locale.ROOT,
        "%s: %,d requests, %d-token blocks, %d configuration(s)%n%n",
        w.name(),
        results.isEmpty() ? 0 : results.get(0).requests(),
        w.blockSize(),
        results.size());
    out.print(SimTable.format(results));
    out.flush();
    for (Path file : new Path[] {csv, html}) {
      if (file == null) {
        continue;
      }
      try {
        if (file == csv) {
          SimCsv.write(results, csv);
        } else {
          SimHtml.write(w.name(), w.blockSize(), results, html);
        }
      } catch (IOException e) {
        err.println("coordinator simulate: cannot write " + file + ": " + e.getMessage());
        return 1;
      }
    }
    return 0;
  }

  /** The workload, or a usage error naming the bad line or value. */
  private Workload open(PrintWriter err) throws IOException {
    Workloads.Options options =
        new Workloads.Options(
            seed.value,
            skipBad,
            blockSize == null ? 0 : blockSize,
            interval.toNanos(),
            outputTokens);
    Workload w;
    try {
      w = Workloads.open(workload, options);
    } catch (TraceException | IllegalArgumentException e) {
      throw usage(workload + ": " + e.getMessage());
    }
    if (w.skipped() > 0) {
      err.printf(
          Locale.ROOT,
          "coordinator simulate: skipped %,d bad line(s) of %s%n",
          w.skipped(),
          workload);
      w.skippedReasons().forEach(reason -> err.println("  " + reason));
    }
    return w;
  }

  /** The cross product of the sweep flags, in flag order (the last flag varies fastest). */
  List<SimConfig> configs(int workloadBlockSize) {
    List<Integer> caches =
        cacheBlocks != null
            ? cacheBlocks
            : List.of(SimConfig.defaultCacheBlocks(workloadBlockSize));
    List<SimConfig> configs = new ArrayList<>();
    for (Policy p : policies) {
      // a policy that ignores prefixes ignores alpha too: one configuration, not one per alpha
      List<Double> policyAlphas = p.usesPrefix() ? alphas : List.of(alphas.get(0));
      for (double a : policyAlphas) {
        for (Duration ttl : ttls) {
          for (int capacity : indexCapacities) {
            for (boolean feedback : feedbacks) {
              RouterConfig routing;
              try {
                routing =
                    RouterConfig.builder()
                        .release(release)
                        .policy(p)
                        .alpha(a)
                        .maxRequests(maxRequests)
                        .blockSize(workloadBlockSize)
                        .ttl(ttl)
                        .indexCapacity(capacity)
                        .feedback(feedback)
                        // least_work is told the modelled engines' prefill rate, as an
                        // operator sets serve --prefill-rate to the engines'
                        .prefillTokensPerSecond(prefillUs > 0 ? 1e6 / prefillUs : Double.MAX_VALUE)
                        .build();
              } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
              }
              for (int n : engines) {
                for (int c : caches) {
                  for (Eviction e : evictions) {
                    try {
                      configs.add(
                          SimConfig.builder(routing, workloadBlockSize)
                              .engines(n)
                              .cacheBlocks(c)
                              .eviction(e)
                              .batching(maxNumSeqs, maxBatchedTokens)
                              .stepTime(stepBaseMs, prefillUs, decodeUs)
                              .speed(speed)
                              .build());
                    } catch (IllegalArgumentException ex) {
                      throw usage(ex.getMessage());
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return configs;
  }

  private List<SimResult> runWithProgress(
      Workload w, List<SimConfig> configs, int pool, PrintWriter err) throws Exception {
    Sweep sweep = new Sweep();
    ExecutorService runner = Executors.newSingleThreadExecutor();
    try {
      Future<List<SimResult>> done = runner.submit(() -> sweep.run(w, configs, pool));
      ProgressLine progress = new ProgressLine(err, ProgressLine.stderrIsTerminal());
      long start = System.nanoTime();
      while (true) {
        long now = System.nanoTime() - start;
        try {
          List<SimResult> results =
              done.get(Math.max(1, progress.nextAt() - now), TimeUnit.NANOSECONDS);
          progress.end();
          return results;
        } catch (java.util.concurrent.TimeoutException e) {
          now = System.nanoTime() - start;
          progress.printText(
              now,
              String.format(
                  Locale.ROOT,
                  "%6.1f s  configurations %d/%d  requests simulated %,d",
                  now / 1e9,
                  sweep.configurationsDone(),
                  configs.size(),
                  sweep.requestsSimulated()));
        } catch (java.util.concurrent.ExecutionException e) {
          progress.end();
          if (e.getCause() instanceof IllegalArgumentException bad) {
            throw usage(bad.getMessage());
          }
          throw e;
        }
      }
    } finally {
      runner.shutdownNow();
    }
  }

  private void check(boolean ok, String message) {
    if (!ok) {
      throw usage(message);
    }
  }

  ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** Converts {@code on} and {@code off}. */
  static final class OnOff extends RouteReplayCommand.Parsing<Boolean> {
    OnOff() {
      super(
          v -> {
            if (v.equals("on") || v.equals("off")) {
              return v.equals("on");
            }
            throw new IllegalArgumentException("'" + v + "' is neither on nor off");
          });
    }
  }

  /** Converts {@code --eviction} values. */
  static final class EvictionName extends RouteReplayCommand.Parsing<Eviction> {
    EvictionName() {
      super(Eviction::parse);
    }
  }
}
