package io.dpcoord.cli;

import java.util.function.Supplier;

/** Errors of a flag's value, told with the flag's name in front: one line that names the flag. */
final class FlagErrors {
  private FlagErrors() {}

  /** What {@code read} returns; its {@link IllegalArgumentException} prefixed with {@code flag}. */
  static <T> T value(String flag, Supplier<T> read) {
    try {
      return read.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + " " + e.getMessage(), e);
    }
  }

  /** Runs {@code check}; its {@link IllegalArgumentException} prefixed with {@code flag}. */
  static void check(String flag, Runnable check) {
    value(
        flag,
        () -> {
          check.run();
          return null;
        });
  }
}
