package io.dpcoord.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ServerProcessTest {

  /**
   * A compile command naming a class that no longer exists is ignored without a word, so a rename
   * would quietly undo the early compiling: every name must load.
   */
  @Test
  void theEarlyCompiledClassesExist() {
    for (String name : ServerProcess.HOT_CLASSES) {
      assertThatCode(() -> Class.forName(name, false, getClass().getClassLoader()))
          .as(name)
          .doesNotThrowAnyException();
    }
  }

  /** The launcher's serve gets the same classes as the benchmark's coordinator. */
  @Test
  void theLauncherNamesTheSameClassesForServe() throws Exception {
    String launcher = Files.readString(Path.of("..", "coordinator"));
    Matcher m = Pattern.compile("for c in ([a-zA-Z. ]+); do\\s+server\\+=").matcher(launcher);
    assertThat(m.find()).as("the launcher's loop over the early compiled classes").isTrue();
    List<String> named = List.of(m.group(1).trim().split(" +"));

    assertThat(named.stream().map(c -> "io.dpcoord." + c))
        .containsExactlyElementsOf(
            ServerProcess.HOT_CLASSES.stream()
                .filter(c -> !c.equals(BareForwarder.class.getName()))
                .toList());
  }
}
