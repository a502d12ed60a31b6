package io.dpcoord.protocol;

/** SHUTDOWN from a client: {@code [61]}; stops the coordinator. */
public record Shutdown() implements Message {

  @Override
  public Header header() {
    return Header.SHUTDOWN;
  }
}
