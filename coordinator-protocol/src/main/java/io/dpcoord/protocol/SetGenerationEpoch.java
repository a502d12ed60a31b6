package io.dpcoord.protocol;

/** SET_GENERATION_EPOCH {@code [44, epoch]}, broadcast to every engine. */
public record SetGenerationEpoch(long epoch) implements Message {

  @Override
  public Header header() {
    return Header.SET_GENERATION_EPOCH;
  }
}
