package io.dpcoord.routing;

/**
 * The outcome of one routing decision: the chosen engine and what the prefix index said about it.
 *
 * <p>{@link Router#route} returns one instance that it reuses for every call, so a decision is
 * valid until the router's next {@code route}; a caller that needs it longer copies what it needs.
 */
public final class Decision {
  private int engine;
  private int rank;
  private int hashesUsed;
  private boolean prefixApplied;
  private int matchDepth;
  private double matchFraction;
  private boolean staleFound;
  private long matchStamp;
  private long matchAge;
  private long hiddenAge;

  Decision() {}

  /** A decision on {@code hashesUsed} hashes; a prefix decision when there are any. */
  void set(
      int engine,
      int rank,
      int hashesUsed,
      int matchDepth,
      double matchFraction,
      boolean staleFound) {
    this.engine = engine;
    this.rank = rank;
    this.hashesUsed = hashesUsed;
    this.prefixApplied = hashesUsed > 0;
    this.matchDepth = matchDepth;
    this.matchFraction = matchFraction;
    this.staleFound = staleFound;
    this.matchStamp = 0;
    this.matchAge = 0;
    this.hiddenAge = -1;
  }

  /** Sets the assignment stamp of the chosen engine's deepest matched block. */
  void matchStamp(long stamp) {
    this.matchStamp = stamp;
  }

  /**
   * How old the chosen engine's deepest matched block is: with feedback on, the blocks sent to that
   * engine since it was last assigned; off, the commits since.
   */
  public long matchAge() {
    return matchAge;
  }

  void matchAge(long age) {
    this.matchAge = age;
  }

  /**
   * How old (as {@link #matchAge}) the chosen engine's index entry for the first block past its
   * match is, when engine feedback's age limit hides that entry; -1 when there is no such entry:
   * what {@link Router#feedback} needs back if the engine turns out to hold that block after all.
   */
  public long hiddenAge() {
    return hiddenAge;
  }

  void hiddenAge(long age) {
    this.hiddenAge = age;
  }

  /**
   * The assignment stamp of the index entry that gave the chosen engine its match (its deepest
   * matched block), 0 without a match: what {@link Router#feedback} needs back if the engine turns
   * out not to hold that block any more.
   */
  public long matchStamp() {
    return matchStamp;
  }

  /**
   * A decision that read no prefix (by load or round-robin) whose commit still records {@code
   * hashesRecorded} hashes (Megatron 0.18's round_robin).
   */
  void setUnscored(int engine, int rank, int hashesRecorded) {
    set(engine, rank, hashesRecorded, 0, 0.0, false);
    this.prefixApplied = false;
  }

  /** The chosen engine's id. */
  public int engine() {
    return engine;
  }

  /** The chosen engine's rank index when the decision was made. */
  public int rank() {
    return rank;
  }

  /**
   * How many of the request's leading block hashes the commit assigns to the chosen engine: the
   * ones a prefix decision was made on, all of them under Megatron 0.18's round_robin, else 0 (a
   * decision by load or round-robin). Under Megatron 0.18 this is its schedule's {@code
   * num_hashes}.
   */
  public int hashesUsed() {
    return hashesUsed;
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
    return matchDepth > 0;
  }

  /** Whether the decision met (and purged) stale index entries. */
  public boolean staleFound() {
    return staleFound;
  }

  /** Whether prefix routing applied; false when the decision went by load or round-robin. */
  public boolean prefixApplied() {
    return prefixApplied;
  }

  /** Returns an independent snapshot of this decision. */
  Decision copy() {
    Decision d = new Decision();
    d.set(engine, rank, hashesUsed, matchDepth, matchFraction, staleFound);
    d.prefixApplied = prefixApplied;
    d.matchStamp = matchStamp;
    d.matchAge = matchAge;
    d.hiddenAge = hiddenAge;
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
        + ", hashesUsed="
        + hashesUsed
        + ", prefixApplied="
        + prefixApplied
        + ", hit="
        + hit()
        + ", staleFound="
        + staleFound
        + "}";
  }
}
