package io.dpcoord.tokenizers;

import ai.djl.util.Utils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * DJL's switches, set once before its first use (the HuggingFace and SentencePiece bindings), each
 * unless the user set it: offline ({@code ai.djl.offline}: no download of a native library) and no
 * telemetry ({@code OPT_OUT_TRACKING}: DJL would otherwise contact the EC2 metadata address, then
 * S3), and the native libraries unpacked into a private temporary directory deleted at exit ({@code
 * ENGINE_CACHE_DIR}) instead of {@code ~/.djl.ai}. These are process-wide properties.
 */
final class Djl {
  private static boolean configured;

  private Djl() {}

  /**
   * Sets the switches on the first call.
   *
   * @throws IllegalArgumentException if the user turned both offline mode and the telemetry opt-out
   *     off, which would let DJL contact the network
   */
  static synchronized void configure() {
    if (!configured) {
      configured = true;
      setUnlessSet("ai.djl.offline", "DJL_OFFLINE", "true");
      setUnlessSet("OPT_OUT_TRACKING", "OPT_OUT_TRACKING", "true");
      if (unset("DJL_CACHE_DIR") && unset("ENGINE_CACHE_DIR")) {
        try {
          Path dir = Files.createTempDirectory("dpcoord-djl-");
          System.setProperty("ENGINE_CACHE_DIR", dir.toString());
          Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(dir)));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot create a directory for DJL's native libraries", e);
        }
      }
    }
    if (!Utils.isOfflineMode()
        && !Boolean.parseBoolean(Utils.getEnvOrSystemProperty("OPT_OUT_TRACKING"))) {
      throw new IllegalArgumentException(
          "DJL_OFFLINE and OPT_OUT_TRACKING are both set to something other than true, which"
              + " would let DJL contact the network; unset one of them");
    }
  }

  private static void setUnlessSet(String property, String environment, String value) {
    if (System.getenv(environment) == null && System.getProperty(property) == null) {
      System.setProperty(property, value);
    }
  }

  private static boolean unset(String name) {
    return System.getenv(name) == null && System.getProperty(name) == null;
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort at exit
    }
  }
}
