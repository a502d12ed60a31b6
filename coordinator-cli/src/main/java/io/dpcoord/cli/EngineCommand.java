package io.dpcoord.cli;

import ch.qos.logback.classic.Level;
import io.dpcoord.sim.EngineConfig;
import io.dpcoord.sim.EngineStats;
import io.dpcoord.sim.SimulatedEngine;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./coordinator engine}: one simulated engine, until STOP, SIGTERM or Ctrl-C. */
@Command(
    name = "engine",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run one simulated engine (DEALER identity mp-coord-RANK) against a coordinator.",
      "",
      "It registers with an empty frame, models a prefix cache (LRU over block hashes) and a step"
          + " latency of base + per uncached prompt token + per generated token, and answers with"
          + " Megatron-shaped records. It runs until the coordinator broadcasts STOP, or until"
          + " SIGTERM or Ctrl-C (it then sends DISCONNECT); a summary goes to stdout.",
      ""
    })
final class EngineCommand implements Callable<Integer> {
  /** The longest modelled cost a flag accepts, per request or per token. */
  private static final double MAX_MILLIS = 3_600_000;

  @Spec CommandSpec spec;

  @Mixin ConnectOption connect;

  @Mixin CurveClientOptions curve;

  @Mixin TokenizerOption tokenizer;

  @Option(names = "--rank", required = true, paramLabel = "I", description = "Data-parallel rank.")
  int rank;

  @Option(
      names = "--cache-blocks",
      paramLabel = "N",
      description = "Prefix-cache capacity in blocks; 0 disables it (default: ${DEFAULT-VALUE}).",
      defaultValue = "4096")
  int cacheBlocks;

  @Option(
      names = "--block-size",
      paramLabel = "TOKENS",
      description =
          "Tokens per block; use the coordinator's --block-size (default: ${DEFAULT-VALUE}).",
      defaultValue = "16")
  int blockSize;

  @Option(
      names = "--base-ms",
      paramLabel = "MS",
      description = "Fixed cost of every request (default: ${DEFAULT-VALUE}).",
      defaultValue = "1")
  double baseMs;

  @Option(
      names = "--per-prompt-token-us",
      paramLabel = "US",
      description = "Cost of each uncached prompt token (default: ${DEFAULT-VALUE}).",
      defaultValue = "10")
  double perPromptTokenUs;

  @Option(
      names = "--per-generated-token-us",
      paramLabel = "US",
      description = "Cost of each generated token (default: ${DEFAULT-VALUE}).",
      defaultValue = "100")
  double perGeneratedTokenUs;

  @Option(
      names = "--generated-tokens",
      paramLabel = "N",
      description =
          "Tokens generated when sampling_params has no num_tokens_to_generate"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "16")
  int generatedTokens;

  @Option(
      names = "--stream",
      description =
          "Stream ENGINE_REPLY_PARTIAL for every request (otherwise only when sampling_params"
              + " has \"streaming\": true, as Megatron's client sets it), every"
              + " streaming_interval tokens (default 4).")
  boolean stream;

  @Option(
      names = "--extension-keys",
      description =
          "Add served_by_rank and cached_blocks to the records, for load's per-engine counts. Off"
              + " by default, so that records carry Megatron's keys only: a Megatron client that"
              + " deserializes records rejects any other.")
  boolean extensionKeys;

  /** The default since extension keys became opt-in; still accepted, for scripts that name it. */
  @Option(names = "--plain-records", hidden = true)
  boolean plainRecords;

  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      converter = Logging.LevelConverter.class,
      description = "error, warn, info, debug, trace or off (default: ${DEFAULT-VALUE}).",
      defaultValue = "warn")
  Level logLevel;

  @Override
  public Integer call() throws InterruptedException {
    EngineConfig config = config();
    Logging.setLevel(logLevel);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    SimulatedEngine engine;
    try {
      engine = SimulatedEngine.start(connect.endpoint, config);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    Signals.onTerminate(engine::close);
    err.println("engine " + engine.identity() + " connected to " + connect.endpoint);
    err.flush();
    while (!engine.awaitStopped(Duration.ofSeconds(1))) {
      // it ends on STOP, SIGTERM or Ctrl-C
    }
    EngineStats s = engine.stats();
    out.printf(
        "engine %s %s: accepted %d, served %d, aborted %d, prompt blocks cached %d of %d,"
            + " invalid frames %d%n",
        engine.identity(),
        engine.state().name().toLowerCase(java.util.Locale.ROOT),
        s.accepted(),
        s.served(),
        s.aborted(),
        s.cachedBlocksHit(),
        s.blocksLookedUp(),
        s.invalidFrames());
    out.flush();
    return engine.state() == SimulatedEngine.State.FAILED ? 1 : 0;
  }

  private EngineConfig config() {
    try {
      if (extensionKeys && plainRecords) {
        throw new IllegalArgumentException("--plain-records and --extension-keys contradict");
      }
      EngineConfig.Builder builder = EngineConfig.builder(rank);
      if (tokenizer.spec != null) {
        builder.tokenizer(tokenizer.load()); // else bytes: one token per UTF-8 byte
      }
      return builder
          .cacheBlocks(cacheBlocks)
          .blockSize(blockSize)
          .base(millis("--base-ms", baseMs))
          .perPromptToken(millis("--per-prompt-token-us", perPromptTokenUs / 1000))
          .perGeneratedToken(millis("--per-generated-token-us", perGeneratedTokenUs / 1000))
          .generatedTokens(generatedTokens)
          .stream(stream)
          .extensionFields(extensionKeys)
          .curve(curve.load())
          .build();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private Duration millis(String flag, double ms) {
    if (!(ms >= 0 && ms <= MAX_MILLIS)) {
      throw new ParameterException(
          spec.commandLine(), flag + " must be between 0 and one hour, got " + ms);
    }
    return Duration.ofNanos(Math.round(ms * 1_000_000));
  }
}
