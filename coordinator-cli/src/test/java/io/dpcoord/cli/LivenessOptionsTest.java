package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.server.CoordinatorConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code serve}'s heartbeat and request-timeout flags: help, defaults, refusals naming the flag.
 */
@Timeout(30)
class LivenessOptionsTest {

  @Test
  void helpNamesTheFlagsAndTheirDefaults() {
    CliRun r = CliRun.of("serve", "--help");
    assertThat(r.status()).isZero();
    assertThat(r.out().replaceAll("\\s+", " "))
        .contains("--engine-heartbeat=DURATION")
        .contains("--engine-heartbeat-timeout=DURATION")
        .contains("--request-timeout=DURATION")
        .contains("(default: 30s)")
        .contains("(default: 25s;")
        .contains("waits for ever, as Megatron (default: 0)");
  }

  /** A command that only carries the flags. */
  @Command(name = "serve")
  static final class Flags {
    @Mixin LivenessOptions liveness;
  }

  private static CoordinatorConfig parse(String... args) {
    Flags flags = new Flags();
    new CommandLine(flags).parseArgs(args);
    return flags.liveness.applyTo(CoordinatorConfig.builder()).build();
  }

  @Test
  void theFlagsReachTheConfiguration() {
    CoordinatorConfig defaults = parse();
    assertThat(defaults.heartbeatInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(defaults.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(25));
    assertThat(defaults.requestTimeout()).isZero();

    CoordinatorConfig set =
        parse(
            "--engine-heartbeat",
            "2s",
            "--engine-heartbeat-timeout",
            "1500ms",
            "--request-timeout",
            "5m");
    assertThat(set.heartbeatInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(set.heartbeatTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(set.requestTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(parse("--engine-heartbeat", "0").heartbeatInterval()).isZero();
    // only the interval: the timeout is five sixths of it, as 25 s of the default 30 s
    assertThat(parse("--engine-heartbeat", "6s").heartbeatTimeout())
        .isEqualTo(Duration.ofSeconds(5));
  }
}
