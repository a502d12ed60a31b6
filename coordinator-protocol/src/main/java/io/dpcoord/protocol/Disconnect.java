package io.dpcoord.protocol;

/** DISCONNECT from an engine: {@code [60]}; the engine leaves routing. */
public record Disconnect() implements Message {

  @Override
  public Header header() {
    return Header.DISCONNECT;
  }
}
