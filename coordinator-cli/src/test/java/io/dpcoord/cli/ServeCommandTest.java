package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** {@code serve}'s usage: every refusal happens before anything binds, in one line, status 2. */
@Timeout(30)
class ServeCommandTest {

  @Test
  void helpListsEveryFlag() {
    CliRun r = CliRun.of("serve", "--help");
    assertThat(r.status()).isZero();
    assertThat(r.out())
        .contains(
            "--bind",
            "--port",
            "--engines",
            "--policy",
            "--alpha",
            "--max-requests",
            "--block-size",
            "prefix-caching",
            "[no-]feedback",
            "--ttl",
            "--index-capacity",
            "--engine-wire",
            "--jmx-port",
            "--jmx-password-file",
            "--jmx-access-file",
            "--jmx-ssl",
            "--jmx-ssl-config",
            "--curve-secret-key",
            "--curve-engines",
            "--curve-clients",
            "--curve-control",
            "--name",
            "--report-every",
            "--schedule-out",
            "--log-level");
  }

  @Test
  void coreV015AndCoreV016EnginesAreRoutedRoundRobinUnlessAPolicyIsGiven() {
    assertThat(routing("--engine-wire", "0.16").policy()).isEqualTo(Policy.ROUND_ROBIN);
    assertThat(routing("--engine-wire", "0.16").release()).isEqualTo(MegatronRelease.V0_18);
    assertThat(routing("--engine-wire", "0.16", "--policy", "longest_prefix").policy())
        .isEqualTo(Policy.LONGEST_PREFIX);
    assertThat(routing("--engine-wire", "0.15").policy()).isEqualTo(Policy.ROUND_ROBIN);
    assertThat(routing("--engine-wire", "0.15").release()).isEqualTo(MegatronRelease.V0_18);
    assertThat(routing("--engine-wire", "0.18").policy()).isEqualTo(Policy.LONGEST_PREFIX);
    assertThat(routing().policy()).isEqualTo(Policy.LONGEST_PREFIX);
  }

  private static RouterConfig routing(String... args) {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs(args);
    return serve.routingConfig();
  }

  static Stream<Arguments> refusals() {
    return Stream.of(
        Arguments.of(new String[] {"--alpha", "2"}, "alpha"),
        Arguments.of(new String[] {"--max-requests", "0"}, "0"),
        Arguments.of(new String[] {"--block-size", "-16"}, "-16"),
        Arguments.of(new String[] {"--ttl", "5 minutes"}, "5 minutes"),
        Arguments.of(new String[] {"--report-every", "often"}, "often"),
        Arguments.of(new String[] {"--log-level", "loud"}, "loud"),
        Arguments.of(new String[] {"--jmx-port", "70000"}, "70000"),
        Arguments.of(new String[] {"--name", "two words"}, "two words"),
        Arguments.of(new String[] {"--index-capacity", "0"}, "0"),
        Arguments.of(
            new String[] {"--no-prefix-caching", "--policy", "longest_prefix"},
            "--no-prefix-caching contradicts --policy longest_prefix"),
        Arguments.of(
            new String[] {"--policy", "load_balanced", "--alpha", "0.3"},
            "--alpha has no effect with --policy load_balanced"),
        Arguments.of(
            new String[] {"--policy", "round_robin"},
            "--policy round_robin is not a policy of --engine-wire 0.19 (its policies:"
                + " longest_prefix, first_prefix_block, load_balanced, relative_load, sglang,"
                + " dynamo, llm_d, least_work)"),
        Arguments.of(
            new String[] {"--engine-wire", "0.18", "--policy", "load_balanced"},
            "--policy load_balanced is not a policy of --engine-wire 0.18 (its policies:"
                + " longest_prefix, first_prefix_block, round_robin)"),
        Arguments.of(
            new String[] {"--policy", "load_balanced", "--feedback"},
            "--feedback has no effect with --policy load_balanced"),
        Arguments.of(
            new String[] {"--no-prefix-caching", "--feedback"},
            "--feedback has no effect with --no-prefix-caching"),
        Arguments.of(
            new String[] {"--engine-wire", "0.18", "--feedback"},
            "--feedback has no effect with --engine-wire 0.18: its records carry no"
                + " num_cached_tokens"),
        Arguments.of(
            new String[] {"--engine-wire", "0.20"}, "choices: 0.15, 0.16, 0.18, 0.19, 0.19.0"),
        Arguments.of(
            new String[] {"--engine-wire", "0.15", "--tokenizer", "null", "--feedback"},
            "--feedback has no effect with --engine-wire 0.15: its records carry no"
                + " num_cached_tokens"),
        Arguments.of(
            new String[] {"--engine-wire", "0.15", "--tokenizer", "null", "--alpha", "0.3"},
            "--alpha has no effect with --policy round_robin"),
        Arguments.of(
            new String[] {"--engine-wire", "0.16", "--policy", "load_balanced"},
            "--policy load_balanced is not a policy of --engine-wire 0.16 (its policies:"
                + " longest_prefix, first_prefix_block, round_robin)"),
        Arguments.of(
            new String[] {"--engine-wire", "0.16", "--alpha", "0.3"},
            "--alpha has no effect with --policy round_robin"),
        Arguments.of(
            new String[] {"--engine-wire", "0.16", "--policy", "longest_prefix", "--feedback"},
            "--feedback has no effect with --engine-wire 0.16: its records carry no"
                + " num_cached_tokens"),
        Arguments.of(
            new String[] {"--engine-wire", "0.19.0", "--policy", "round_robin"},
            "--policy round_robin is not a policy of --engine-wire 0.19.0"),
        Arguments.of(new String[] {"--frobnicate"}, "--frobnicate"),
        Arguments.of(
            new String[] {"--engine-heartbeat", "2s", "--engine-heartbeat-timeout", "2s"},
            "--engine-heartbeat-timeout 2s must be shorter than --engine-heartbeat 2s and not 0"),
        Arguments.of(
            new String[] {"--engine-heartbeat", "5s", "--engine-heartbeat-timeout", "6s"},
            "--engine-heartbeat-timeout 6s must be shorter than --engine-heartbeat 5s"),
        Arguments.of(
            new String[] {"--engine-heartbeat-timeout", "0"},
            "--engine-heartbeat-timeout 0s must be shorter than --engine-heartbeat 30s and not 0"),
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
        Arguments.of(new String[] {"--engine-heartbeat-timeout", "-1s"}, "-1s"),
        Arguments.of(
            new String[] {"--jmx-password-file", "jmx.password"},
            "--jmx-password-file, --jmx-access-file and --jmx-ssl* need --jmx-port"),
        Arguments.of(
            new String[] {"--jmx-port", "0", "--jmx-access-file", "jmx.access"},
            "--jmx-access-file needs --jmx-password-file"),
        Arguments.of(
            new String[] {"--jmx-port", "0", "--jmx-password-file", "/no/such/jmx.password"},
            "--jmx-password-file /no/such/jmx.password cannot be read"),
        Arguments.of(
            new String[] {"--jmx-port", "0", "--jmx-ssl-need-client-auth"},
            "--jmx-ssl-need-client-auth needs --jmx-ssl"),
        Arguments.of(
            new String[] {"--jmx-port", "0", "--jmx-ssl-config", "/no/such/ssl.properties"},
            "--jmx-ssl-config cannot read /no/such/ssl.properties"));
  }

  @ParameterizedTest
  @MethodSource("refusals")
  void badUsageIsOneLineWithStatusTwo(String[] flags, String named) {
    String[] args = Stream.concat(Stream.of("serve"), Stream.of(flags)).toArray(String[]::new);
    CliRun r = CliRun.of(args);
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0)).startsWith("coordinator serve: ").contains(named);
  }
}
