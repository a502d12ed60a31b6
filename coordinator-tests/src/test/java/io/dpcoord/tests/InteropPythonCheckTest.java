package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Without Python or its modules the interop tests fail (never skip) and say what to install. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropPythonCheckTest {
  @TempDir Path dir;

  @Test
  void aMissingInterpreterFailsWithTheInstallCommand() {
    assertThatThrownBy(
            () -> InteropPython.checkInterpreter(dir.resolve("no-such-python").toString(), dir))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("apt-get install python3-zmq python3-msgpack");
  }

  @Test
  void anInterpreterWithoutTheModulesFailsWithTheInstallCommandAndItsError() throws Exception {
    Path python = dir.resolve("python-without-zmq");
    Files.writeString(
        python,
        "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'zmq'\" >&2\nexit 1\n",
        StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(python, PosixFilePermissions.fromString("rwx------"));
    assertThatThrownBy(() -> InteropPython.checkInterpreter(python.toString(), dir))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("apt-get install python3-zmq python3-msgpack")
        .hasMessageContaining("No module named 'zmq'");
  }
}
