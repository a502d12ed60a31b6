package io.dpcoord.bench;

import io.dpcoord.routing.Decision;
import io.dpcoord.routing.Router;
import io.dpcoord.routing.RouterConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The stalls of a growing prefix index, in a fresh JVM: 4 engines, requests of 16 block hashes (12
 * from one of 8 shared prefixes, 4 never seen), paced at {@code --rate} requests a second, each
 * {@code route} plus {@code commit} timed. Prints every one over 5 ms with the index's size then,
 * and how many took over 1 ms and over 5 ms (docs/PERFORMANCE.md, "Growing without stalls").
 *
 * <pre>
 * java -cp coordinator-bench/target/benchmarks.jar io.dpcoord.bench.IndexGrowthProbe \
 *     [--capacity 1048576] [--rate 7000] [--requests 150000]
 * </pre>
 */
public final class IndexGrowthProbe {
  private static final String USAGE =
      "usage: IndexGrowthProbe [--capacity N] [--rate REQUESTS_PER_S] [--requests N]";
  private static final int HASHES = 16;
  private static final int SHARED = 12;
  private static final int PREFIXES = 8;

  private IndexGrowthProbe() {}

  public static void main(String[] args) {
    if (List.of(args).contains("--help")) {
      System.out.println(USAGE);
      return;
    }
    long[] o = {1 << 20, 7000, 150_000}; // capacity, rate, requests
    for (int i = 0; i < args.length; i += 2) {
      int at = List.of("--capacity", "--rate", "--requests").indexOf(args[i]);
      String value = i + 1 < args.length ? args[i + 1] : "";
      if (at < 0 || !value.matches("[1-9][0-9]{0,8}")) {
        System.err.println(
            "IndexGrowthProbe: "
                + (at < 0 ? "unknown option " + args[i] : args[i] + " needs a positive integer"));
        System.err.println(USAGE);
        System.exit(2);
      }
      o[at] = Long.parseLong(value);
    }
    run((int) o[0], o[1], (int) o[2]);
  }

  private static void run(int capacity, long rate, int requests) {
    RouterConfig config;
    try {
      config = RouterConfig.builder().indexCapacity(capacity).build();
    } catch (IllegalArgumentException e) {
      System.err.println("IndexGrowthProbe: --capacity: " + e.getMessage());
      System.exit(2);
      return;
    }
    Router router = new Router(config);
    List<byte[]> engines = new ArrayList<>();
    for (int e = 0; e < 4; e++) {
      engines.add(("engine-" + e).getBytes(StandardCharsets.US_ASCII));
    }
    router.registerInitial(engines);
    SplittableRandom rnd = new SplittableRandom(1);
    long[][] prefixes = new long[PREFIXES][SHARED];
    for (long[] p : prefixes) {
      for (int i = 0; i < SHARED; i++) {
        p[i] = 1 + rnd.nextLong(Long.MAX_VALUE - 1);
      }
    }
    long[] hashes = new long[HASHES];
    long fresh = 1;
    int over1 = 0;
    int over5 = 0;
    long begin = System.nanoTime();
    for (int r = 0; r < requests; r++) {
      long due = begin + r * 1_000_000_000L / rate;
      while (System.nanoTime() < due) {
        Thread.onSpinWait();
      }
      System.arraycopy(prefixes[rnd.nextInt(PREFIXES)], 0, hashes, 0, SHARED);
      for (int i = SHARED; i < HASHES; i++) {
        hashes[i] = fresh++ << 1; // distinct, never 0
      }
      long t0 = System.nanoTime();
      Decision d = router.route(hashes, HASHES, true);
      router.commit(d, hashes, HASHES);
      long micros = (System.nanoTime() - t0) / 1000;
      over1 += micros > 1000 ? 1 : 0;
      if (micros > 5000) {
        over5++;
        System.out.printf(
            Locale.ROOT, "request %d: %d µs (index %d)%n", r, micros, router.indexSize());
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%d requests at %d/s, index capacity %d: %d over 1 ms, %d over 5 ms%n",
        requests,
        rate,
        capacity,
        over1,
        over5);
  }
}
