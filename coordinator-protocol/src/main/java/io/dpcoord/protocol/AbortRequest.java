package io.dpcoord.protocol;

/**
 * ABORT_REQUEST {@code [23, id]}: a client sends its own id, the coordinator sends the engine the
 * request id.
 */
public record AbortRequest(long requestId) implements Message {

  @Override
  public Header header() {
    return Header.ABORT_REQUEST;
  }
}
