package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code serve --prometheus-port} and {@code --prometheus-bind}: help and refusals. */
@Timeout(30)
class PrometheusOptionsTest {

  @Test
  void helpDescribesBothOptions() {
    CliRun r = CliRun.of("serve", "--help");
    assertThat(r.status()).isZero();
    assertThat(r.out())
        .contains("--prometheus-port=PORT", "--prometheus-bind=ADDRESS", "status page")
        .contains("(default: 127.0.0.1)");
  }

  @Test
  void aPortOutOfRangeIsRefusedBeforeAnythingStarts() {
    CliRun r = CliRun.of("serve", "--prometheus-port", "70000");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.errLines().get(0)).contains("--prometheus-port", "70000");
    assertThat(r.out()).isEmpty(); // no endpoint: the coordinator never started
  }

  @Test
  void anUnknownBindAddressIsRefusedBeforeAnythingStarts() {
    CliRun r =
        CliRun.of("serve", "--prometheus-port", "0", "--prometheus-bind", "no-such-host.invalid");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.errLines().get(0)).contains("--prometheus-bind no-such-host.invalid");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void aTakenPortIsRefusedNamingIt() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String port = "" + taken.getLocalPort();
      CliRun r = CliRun.of("serve", "--name", "prometheus-taken", "--prometheus-port", port);
      assertThat(r.status()).isEqualTo(2);
      assertThat(r.errLines().get(0)).contains("--prometheus-port " + port);
    }
  }
}
