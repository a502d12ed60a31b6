package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class DemoCommandTest {

  private static long number(String out, String regex) {
    Matcher m = Pattern.compile(regex).matcher(out);
    assertThat(m.find()).as("'%s' in%n%s", regex, out).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void aShortDemoWithChurnLosesNothing() {
    CliRun run = CliRun.of("demo", "--duration", "2s");

    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(number(run.out(), "lost (\\d+)")).isZero();
    assertThat(number(run.out(), "duplicated (\\d+)")).isZero();
    assertThat(number(run.out(), "sent (\\d+)")).isPositive();
    assertThat(number(run.out(), "stale\\s+(\\d+)")).isPositive();
    assertThat(run.out())
        .contains("SET_GENERATION_EPOCH 1 at")
        .contains("rank 3 killed and restarted at")
        .contains("4 active")
        .contains("OK: nothing lost or duplicated");
    assertThat(run.err()).contains("done").contains("req/s").contains("cache hit");
  }

  @Test
  void withCurveEveryConnectionIsEncryptedAndTheChurnStillLosesNothing() {
    CliRun run = CliRun.of("demo", "--duration", "2s", "--curve");

    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.err()).contains(", CurveZMQ");
    assertThat(number(run.out(), "lost (\\d+)")).isZero();
    assertThat(number(run.out(), "sent (\\d+)")).isPositive();
    assertThat(number(run.out(), "stale\\s+(\\d+)")).isPositive(); // the control key's epoch
    assertThat(run.out())
        .contains("rank 3 killed and restarted at")
        .contains("4 active")
        .contains("OK: nothing lost or duplicated");
  }

  @Test
  void aFixedNumberOfRequestsWithoutChurn() {
    CliRun run =
        CliRun.of(
            "demo",
            "--requests",
            "300",
            "--engines",
            "2",
            "--no-churn",
            "--policy",
            "load_balanced");

    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(number(run.out(), "sent (\\d+)")).isEqualTo(300);
    assertThat(number(run.out(), "completed (\\d+)")).isEqualTo(300);
    assertThat(number(run.out(), "stale\\s+(\\d+)")).isZero();
    assertThat(run.out()).contains("churn         none").contains("rank 0: ").contains("rank 1: ");
  }

  @Test
  void publishesTheMetricsOverJmxWhileItRuns() {
    CliRun run = CliRun.of("demo", "--requests", "50", "--no-churn", "--jmx-port", "0");

    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.err()).contains("JMX on service:jmx:rmi:///jndi/rmi://127.0.0.1:");
  }

  @Test
  void helpDescribesTheFlags() {
    CliRun run = CliRun.of("demo", "--help");

    assertThat(run.status()).isZero();
    assertThat(run.out())
        .contains("Usage: coordinator demo")
        .contains("--engines")
        .contains("--duration")
        .contains("--no-churn")
        .contains("--jmx-port")
        .contains("--curve")
        .contains("--policy");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--engines 0",
        "--engines 65",
        "--bogus",
        "--duration soon",
        "--duration 0",
        "--requests 0",
        "--requests 5 --duration 2s",
        "--concurrency 0",
        "--policy fastest",
        "--alpha 2",
        "--jmx-port 70000",
        "--system-prompts 0"
      })
  void badFlagsExit2WithOneLine(String flags) {
    String[] args = ("demo " + flags).split(" ");

    CliRun run = CliRun.of(args);

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.errLines()).hasSize(1);
    assertThat(run.errLines().get(0)).startsWith("coordinator demo: ");
    assertThat(run.out()).isEmpty();
  }
}
