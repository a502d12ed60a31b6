package io.dpcoord.routing;

/**
 * The outcome of one routing decision: the chosen engine and what the prefix index said about it.
 *
 * <p>{@link Router#route} returns one instance that it reuses for every call, so a decision is
 * valid until the router's next {@code route}; {@link #copy()} takes a snapshot that stays.
 */
public final class Decision {
  private int engine;
  private int rank;
  private int matchDepth;
  private double matchFraction;
  private boolean staleFound;
  private boolean prefixApplied;

  Decision() {}

  void set(
      int engine,
      int rank,
      int matchDepth,
      double matchFraction,
      boolean staleFound,
      boolean prefixApplied) {
    this.engine = engine;
    this.rank = rank;
    this.matchDepth = matchDepth;
    this.matchFraction = matchFraction;
    this.staleFound = staleFound;
    this.prefixApplied = prefixApplied;
  }

  /** The chosen engine's id. */
  public int engine() {
    return engine;
  }

  /** The chosen engine's rank index when the decision was made. */
  public int rank() {
    return rank;
  }

  /** How many leading blocks of the request the chosen engine holds (fresh), 0 if none. */
  public int matchDepth() {
    return matchDepth;
  }

  /** The match term the score gave the chosen engine: depth / hashes used, 0 if none. */
  public double matchFraction() {
    return matchFraction;
  }

  /** Whether prefix routing applied and the chosen engine had a fresh match. */
  public boolean hit() {
    return prefixApplied && matchDepth > 0;
  }

  /** Whether the decision met (and purged) stale index entries. */
  public boolean staleFound() {
    return staleFound;
  }

  /** Whether prefix routing applied; false when the decision went by load only. */
  public boolean prefixApplied() {
    return prefixApplied;
  }

  /** Returns an independent snapshot of this decision. */
  public Decision copy() {
    Decision d = new Decision();
    d.set(engine, rank, matchDepth, matchFraction, staleFound, prefixApplied);
    return d;
  }

  @Override
  public String toString() {
    return "Decision{engine="
        + engine
        + ", rank="
        + rank
        + ", matchDepth="
        + matchDepth
        + ", hit="
        + hit()
        + ", staleFound="
        + staleFound
        + ", prefixApplied="
        + prefixApplied
        + "}";
  }
}
