package io.dpcoord.cli.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Where the load benchmark finds Megatron-LM's coordinator: a source tree (the directory holding
 * {@code megatron/}) and a Python with torch, numpy, pyzmq and msgpack. The server is {@code
 * megatron_server.py} (a resource of this package), which imports the tree's {@code
 * DataParallelInferenceCoordinator} and runs it unchanged.
 *
 * @param source the Megatron-LM source tree
 * @param python the Python interpreter to run it with
 */
public record Megatron(Path source, String python) {
  static final String SERVER = "megatron_server.py";

  /**
   * Why {@code source} is not a Megatron-LM tree with a data parallel coordinator, or null if it
   * is.
   */
  public static String problem(Path source) {
    Path inference = source.resolve("megatron/core/inference");
    if (!Files.isDirectory(inference)) {
      return "no megatron/core/inference under " + source;
    }
    if (!Files.exists(inference.resolve("data_parallel_inference_coordinator"))
        && !Files.exists(inference.resolve("data_parallel_inference_coordinator.py"))) {
      return "no data_parallel_inference_coordinator in " + inference;
    }
    return null;
  }

  /**
   * The command that starts the server: this Python, the server script copied to a temporary file
   * (deleted when this JVM ends), the tree, then the settings it takes.
   */
  List<String> command(boolean routing, int engines, int maxRequests, int blockSize)
      throws IOException {
    Path script = Files.createTempFile("coordinator-bench-", "-" + SERVER);
    script.toFile().deleteOnExit();
    try (InputStream in = Megatron.class.getResourceAsStream(SERVER)) {
      if (in == null) {
        throw new IOException("the resource " + SERVER + " is missing from the class path");
      }
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    return List.of(
        python,
        script.toString(),
        source.toAbsolutePath().toString(),
        Boolean.toString(routing),
        Integer.toString(engines),
        Integer.toString(maxRequests),
        Integer.toString(blockSize));
  }
}
