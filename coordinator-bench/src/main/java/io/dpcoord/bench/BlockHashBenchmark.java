package io.dpcoord.bench;

import io.dpcoord.routing.BlockHasher;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Block hashing throughput over an 8192-token prompt. One "operation" is one byte of int64 token
 * data, so the reported ops/s are bytes per second.
 *
 * <p>Run: {@code java -jar coordinator-bench/target/benchmarks.jar BlockHash -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BlockHashBenchmark {
  private static final int TOKENS = 8192;
  private static final int BYTES = TOKENS * Long.BYTES;

  @Param({"16", "64"})
  public int blockSize;

  private BlockHasher hasher;
  private long[] tokens;

  @Setup
  public void setUp() {
    hasher = new BlockHasher(blockSize);
    SplittableRandom rnd = new SplittableRandom(7);
    tokens = new long[TOKENS];
    for (int i = 0; i < TOKENS; i++) {
      tokens[i] = rnd.nextInt(150_000);
    }
  }

  @Benchmark
  @OperationsPerInvocation(BYTES)
  public long hashPrompt() {
    int n = hasher.hash(tokens, TOKENS / blockSize);
    return hasher.hashes()[n - 1];
  }
}
