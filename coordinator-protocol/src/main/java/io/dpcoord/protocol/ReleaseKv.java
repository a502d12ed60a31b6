package io.dpcoord.protocol;

/**
 * RELEASE_KV {@code [25, rid]}: the same shape from client to coordinator and coordinator to
 * engine.
 */
public record ReleaseKv(long requestId) implements Message {

  @Override
  public Header header() {
    return Header.RELEASE_KV;
  }
}
