package io.dpcoord.bench;

import io.dpcoord.routing.Decision;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One routing decision plus its commit (and one completion) in steady state: a full index of 1M
 * block hashes, requests that share one of 64 prefixes (three quarters of their blocks) and end in
 * a quarter of never-seen blocks, so every operation also inserts and evicts.
 *
 * <p>Run: {@code java -jar coordinator-bench/target/benchmarks.jar RoutingDecision -prof gc}; one
 * policy: {@code -p policy=dynamo}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class RoutingDecisionBenchmark {
  private static final int INDEX = 1 << 20;
  private static final int REQUESTS = 1 << 10;
  private static final int MASK = REQUESTS - 1;
  private static final int PREFIXES = 64;

  /** {@code ranks:hashes per request}. */
  @Param({"8:64", "64:256"})
  public String shape;

  /**
   * Whether each request's last quarter of blocks is new (every operation inserts and evicts that
   * many hashes) or precomputed (the 1024 requests repeat, so every hash is re-assigned).
   */
  @Param({"false", "true"})
  public boolean newBlocks;

  /**
   * The routing policy ({@link Policy#parse}): Megatron's longest_prefix, or one of the policies
   * beyond it, which walk each request's hashes forward for every engine's own match.
   */
  @Param({"longest_prefix", "relative_load", "sglang", "dynamo", "llm_d", "least_work"})
  public String policy;

  private Router router;
  private long[][] requests;
  private int hashes;
  private int shared;
  private int[] inFlight;
  private long[][] inFlightHashes;
  private int inFlightHead;
  private int inFlightCount;
  private long fresh = 1L << 62;
  private int next;

  @Setup
  public void setUp() {
    String[] parts = shape.split(":");
    int ranks = Integer.parseInt(parts[0]);
    hashes = Integer.parseInt(parts[1]);
    shared = hashes * 3 / 4;
    router =
        new Router(
            RouterConfig.builder().policy(Policy.parse(policy)).indexCapacity(INDEX).build());
    List<byte[]> identities = new ArrayList<>();
    for (int r = 0; r < ranks; r++) {
      identities.add(("engine-" + r).getBytes(StandardCharsets.US_ASCII));
    }
    router.registerInitial(identities);
    // keeps pending counts bounded at about half of max_requests per engine
    inFlight = new int[ranks * 8];
    inFlightHashes = new long[inFlight.length][hashes];

    SplittableRandom rnd = new SplittableRandom(42);
    long[] warm = new long[hashes];
    while (router.indexSize() < INDEX) {
      for (int i = 0; i < hashes; i++) {
        warm[i] = 1 + rnd.nextLong(Long.MAX_VALUE - 1);
      }
      step(warm);
    }
    long[][] prefixes = new long[PREFIXES][shared];
    for (long[] p : prefixes) {
      for (int i = 0; i < shared; i++) {
        p[i] = 1 + rnd.nextLong(Long.MAX_VALUE - 1);
      }
    }
    requests = new long[REQUESTS][hashes];
    for (int r = 0; r < REQUESTS; r++) {
      System.arraycopy(prefixes[rnd.nextInt(PREFIXES)], 0, requests[r], 0, shared);
      for (int i = shared; i < hashes; i++) {
        requests[r][i] = fresh++;
      }
    }
    for (int r = 0; r < REQUESTS; r++) {
      decideAndCommit();
    }
  }

  @Benchmark
  public int decideAndCommit() {
    long[] request = requests[next++ & MASK];
    if (newBlocks) {
      for (int i = shared; i < hashes; i++) {
        request[i] = fresh++;
      }
    }
    return step(request);
  }

  private int step(long[] request) {
    Decision d = router.route(request, hashes, true);
    router.commit(d, request, hashes);
    if (inFlightCount == inFlight.length) {
      // every request has the same block count; the active blocks of dynamo and llm_d fall again
      router.complete(inFlight[inFlightHead], inFlightHashes[inFlightHead], hashes);
      inFlightHead = (inFlightHead + 1) % inFlight.length;
      inFlightCount--;
    }
    int slot = (inFlightHead + inFlightCount) % inFlight.length;
    inFlight[slot] = d.engine();
    System.arraycopy(request, 0, inFlightHashes[slot], 0, hashes);
    inFlightCount++;
    return d.engine() + d.matchDepth();
  }
}
