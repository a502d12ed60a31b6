package io.dpcoord.protocol;

/** CONNECT_ACK to a client: {@code [1]}. */
public record ConnectAck() implements Message {

  @Override
  public Header header() {
    return Header.CONNECT_ACK;
  }
}
