package io.dpcoord.sim.simulate;

import java.util.Locale;
import java.util.StringJoiner;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * A column of the reports: its CSV name, its heading in the tables, and how each writes a value.
 *
 * <p>One list of columns serves {@link SimCsv}, {@link SimTable} and the tables of {@link SimHtml},
 * so the three cannot disagree. The CSV writes every column in declaration order, numbers in {@link
 * Locale#ROOT} with fixed decimals ({@link Kind}); the tables write the columns of their {@link
 * Part}, rounded for reading.
 */
enum SimColumn {
  POLICY("policy", "policy", Part.CACHE, false, r -> policy(r), r -> policy(r)),
  ALPHA(
      "alpha",
      "alpha",
      Part.CACHE,
      true,
      r -> SweepAxes.plain(r.config().routing().alpha()),
      r -> r.config().routing().routesByPrefix() ? SweepAxes.plain(alpha(r)) : "-"),
  TTL(
      "ttl_s",
      "ttl",
      Part.CACHE,
      true,
      r -> SweepAxes.seconds(r.config().routing().ttlNanos()),
      r -> SweepAxes.duration(r.config().routing().ttlNanos())),
  INDEX_CAPACITY("index_capacity", "index", Part.CACHE, r -> r.config().routing().indexCapacity()),
  ENGINES("engines", "engines", Part.CACHE, r -> r.config().engines()),
  CACHE_BLOCKS("cache_blocks", "cache", Part.CACHE, r -> r.config().cacheBlocks()),
  EVICTION(
      "eviction",
      "eviction",
      Part.CACHE,
      false,
      r -> r.config().eviction().cliName(),
      r -> r.config().eviction().cliName()),
  FEEDBACK(
      "feedback",
      "feedback",
      Part.CACHE,
      false,
      r -> r.config().routing().feedback() ? "on" : "off",
      r -> r.config().routing().feedback() ? "on" : "off"),
  REQUESTS("requests", "requests", Part.CSV_ONLY, SimResult::requests),
  HIT_BLOCKS("hit_ratio_blocks", "hit blk", Part.CACHE, Kind.RATIO, SimResult::hitRatio),
  HIT_TOKENS("hit_ratio_tokens", "hit tok", Part.CACHE, Kind.RATIO, SimResult::tokenHitRatio),
  PREDICTED(
      "predicted_hit_ratio", "predicted", Part.CACHE, Kind.RATIO, SimResult::predictedHitRatio),
  PRECISION("precision", "precision", Part.CACHE, Kind.RATIO, SimResult::precision),
  BOUND_SINGLE("bound_single", "bound 1", Part.CACHE, Kind.RATIO, SimResult::boundSingle),
  BOUND_ROUTED("bound_routed", "bound N", Part.CACHE, Kind.RATIO, SimResult::boundRouted),
  BEST_NOW("best_now", "best now", Part.CACHE, Kind.RATIO, SimResult::bestNow),
  TTFT_P50("ttft_p50_ms", "TTFT p50", Part.SERVICE, Kind.MS, r -> r.ttftMs()[0]),
  TTFT_P90("ttft_p90_ms", "TTFT p90", Part.SERVICE, Kind.MS, r -> r.ttftMs()[1]),
  TTFT_P99("ttft_p99_ms", "TTFT p99", Part.SERVICE, Kind.MS, r -> r.ttftMs()[2]),
  E2E_P50("e2e_p50_ms", "E2E p50", Part.SERVICE, Kind.MS, r -> r.e2eMs()[0]),
  E2E_P90("e2e_p90_ms", "E2E p90", Part.SERVICE, Kind.MS, r -> r.e2eMs()[1]),
  E2E_P99("e2e_p99_ms", "E2E p99", Part.SERVICE, Kind.MS, r -> r.e2eMs()[2]),
  REQUESTS_PER_S("requests_per_s", "req/s", Part.SERVICE, Kind.RATE, SimResult::requestsPerSecond),
  OUTPUT_TOKENS_PER_S(
      "output_tokens_per_s",
      "output tok/s",
      Part.CSV_ONLY,
      Kind.RATE,
      SimResult::outputTokensPerSecond),
  LOAD_CV("load_cv", "load CV", Part.SERVICE, Kind.FACTOR, SimResult::loadCv),
  LOAD_MAX_OVER_MEDIAN(
      "load_max_over_median", "max/med", Part.SERVICE, Kind.FACTOR, SimResult::loadMaxOverMedian),
  MAKESPAN("makespan_s", "makespan s", Part.CSV_ONLY, Kind.SECONDS, SimResult::makespanSeconds),
  EVICTIONS("evictions", "evictions", Part.CSV_ONLY, SimResult::evictions),
  PROMPT_BLOCKS("prompt_blocks", "prompt blocks", Part.CSV_ONLY, SimResult::promptBlocks),
  CACHED_BLOCKS("cached_blocks", "cached blocks", Part.CSV_ONLY, SimResult::cachedBlocks),
  PROMPT_TOKENS("prompt_tokens", "prompt tokens", Part.CSV_ONLY, SimResult::promptTokens),
  CACHED_TOKENS("cached_tokens", "cached tokens", Part.CSV_ONLY, SimResult::cachedTokens),
  PREDICTED_BLOCKS(
      "predicted_blocks", "predicted blocks", Part.CSV_ONLY, SimResult::predictedBlocks),
  PREDICTED_CACHED(
      "predicted_cached", "predicted cached", Part.CSV_ONLY, SimResult::predictedCached),
  OUTPUT_TOKENS("output_tokens", "output tokens", Part.CSV_ONLY, SimResult::outputTokens),
  BOUND_SINGLE_BLOCKS(
      "bound_single_blocks", "bound 1 blocks", Part.CSV_ONLY, SimResult::boundSingleCachedBlocks),
  BOUND_ROUTED_BLOCKS(
      "bound_routed_blocks", "bound N blocks", Part.CSV_ONLY, SimResult::boundRoutedCachedBlocks),
  BEST_NOW_BLOCKS(
      "best_now_blocks", "best now blocks", Part.CSV_ONLY, SimResult::bestNowCachedBlocks),
  REQUESTS_PER_ENGINE(
      "requests_per_engine",
      "requests per engine",
      Part.SERVICE,
      false,
      r -> joined(r.requestsPerEngine(), r.requestsPerEngine().length, ";"),
      r -> joined(r.requestsPerEngine(), SimColumn.COMPACT_ENGINES, "/")),
  BUSY_PER_ENGINE(
      "busy_s_per_engine",
      "busy s per engine",
      Part.CSV_ONLY,
      false,
      r -> joined(r.busySeconds()),
      r -> joined(r.busySeconds()));

  /** The table shows this many engines' request counts, then how many it left out. */
  static final int COMPACT_ENGINES = 8;

  /** Which table shows a column. */
  enum Part {
    /** The configuration and its prefix-cache hits. */
    CACHE,
    /** Latency, throughput and load. */
    SERVICE,
    /** Only the CSV. */
    CSV_ONLY
  }

  /** How a number is written: the CSV's fixed decimals, the tables' rounding. */
  enum Kind {
    RATIO("%.6f") {
      @Override
      String text(double v) {
        return String.format(Locale.ROOT, "%.1f%%", v * 100);
      }
    },
    MS("%.3f") {
      @Override
      String text(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
      }
    },
    RATE("%.3f") {
      @Override
      String text(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
      }
    },
    FACTOR("%.6f") {
      @Override
      String text(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
      }
    },
    SECONDS("%.6f") {
      @Override
      String text(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
      }
    };

    private final String csvFormat;

    Kind(String csvFormat) {
      this.csvFormat = csvFormat;
    }

    /** {@code v} as the CSV writes it: fixed decimals, {@link Locale#ROOT}. */
    String csv(double v) {
      return String.format(Locale.ROOT, csvFormat, v);
    }

    /** {@code v} as a table shows it. */
    abstract String text(double v);
  }

  final String csvName;
  final String heading;
  final Part part;

  /** Right-aligned in the tables. */
  final boolean numeric;

  private final Function<SimResult, String> csv;
  private final Function<SimResult, String> text;

  SimColumn(
      String csvName,
      String heading,
      Part part,
      boolean numeric,
      Function<SimResult, String> csv,
      Function<SimResult, String> text) {
    this.csvName = csvName;
    this.heading = heading;
    this.part = part;
    this.numeric = numeric;
    this.csv = csv;
    this.text = text;
  }

  SimColumn(String csvName, String heading, Part part, Kind kind, ToDoubleFunction<SimResult> f) {
    this(
        csvName,
        heading,
        part,
        true,
        r -> kind.csv(f.applyAsDouble(r)),
        r -> kind.text(f.applyAsDouble(r)));
  }

  SimColumn(String csvName, String heading, Part part, ToLongFunction<SimResult> f) {
    this(
        csvName,
        heading,
        part,
        true,
        r -> Long.toString(f.applyAsLong(r)),
        r -> Long.toString(f.applyAsLong(r)));
  }

  /** The value as the CSV writes it (before quoting). */
  String csv(SimResult r) {
    return csv.apply(r);
  }

  /** The value as a table shows it. */
  String text(SimResult r) {
    return text.apply(r);
  }

  private static String policy(SimResult r) {
    return r.config().routing().policy().cliName();
  }

  private static double alpha(SimResult r) {
    return r.config().routing().alpha();
  }

  /** The first {@code limit} values joined by {@code sep}, then {@code ...+n} for the rest. */
  private static String joined(long[] values, int limit, String sep) {
    StringJoiner j = new StringJoiner(sep);
    int shown = Math.min(limit, values.length);
    for (int i = 0; i < shown; i++) {
      j.add(Long.toString(values[i]));
    }
    if (shown < values.length) {
      j.add("...+" + (values.length - shown));
    }
    return j.toString();
  }

  private static String joined(double[] seconds) {
    StringJoiner j = new StringJoiner(";");
    for (double s : seconds) {
      j.add(Kind.SECONDS.csv(s));
    }
    return j.toString();
  }
}
