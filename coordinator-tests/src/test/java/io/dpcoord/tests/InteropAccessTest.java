package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.server.AccessRules;
import io.dpcoord.server.Cidr;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Address allow-lists with unmodified libzmq peers connecting from distinct loopback addresses
 * (libzmq's {@code tcp://SOURCE:0;HOST:PORT}): engines from 127.0.0.2, clients from 127.0.0.3.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class InteropAccessTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private InteropPython python;
  private Coordinator coordinator;

  @AfterEach
  void tearDown() {
    if (python != null) {
      python.close();
    }
    if (coordinator != null) {
      coordinator.close();
    }
  }

  private String from(String source) {
    return "tcp://" + source + ":0;" + coordinator.endpoint().substring("tcp://".length());
  }

  @Test
  void enginesAndClientsAreServedFromTheirAddressesAndAClientAddressCannotRegister()
      throws Exception {
    python = InteropPython.in(dir);
    InMemoryMetrics metrics = new InMemoryMetrics();
    List<Cidr> engines = List.of(Cidr.parse("127.0.0.2/32"));
    List<Cidr> clients = List.of(Cidr.parse("127.0.0.3/32"));
    coordinator =
        Coordinator.start(
            CoordinatorConfig.builder()
                .expectedEngines(2)
                .metrics(metrics)
                .access(
                    AccessRules.of(engines, clients, clients, AccessRules.MEGATRON_ENGINE_IDENTITY))
                .build());
    InteropProcess rogue = python.engine(from("127.0.0.3"), 7); // a client's address
    Await.until(
        "the registration from 127.0.0.3 refused",
        () -> metrics.count(Metric.COORDINATOR_REFUSED_ENGINE_TOTAL) == 1,
        metrics::toString);
    InteropProcess e0 = python.engine(from("127.0.0.2"), 0);
    InteropProcess e1 = python.engine(from("127.0.0.2"), 1);
    assertThat(coordinator.status().awaitStarted(WAIT)).as("engines registered").isTrue();

    InteropProcess client =
        python.client("client", from("127.0.0.3"), "requests", "--batches", "40,20");
    client.awaitExit(0, WAIT);
    assertThat(client.events("reply"))
        .hasSize(60)
        .allMatch(e -> e.get("status").equals("COMPLETED"));
    python.close(); // all their output is read once they are gone
    assertThat(e0.events("request").size() + e1.events("request").size()).isEqualTo(60);
    assertThat(rogue.events("request")).isEmpty();
    assertThat(metrics.count(Metric.COORDINATOR_REFUSED_CONNECTION_TOTAL)).isZero();
  }
}
