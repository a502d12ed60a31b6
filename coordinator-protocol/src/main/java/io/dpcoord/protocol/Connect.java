package io.dpcoord.protocol;

/** CONNECT from a client: {@code [0]}. */
public record Connect() implements Message {

  @Override
  public Header header() {
    return Header.CONNECT;
  }
}
