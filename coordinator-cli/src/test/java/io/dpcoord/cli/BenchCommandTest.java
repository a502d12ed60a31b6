package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BenchCommandTest {
  private static final String HEADER =
      "target,prompt_tokens,routing,requests,requests_per_s,cpu_us_per_request,loop_us,io_us,"
          + "workers_us,gc_us,jit_us,other_us,cpu_vs_forwarder,added_p50_us,added_p99_us,added_p999_us";

  @Test
  @Timeout(120)
  void aTinyRunPrintsTheTableAndWritesTheCsv(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("bench.csv");

    CliRun run =
        CliRun.of(
            "bench",
            "--prompt-tokens",
            "64",
            "--requests",
            "300",
            "--warmup",
            "100",
            "--engines",
            "2",
            "--concurrency",
            "8",
            "--csv",
            csv.toString());

    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.err())
        .contains("[0/3] forwarder, 64-token prompts, warm-up requests only")
        .contains("[1/3] forwarder, 64-token prompts")
        .contains("wrote " + csv);
    List<String> table = run.out().lines().toList();
    assertThat(table).hasSize(2 + 3);
    assertThat(table.get(0)).startsWith("| target | prompt tokens | routing | requests |");
    assertThat(table.get(2)).startsWith("| forwarder | 64 | - | 300 |");
    assertThat(table.get(3)).startsWith("| coordinator | 64 | on | 300 |");
    assertThat(table.get(4)).startsWith("| coordinator | 64 | off | 300 |");

    List<String> lines = Files.readAllLines(csv);
    assertThat(lines).hasSize(1 + 3);
    assertThat(lines.get(0)).isEqualTo(HEADER);
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",", -1);
      assertThat(f).hasSize(16);
      double total = Double.parseDouble(f[5]);
      double[] groups = Arrays.stream(f, 6, 11).mapToDouble(Double::parseDouble).toArray();
      assertThat(Double.parseDouble(f[4])).as("requests/s of " + line).isPositive();
      // the server's own threads were found by name and did the work
      assertThat(groups[0]).as("loop CPU of " + line).isPositive();
      assertThat(groups[1]).as("I/O CPU of " + line).isPositive();
      assertThat(groups[2]).as("workers' CPU of " + line).isNotNegative();
      assertThat(groups[3]).as("GC CPU of " + line).isNotNegative();
      assertThat(groups[4]).as("JIT CPU of " + line).isNotNegative();
      assertThat(total).as("process CPU of " + line).isGreaterThanOrEqualTo(groups[0] + groups[1]);
      assertThat(Double.parseDouble(f[14])).isGreaterThanOrEqualTo(Double.parseDouble(f[13]));
      assertThat(Double.parseDouble(f[15])).isGreaterThanOrEqualTo(Double.parseDouble(f[14]));
    }
    assertThat(lines.get(1)).startsWith("forwarder,64,-,300,").contains(",1.00,");
  }

  @Test
  void helpDescribesTheFlags() {
    CliRun run = CliRun.of("bench", "--help");

    assertThat(run.status()).isZero();
    assertThat(run.out())
        .contains("Usage: coordinator bench")
        .contains("--prompt-tokens")
        .contains("--routing")
        .contains("--targets")
        .contains("--requests")
        .contains("--warmup")
        .contains("--concurrency")
        .contains("--engines")
        .contains("--rate")
        .contains("--csv");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--routing maybe",
        "--targets proxy",
        "--prompt-tokens 0",
        "--prompt-tokens many",
        "--requests 0",
        "--warmup 0",
        "--concurrency 0",
        "--engines 0",
        "--engines 65",
        "--engine-latency soon",
        "--rate -1",
        "--rate fast",
        "--csv /no/such/dir/bench.csv",
        "--bogus"
      })
  void badFlagsExit2WithOneLine(String flags) {
    CliRun run = CliRun.of(("bench " + flags).split(" "));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.errLines()).hasSize(1);
    assertThat(run.errLines().get(0)).startsWith("coordinator bench: ");
    assertThat(run.out()).isEmpty();
  }
}
