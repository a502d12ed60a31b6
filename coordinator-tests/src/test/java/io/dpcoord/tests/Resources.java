package io.dpcoord.tests;

import java.util.List;

/** Closing what a test fixture opened. */
final class Resources {
  private Resources() {}

  /**
   * Closes {@code resources} last to first, every one even if one fails; then throws the first
   * failure, if any, as an {@link IllegalStateException} naming the resource.
   */
  static void closeInReverse(List<? extends AutoCloseable> resources) {
    RuntimeException failure = null;
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        if (failure == null) {
          failure = new IllegalStateException("closing " + resources.get(i) + " failed", e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
