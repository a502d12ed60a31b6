package io.dpcoord.sim.simulate;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which settings a sweep varied, and the labels that tell its results apart.
 *
 * <p>A series (a line in a chart against alpha) is a policy plus every other setting that varies
 * except alpha, e.g. {@code longest_prefix} or {@code longest_prefix ttl=30s cache=4096}. A
 * configuration's label adds alpha when its policy routes by prefix, e.g. {@code longest_prefix
 * alpha=0.5}; a policy that ignores alpha (load_balanced, round_robin) is named without it. Two
 * configurations whose labels would still be equal (load_balanced swept over alpha) get {@code
 * #row} after the second and later ones, so every label names one row.
 */
final class SweepAxes {

  /** A setting of {@link SimConfig} that a sweep may vary, with its label key and its text. */
  enum Setting {
    POLICY("policy", "policy") {
      @Override
      String value(SimConfig c) {
        return c.routing().policy().cliName();
      }
    },
    ALPHA("alpha", "alpha") {
      @Override
      String value(SimConfig c) {
        return plain(c.routing().alpha());
      }
    },
    TTL("ttl", "index TTL") {
      @Override
      String value(SimConfig c) {
        return duration(c.routing().ttlNanos());
      }
    },
    INDEX_CAPACITY("index", "index capacity (blocks)") {
      @Override
      String value(SimConfig c) {
        return Integer.toString(c.routing().indexCapacity());
      }
    },
    ENGINES("engines", "engines") {
      @Override
      String value(SimConfig c) {
        return Integer.toString(c.engines());
      }
    },
    CACHE_BLOCKS("cache", "cache per engine (blocks)") {
      @Override
      String value(SimConfig c) {
        return Integer.toString(c.cacheBlocks());
      }
    },
    EVICTION("eviction", "eviction") {
      @Override
      String value(SimConfig c) {
        return c.eviction().cliName();
      }
    },
    FEEDBACK("feedback", "engine feedback") {
      @Override
      String value(SimConfig c) {
        return c.routing().feedback() ? "on" : "off";
      }
    },
    RELEASE("release", "routing rule") {
      @Override
      String value(SimConfig c) {
        return "Megatron " + c.routing().release().cliName();
      }
    },
    MAX_REQUESTS("max-requests", "router max requests") {
      @Override
      String value(SimConfig c) {
        return Integer.toString(c.routing().maxRequests());
      }
    },
    PREFIX_CACHING("prefix-caching", "prefix caching") {
      @Override
      String value(SimConfig c) {
        return c.routing().prefixCaching() ? "on" : "off";
      }
    },
    MAX_NUM_SEQS("max-num-seqs", "max sequences per engine") {
      @Override
      String value(SimConfig c) {
        return Integer.toString(c.maxNumSeqs());
      }
    },
    MAX_BATCHED_TOKENS("max-batched-tokens", "max tokens per step") {
      @Override
      String value(SimConfig c) {
        return Integer.toString(c.maxBatchedTokens());
      }
    },
    STEP_TIME("step", "step time") {
      @Override
      String value(SimConfig c) {
        return plain(c.stepBaseMs())
            + " ms + "
            + plain(c.prefillUsPerToken())
            + " us/prefill token + "
            + plain(c.decodeUsPerSeq())
            + " us/sequence";
      }
    },
    SPEED("speed", "replay speed") {
      @Override
      String value(SimConfig c) {
        return plain(c.speed()) + "x";
      }
    };

    /** The key in a label, {@code ttl} in {@code ttl=30s}. */
    final String key;

    /** The name in the report's list of fixed parameters. */
    final String title;

    Setting(String key, String title) {
      this.key = key;
      this.title = title;
    }

    /** The setting's value in {@code c}, as a label or a report shows it. */
    abstract String value(SimConfig c);
  }

  private final EnumSet<Setting> varying = EnumSet.noneOf(Setting.class);
  private final List<String> labels = new ArrayList<>();

  SweepAxes(List<SimResult> results) {
    for (Setting s : Setting.values()) {
      Set<String> values = new HashSet<>();
      results.forEach(r -> values.add(s.value(r.config())));
      if (values.size() > 1) {
        varying.add(s);
      }
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < results.size(); i++) {
      SimConfig c = results.get(i).config();
      String label =
          Setting.POLICY.value(c)
              + (c.routing().routesByPrefix() ? " alpha=" + Setting.ALPHA.value(c) : "")
              + variant(c);
      labels.add(seen.add(label) ? label : label + " #" + (i + 1));
    }
  }

  /** Whether the results differ in {@code s}. */
  boolean varies(Setting s) {
    return varying.contains(s);
  }

  /** The settings the results differ in, in declaration order. */
  Set<Setting> varying() {
    return Collections.unmodifiableSet(varying);
  }

  /** The label of the {@code index}-th result: unique among the results. */
  String label(int index) {
    return labels.get(index);
  }

  /** The series {@code c} belongs to in a chart against alpha: its policy and variant. */
  String series(SimConfig c) {
    return Setting.POLICY.value(c) + variant(c);
  }

  /** The settings every result shares, as title and value, from the first result's config. */
  List<Map.Entry<String, String>> fixed(List<SimResult> results) {
    List<Map.Entry<String, String>> fixed = new ArrayList<>();
    if (!results.isEmpty()) {
      for (Setting s : Setting.values()) {
        if (!varying.contains(s)) {
          fixed.add(Map.entry(s.title, s.value(results.get(0).config())));
        }
      }
    }
    return fixed;
  }

  /** The varying settings other than policy and alpha, each as {@code " key=value"}. */
  private String variant(SimConfig c) {
    StringBuilder b = new StringBuilder();
    for (Setting s : varying) {
      if (s != Setting.POLICY && s != Setting.ALPHA) {
        b.append(' ').append(s.key).append('=').append(s.value(c));
      }
    }
    return b.toString();
  }

  /** The shortest plain decimal of {@code v}: {@code 0.5}, {@code 1}, {@code 0}. */
  static String plain(double v) {
    if (!Double.isFinite(v)) {
      return Double.toString(v);
    }
    return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  /** {@code nanos} in seconds, exactly: {@code 30}, {@code 0.25}, {@code 0}. */
  static String seconds(long nanos) {
    return BigDecimal.valueOf(nanos, 9).stripTrailingZeros().toPlainString();
  }

  /** A TTL as a reader writes it: {@code off}, {@code 30s}, {@code 250ms}, {@code 1.5s}. */
  static String duration(long nanos) {
    if (nanos == 0) {
      return "off";
    }
    if (nanos % 1_000_000_000L != 0 && nanos % 1_000_000L == 0) {
      return nanos / 1_000_000L + "ms";
    }
    return seconds(nanos) + "s";
  }
}
