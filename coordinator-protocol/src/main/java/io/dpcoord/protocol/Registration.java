package io.dpcoord.protocol;

/** The empty frame an engine sends to register; it has no header. */
public record Registration() implements Message {
  /** Always null: an empty frame carries no header. */
  @Override
  public Header header() {
    return null;
  }
}
