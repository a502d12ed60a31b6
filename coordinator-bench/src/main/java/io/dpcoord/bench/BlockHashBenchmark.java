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
 * Block hashing throughput: one invocation hashes 8192 tokens, in prompts of {@code promptTokens}.
 * One "operation" is one byte of int64 token data, so the reported ops/s are bytes per second.
 *
 * <p>Every prompt is new: {@code sharedPercent} of it is one of 8 fixed prefixes (a system prompt),
 * the rest starts with a token never used before, so its blocks' digests are new too. {@code
 * memoBytes} is the hasher's memo of digests (0: none), {@code latestBytes} its table of latest
 * prompts (0: none).
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

  private static final int PREFIXES = 8;

  @Param({"16", "64"})
  public int blockSize;

  @Param({"0", "75"})
  public int sharedPercent;

  @Param({"0", "1048576"})
  public int memoBytes;

  @Param({"256", "8192"})
  public int promptTokens;

  /** The table of latest prompts' size in bytes (0: none), as the loop's 1 MiB. */
  @Param({"0"})
  public int latestBytes;

  /**
   * Bytes of other memory written (one long every cache line) after each prompt, as the loop's
   * other work evicts the hasher's tables from the caches between requests.
   */
  @Param({"0"})
  public int touchBytes;

  private long[] touch;

  private BlockHasher hasher;
  private long[][] prompts;
  private int suffixAt;
  private long next = 1L << 40;

  @Setup
  public void setUp() {
    hasher = new BlockHasher(blockSize, memoBytes, 0, latestBytes);
    touch = new long[touchBytes / Long.BYTES];
    SplittableRandom rnd = new SplittableRandom(7);
    prompts = new long[PREFIXES][promptTokens];
    for (long[] p : prompts) {
      for (int i = 0; i < promptTokens; i++) {
        p[i] = rnd.nextInt(150_000);
      }
    }
    suffixAt = promptTokens * sharedPercent / 100;
  }

  @Benchmark
  @OperationsPerInvocation(BYTES)
  public long hashPrompts() {
    long last = 0;
    for (int done = 0; done < TOKENS; done += promptTokens) {
      long[] tokens = prompts[(int) (next & (PREFIXES - 1))];
      tokens[suffixAt] = next++;
      int n = hasher.hash(tokens, promptTokens / blockSize);
      last += hasher.hashes()[n - 1];
      for (int k = 0; k < touch.length; k += 8) {
        touch[k]++;
      }
    }
    return last;
  }
}
