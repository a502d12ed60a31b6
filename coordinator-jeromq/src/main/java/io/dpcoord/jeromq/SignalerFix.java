package io.dpcoord.jeromq;

import java.security.CodeSource;
import java.util.Objects;

/**
 * Tells whether the class path runs this module's {@code zmq.Signaler}, not jeromq's.
 *
 * <p>jeromq 0.6.0 counts a signal to another thread's mailbox only after writing its byte; when the
 * woken reader preempts the writer in between, the reader's poller spins on the readable pipe until
 * the writer runs again, which on a busy machine takes milliseconds and halves throughput
 * (docs/DESIGN.md, "jeromq's signaler"). This module's copy counts first. It must come before
 * jeromq on the class path, and in the launcher jar it replaces jeromq's.
 */
public final class SignalerFix {
  private SignalerFix() {}

  /** True when {@code zmq.Signaler} was loaded from this module (its jar or classes). */
  public static boolean isLoaded() {
    try {
      Class<?> signaler = Class.forName("zmq.Signaler", false, SignalerFix.class.getClassLoader());
      return Objects.equals(location(signaler), location(SignalerFix.class));
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  private static Object location(Class<?> c) {
    CodeSource source = c.getProtectionDomain().getCodeSource();
    return source == null ? null : source.getLocation();
  }
}
