package io.dpcoord.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** How the router weighs prefix-cache affinity when it picks an engine. */
public enum Policy {
  /**
   * The engine with the fewest pending requests; ties go to the lowest rank index. A policy of
   * {@link MegatronRelease#V0_19} only.
   */
  LOAD_BALANCED("load_balanced") {
    @Override
    public int hashesUsed(int blocks) {
      return 0;
    }
  },
  /** Prefix routing on the first block hash only. */
  FIRST_PREFIX_BLOCK("first_prefix_block") {
    @Override
    public int hashesUsed(int blocks) {
      return Math.min(1, blocks);
    }
  },
  /** Prefix routing on all block hashes. */
  LONGEST_PREFIX("longest_prefix"),
  /**
   * Megatron 0.18's round-robin over the engines in registration order, whatever the prompt; a
   * policy of {@link MegatronRelease#V0_18} only. With prefix caching on, a commit still records
   * all the request's block hashes, as 0.18 does (it never reads them under this policy).
   */
  ROUND_ROBIN("round_robin") {
    @Override
    public int hashesUsed(int blocks) {
      return 0;
    }

    @Override
    public int hashesRecorded(int blocks) {
      return blocks;
    }
  },
  /**
   * Fleet-relative load (vLLM production-stack's load-aware router; Megatron's unmerged follow-up):
   * the engine with the highest {@code match - beta * (pending - mean) / max(1, mean)}, beta 1.0,
   * where match is the engine's own matched fraction of the request's blocks.
   */
  RELATIVE_LOAD("relative_load"),
  /**
   * SGLang's cache-aware router: when loads are out of balance (max - min pending above 64 and max
   * above 1.5 x min) the engine with the fewest pending requests; otherwise the engine with the
   * longest match if its matched fraction exceeds 0.3, else the engine holding the fewest cached
   * blocks.
   */
  SGLANG("sglang"),
  /**
   * NVIDIA Dynamo's KV router at temperature 0: the lowest {@code 1.0 x blocks to prefill there +
   * active blocks there} (the blocks of the requests in flight on the engine).
   */
  DYNAMO("dynamo"),
  /**
   * llm-d's weighted scorers: {@code 3 x prefix + 2 x queue + 2 x KV}, prefix the matched fraction,
   * queue {@code (max - pending) / (max - min)} over the engines (1 when all are equal), KV {@code
   * 1 - active blocks / the fleet's most active blocks} (the coordinator's estimate of KV
   * utilisation, which engines do not report to it).
   */
  LLM_D("llm_d"),
  /**
   * Least work (ours; experimental, see docs/design/routing.md): the engine with the least
   * estimated prefill work ahead of the request's first token, that is the prefill tokens the
   * router has sent it (drained at 25,000 tokens/s since), plus the tokens the request would
   * prefill there, plus one block per request pending there, less the matched tokens once more (a
   * match also spares another engine's cache a copy); ties to the longer match, then the fewest
   * pending, then the fewest cached blocks.
   */
  LEAST_WORK("least_work");

  private final String cliName;

  Policy(String cliName) {
    this.cliName = cliName;
  }

  /**
   * How many of a request's leading block hashes this policy routes on, given that the request has
   * {@code blocks} complete blocks: all of them, the first one, or none (routing by load only).
   */
  public int hashesUsed(int blocks) {
    return blocks;
  }

  /** Whether the policy weighs each engine's blocks in flight (dynamo, llm_d). */
  public boolean weighsBlocksInFlight() {
    return this == DYNAMO || this == LLM_D;
  }

  /**
   * Whether this is one of Megatron's policies (decisions exactly Megatron's), rather than one of
   * the policies beyond it (each engine scored on its own match and on load across the fleet).
   */
  public boolean isMegatron() {
    return ordinal() <= ROUND_ROBIN.ordinal();
  }

  /**
   * How many of a request's leading block hashes a commit records when prefix caching is on, given
   * that the request has {@code blocks} complete blocks: the ones the decision is made on, except
   * under {@link #ROUND_ROBIN}, which records all of them and routes on none.
   */
  public int hashesRecorded(int blocks) {
    return hashesUsed(blocks);
  }

  /** Whether the policy routes on prefixes at all (false: by load only). */
  public boolean usesPrefix() {
    return hashesUsed(1) > 0;
  }

  /** The policy's name on a command line, e.g. {@code longest_prefix}. */
  public String cliName() {
    return cliName;
  }

  /**
   * Parses a policy name such as {@code longest_prefix} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the bad value and the choices
   */
  public static Policy parse(String s) {
    if (s != null) {
      String name = s.trim().toLowerCase(Locale.ROOT);
      for (Policy p : values()) {
        if (p.cliName.equals(name)) {
          return p;
        }
      }
    }
    StringBuilder names = new StringBuilder();
    for (Policy p : inListingOrder()) {
      names.append(names.length() == 0 ? "" : ", ").append(p.cliName);
    }
    throw new IllegalArgumentException(
        "unknown routing policy '" + s + "' (choices: " + names + ")");
  }

  /** Every policy in the order help texts list them: Megatron's first, longest_prefix first. */
  public static List<Policy> inListingOrder() {
    List<Policy> list =
        new ArrayList<>(List.of(LONGEST_PREFIX, FIRST_PREFIX_BLOCK, LOAD_BALANCED, ROUND_ROBIN));
    for (Policy p : values()) {
      if (!p.isMegatron()) {
        list.add(p);
      }
    }
    return list;
  }
}
