package io.dpcoord.cli;

import io.dpcoord.metrics.Metric;
import io.dpcoord.sim.EngineStats;
import io.dpcoord.sim.LoadReport;
import java.util.List;
import java.util.Locale;

/**
 * The report that ends a demo, for stdout: a title line, the load generator's report, then what the
 * coordinator and the engines saw, one labelled row each.
 *
 * @param config what was run
 * @param load the load generator's report
 * @param counters the coordinator's counters
 * @param engines the statistics of every engine started, including those killed
 * @param churn the churn steps taken ({@link Churn#summary})
 * @param activeEngines the engines registered at the end
 */
record DemoReport(
    DemoConfig config,
    LoadReport load,
    DemoCounters counters,
    List<EngineStats> engines,
    String churn,
    int activeEngines) {

  /** Whether nothing was lost or duplicated. */
  boolean ok() {
    return load.ok();
  }

  String format() {
    long hits = counters.count(Metric.ROUTING_CACHE_HIT_TOTAL);
    long misses = counters.count(Metric.ROUTING_CACHE_MISS_TOTAL);
    long cachedBlocks = 0;
    long lookedUp = 0;
    for (EngineStats s : engines) {
      cachedBlocks += s.cachedBlocksHit();
      lookedUp += s.blocksLookedUp();
    }
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "dpcoord demo: %d engines, policy %s (alpha %s), concurrency %d%n%n",
            config.engines(),
            config.routing().policy().cliName(),
            config.routing().alpha(),
            config.concurrency()));
    sb.append(load.format());
    row(
        sb,
        "cache hits",
        String.format(
            Locale.ROOT,
            "%.1f%% of prefix-routed requests (routing_cache_hit_total %d, miss %d)",
            100 * counters.cacheHitRate(),
            hits,
            misses));
    row(
        sb,
        "engine cache",
        String.format(
            Locale.ROOT,
            "%.1f%% of prompt blocks were cached (%d of %d)",
            lookedUp == 0 ? 0.0 : 100.0 * cachedBlocks / lookedUp,
            cachedBlocks,
            lookedUp));
    row(
        sb,
        "stale",
        counters.count(Metric.ROUTING_STALE_DETECTED_TOTAL)
            + " decisions met stale index entries (routing_stale_detected_total)");
    row(sb, "churn", churn);
    row(
        sb,
        "failed",
        counters.count(Metric.COORDINATOR_REQUESTS_FAILED_TOTAL)
            + " answered FAILED by the coordinator (coordinator_requests_failed_total)");
    row(sb, "engines", activeEngines + " active");
    row(
        sb,
        "result",
        load.ok()
            ? "OK: nothing lost or duplicated"
            : "FAILED: " + load.lost() + " lost, " + load.duplicated() + " duplicated");
    return sb.toString();
  }

  private static void row(StringBuilder sb, String label, String value) {
    sb.append(String.format(Locale.ROOT, "%-14s%s%n", label, value));
  }
}
