package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Prometheus text exposition as parsed by Prometheus's own Python client ({@code
 * prometheus_client.parser}, Debian's {@code python3-prometheus-client}): an implementation of the
 * format independent of the Java client that wrote it. Malformed text fails the parse, and the
 * test.
 */
record Exposition(List<Exposition.Sample> samples) {
  private static final String INSTALL_HINT =
      "the Prometheus tests parse with Debian's "
          + InteropPython.PYTHON
          + " and its prometheus_client module: apt-get install python3-prometheus-client";

  private static final String PARSER =
      """
      import json, sys
      from prometheus_client.parser import text_string_to_metric_families
      out = []
      for family in text_string_to_metric_families(sys.stdin.read()):
          for s in family.samples:
              out.append({"family": family.name, "type": family.type, "name": s.name,
                          "labels": s.labels, "value": s.value})
      json.dump(out, sys.stdout)
      """;

  /** One sample line. */
  record Sample(
      String family, String type, String name, Map<String, String> labels, double value) {}

  /** Parses {@code text}; fails the test if Python cannot, saying why. */
  static Exposition parse(String text, Path dir) throws IOException, InterruptedException {
    Path out = Files.createTempFile(dir, "exposition", ".json");
    Path err = Files.createTempFile(dir, "exposition", ".stderr");
    Process python;
    try {
      python =
          new ProcessBuilder(InteropPython.PYTHON, "-c", PARSER)
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
    } catch (IOException e) {
      return fail(INSTALL_HINT + " (" + e.getMessage() + ")");
    }
    try (OutputStream in = python.getOutputStream()) {
      in.write(text.getBytes(StandardCharsets.UTF_8));
    }
    if (!python.waitFor(20, TimeUnit.SECONDS)) {
      python.destroyForcibly();
      fail("the exposition parser did not finish in 20 s");
    }
    String stderr = Files.readString(err);
    if (stderr.contains("No module named")) {
      fail(INSTALL_HINT + ": " + stderr);
    }
    assertThat(python.exitValue()).as("prometheus_client's parser; stderr: %s", stderr).isZero();
    return new Exposition(
        new ObjectMapper().readValue(out.toFile(), new TypeReference<List<Sample>>() {}));
  }

  /** The names of all sample lines. */
  Set<String> sampleNames() {
    return samples.stream().map(Sample::name).collect(Collectors.toSet());
  }

  /** The samples of that name. */
  List<Sample> named(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** The value of the one sample of that name. */
  double value(String name) {
    List<Sample> named = named(name);
    assertThat(named).as("samples named " + name).hasSize(1);
    return named.get(0).value();
  }
}
