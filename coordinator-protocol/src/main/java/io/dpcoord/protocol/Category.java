package io.dpcoord.protocol;

/** Header categories; each occupies a disjoint range of wire values. */
public enum Category {
  CONNECTION(0, 19),
  REQUEST(20, 39),
  CONTROL(40, 59),
  LIFECYCLE(60, 79),
  TRANSPORT(80, 99);

  private final int first;
  private final int last;

  Category(int first, int last) {
    this.first = first;
    this.last = last;
  }

  /** The lowest wire value of this category. */
  public int first() {
    return first;
  }

  /** The highest wire value of this category (inclusive). */
  public int last() {
    return last;
  }

  /** Whether {@code value} lies in this category's range. */
  public boolean contains(int value) {
    return value >= first && value <= last;
  }
}
