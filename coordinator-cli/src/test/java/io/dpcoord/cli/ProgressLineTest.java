package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProgressLineTest {
  private static final long MS = 1_000_000L;

  private final StringWriter text = new StringWriter();

  @ParameterizedTest
  @CsvSource({"false, 1000", "true, 200"})
  void aLineIsDueATickAfterTheStartAndATickAfterTheLastLine(boolean terminal, long tickMs) {
    ProgressLine progress = new ProgressLine(new PrintWriter(text), terminal);

    assertThat(progress.isDue(tickMs * MS - 1)).isFalse();
    assertThat(progress.isDue(tickMs * MS)).isTrue();
    progress.print(tickMs * MS + 50 * MS, 10, 0.0, 0);
    assertThat(progress.nextAt()).isEqualTo(2 * tickMs * MS + 50 * MS);
  }

  /** The text of two lines, at 1.0 s and 2.5 s, and the end. */
  private String twoLines(boolean terminal) {
    ProgressLine progress = new ProgressLine(new PrintWriter(text), terminal);
    progress.print(1000 * MS, 500, 0.5, 7);
    progress.print(2500 * MS, 800, 0.25, 3);
    progress.end();
    return text.toString();
  }

  @Test
  void offATerminalEachLineHasTheRateSinceTheLastOne() {
    assertThat(twoLines(false))
        .isEqualTo(
            String.format(
                "   1.0 s  done 500  500 req/s  cache hit 50.0%%  in flight 7%n"
                    + "   2.5 s  done 800  200 req/s  cache hit 25.0%%  in flight 3%n"));
  }

  @Test
  void onATerminalTheLineIsRewrittenInPlaceAndEndedOnce() {
    assertThat(twoLines(true))
        .isEqualTo(
            "\r   1.0 s  done 500  500 req/s  cache hit 50.0%  in flight 7\033[K"
                + "\r   2.5 s  done 800  200 req/s  cache hit 25.0%  in flight 3\033[K"
                + System.lineSeparator());
  }
}
