package io.dpcoord.bench;

import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.sim.replay.TraceException;
import io.dpcoord.sim.simulate.MooncakeTrace;
import io.dpcoord.sim.simulate.SimConfig;
import io.dpcoord.sim.simulate.SimRequest;
import io.dpcoord.sim.simulate.SimResult;
import io.dpcoord.sim.simulate.Simulation;
import io.dpcoord.sim.simulate.Synthetic;
import io.dpcoord.sim.simulate.Workload;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The simulator's speed: one operation is one simulated request, so the scores are simulated
 * requests per second. Each invocation is a whole {@link Simulation#run} (a new router, engines and
 * caches), as each configuration of {@code ./coordinator simulate} is.
 *
 * <ul>
 *   <li>{@code mooncake*}: the Mooncake trace shared with coordinator-sim's tests (3,993 requests,
 *       30.5 hash ids each on average, of which 29.5 whole 512-token blocks reach the router), read
 *       once in the setup, under the defaults of {@code simulate} (8 engines, 512 cache blocks
 *       each, lineage eviction, alpha 0.5) with longest_prefix and with load_balanced.
 *   <li>{@code llmd*}: the synthetic {@code llm-d:requests=20000} workload (7.2k-token prompts, 28
 *       blocks of 256 tokens), generated on the fly as {@code simulate} does: {@code
 *       llmdLongestPrefix} simulates it, {@code llmdGenerateOnly} only draws its requests, so the
 *       difference is the simulation's share.
 * </ul>
 *
 * <p>The trace is read from its path under the repository root: run from the root, or pass {@code
 * -jvmArgsAppend -Ddpcoord.root=DIR}. Run on one core: {@code taskset -c 0 java -jar
 * coordinator-bench/target/benchmarks.jar SimulatorBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SimulatorBenchmark {
  /** The shared Mooncake trace, relative to the repository root. */
  static final String TRACE =
      "coordinator-sim/src/test/resources/traces/mooncake_synthetic_trace.jsonl.gz";

  /** Requests in {@link #TRACE}. */
  static final int TRACE_REQUESTS = 3_993;

  static final String LLM_D = "llm-d:requests=20000";
  static final int LLM_D_REQUESTS = 20_000;

  private Workload mooncake;
  private Workload llmd;
  private SimConfig mooncakeLongestPrefix;
  private SimConfig mooncakeLoadBalanced;
  private SimConfig llmdLongestPrefix;

  /** Reads the trace and parses the synthetic spec; checks the request counts the scores use. */
  @Setup
  public void setUp() {
    Path trace = BenchTexts.root().resolve(TRACE);
    if (!Files.isRegularFile(trace)) {
      throw new IllegalStateException(
          "no trace at "
              + trace
              + ": run from the repository root or pass -jvmArgsAppend -D"
              + BenchTexts.ROOT_PROPERTY
              + "=DIR");
    }
    MooncakeTrace t;
    try {
      t = MooncakeTrace.read(trace, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (TraceException e) {
      throw new IllegalStateException(trace + ": " + e.getMessage(), e);
    }
    Synthetic s = Synthetic.parse(LLM_D, 1);
    check(t.size(), TRACE_REQUESTS, trace.toString());
    check(s.size(), LLM_D_REQUESTS, LLM_D);
    mooncake = t;
    llmd = s;
    mooncakeLongestPrefix = defaults(Policy.LONGEST_PREFIX, t.blockSize());
    mooncakeLoadBalanced = defaults(Policy.LOAD_BALANCED, t.blockSize());
    llmdLongestPrefix = defaults(Policy.LONGEST_PREFIX, s.blockSize());
  }

  /** The configuration {@code simulate --policy p} runs on a workload of such blocks. */
  private static SimConfig defaults(Policy p, int blockSize) {
    return SimConfig.builder(
            RouterConfig.builder().policy(p).blockSize(blockSize).build(), blockSize)
        .build();
  }

  private static void check(int actual, int expected, String what) {
    if (actual != expected) {
      throw new IllegalStateException(
          what + " has " + actual + " requests, the benchmark counts " + expected);
    }
  }

  @Benchmark
  @OperationsPerInvocation(TRACE_REQUESTS)
  public SimResult mooncakeLongestPrefix() {
    return Simulation.run(mooncake, mooncakeLongestPrefix, null);
  }

  @Benchmark
  @OperationsPerInvocation(TRACE_REQUESTS)
  public SimResult mooncakeLoadBalanced() {
    return Simulation.run(mooncake, mooncakeLoadBalanced, null);
  }

  @Benchmark
  @OperationsPerInvocation(LLM_D_REQUESTS)
  public SimResult llmdLongestPrefix() {
    return Simulation.run(llmd, llmdLongestPrefix, null);
  }

  @Benchmark
  @OperationsPerInvocation(LLM_D_REQUESTS)
  public long llmdGenerateOnly() {
    long sum = 0;
    for (Iterator<SimRequest> it = llmd.requests(); it.hasNext(); ) {
      SimRequest r = it.next();
      long[] blocks = r.blocks();
      sum +=
          r.arrivalNanos() + blocks.length + (blocks.length == 0 ? 0 : blocks[blocks.length - 1]);
    }
    return sum;
  }
}
