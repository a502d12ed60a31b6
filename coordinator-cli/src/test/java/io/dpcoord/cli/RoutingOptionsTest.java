package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.routing.MegatronRelease;
import io.dpcoord.routing.RouterConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The routing flags' way into the router's configuration. */
@Timeout(30)
class RoutingOptionsTest {

  /** A command that only carries the flags. */
  @Command(name = "serve")
  static final class Flags {
    @Mixin RoutingOptions routing;
  }

  private static RouterConfig parse(String... args) {
    Flags flags = new Flags();
    new CommandLine(flags).parseArgs(args);
    return flags.routing.toConfig(MegatronRelease.V0_19, "the engines");
  }

  @Test
  void theIndexIsPreallocatedUnlessTurnedOff() {
    assertThat(parse().preallocateIndex()).isTrue();
    assertThat(parse("--index-preallocate").preallocateIndex()).isTrue();
    assertThat(parse("--no-index-preallocate").preallocateIndex()).isFalse();
    assertThat(parse("--index-capacity", "1000").indexCapacity()).isEqualTo(1000);
    // the library's default stays as it was: only the commands that serve ask for it
    assertThat(RouterConfig.builder().build().preallocateIndex()).isFalse();
  }

  @Test
  void serveHelpNamesTheFlag() {
    CliRun r = CliRun.of("serve", "--help");
    assertThat(r.status()).isZero();
    assertThat(r.out()).contains("--[no-]index-preallocate");
  }
}
