package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.server.CoordinatorConfig;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
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
        .contains("(default: 10s)")
        .contains("(default: 8s)")
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
    assertThat(defaults.heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(defaults.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(8));
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
  }

  static Stream<Arguments> refusals() {
    return Stream.of(
        Arguments.of(
            new String[] {"--engine-heartbeat", "2s", "--engine-heartbeat-timeout", "2s"},
            "--engine-heartbeat-timeout 2s must be shorter than --engine-heartbeat 2s and not 0"),
        Arguments.of(
            new String[] {"--engine-heartbeat", "5s"},
            "--engine-heartbeat-timeout 8s must be shorter than --engine-heartbeat 5s"),
        Arguments.of(
            new String[] {"--engine-heartbeat-timeout", "0"},
            "--engine-heartbeat-timeout 0s must be shorter than --engine-heartbeat 10s and not 0"),
        Arguments.of(
            new String[] {"--engine-heartbeat", "0", "--engine-heartbeat-timeout", "10s"},
            "--engine-heartbeat-timeout has no effect with --engine-heartbeat 0"),
        Arguments.of(
            new String[] {"--engine-heartbeat", "1.5ms"},
            "--engine-heartbeat must be 0 or whole milliseconds up to 24h, got 1500000ns"),
        Arguments.of(
            new String[] {"--request-timeout", "25h"},
            "--request-timeout must be 0 or whole milliseconds up to 24h, got 90000s"),
        Arguments.of(new String[] {"--request-timeout", "soon"}, "--request-timeout"),
        Arguments.of(new String[] {"--engine-heartbeat-timeout", "-1s"}, "-1s"));
  }

  @ParameterizedTest
  @MethodSource("refusals")
  void badValuesAreOneLineNamingTheFlag(String[] flags, String named) {
    String[] args = Stream.concat(Stream.of("serve"), Stream.of(flags)).toArray(String[]::new);
    CliRun r = CliRun.of(args);
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0)).startsWith("coordinator serve: ").contains(named);
  }
}
