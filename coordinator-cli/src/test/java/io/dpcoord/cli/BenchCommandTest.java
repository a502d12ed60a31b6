package io.dpcoord.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.withinPercentage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BenchCommandTest {
  private static final String HEADER =
      "target,prompt_tokens,routing,requests,requests_per_s,cpu_us_per_request,loop_us,io_us,"
          + "workers_us,gc_us,jit_us,other_us,cpu_vs_forwarder,added_p50_us,added_p99_us,added_p999_us,round";

  @Test
  @Timeout(120)
  void aTinyRunPrintsTheTableAndWritesTheCsv(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("bench.csv");

    CliRun run = tinyBench(csv, "--requests", "300", "--warmup", "100");

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
      assertThat(f).hasSize(17);
      assertThat(f[16]).isEqualTo("1");
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
  @Timeout(120)
  void roundsRepeatTheRunsAndSummariseThemWithMediansAndRanges(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("bench.csv");

    CliRun run =
        tinyBench(csv, "--routing", "on", "--requests", "200", "--warmup", "50", "--rounds", "2");

    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.err())
        .contains("bench: 4 runs")
        .contains("[1/4] forwarder, 64-token prompts, round 1 of 2")
        .contains("[4/4] coordinator, 64-token prompts, prefix routing on, round 2 of 2");
    List<String> out = run.out().lines().toList();
    assertThat(out).hasSize(2 + 4 + 3 + 2 + 2);
    assertThat(out.get(7)).isEqualTo("Medians of 2 rounds (lowest to highest):");
    assertThat(out.get(9)).startsWith("| target | prompt tokens | routing | rounds |");
    assertThat(out.get(11))
        .startsWith("| forwarder | 64 | - | 2 |")
        .contains("| 1.00 (1.00 to 1.00) |");

    List<String> lines = Files.readAllLines(csv);
    assertThat(lines).hasSize(1 + 4);
    assertThat(lines.subList(1, 5))
        .extracting(
            l -> {
              String[] f = l.split(",", -1);
              return f[0] + "," + f[1] + "," + f[2] + " round " + f[16];
            })
        .containsExactly(
            "forwarder,64,- round 1",
            "coordinator,64,on round 1",
            "forwarder,64,- round 2",
            "coordinator,64,on round 2");
    // the coordinator's ratio to the forwarder in each round, then their range and median
    double[] ratios = {
      Double.parseDouble(lines.get(2).split(",")[12]),
      Double.parseDouble(lines.get(4).split(",")[12])
    };
    String coordinator = out.get(12);
    assertThat(coordinator).startsWith("| coordinator | 64 | on | 2 |");
    String cell = coordinator.split(" \\| ")[12];
    Matcher m = Pattern.compile("(\\S+) \\((\\S+) to (\\S+)\\)").matcher(cell);
    assertThat(m.matches()).as(cell).isTrue();
    assertThat(Double.parseDouble(m.group(2))).isEqualTo(Math.min(ratios[0], ratios[1]));
    assertThat(Double.parseDouble(m.group(3))).isEqualTo(Math.max(ratios[0], ratios[1]));
    assertThat(Double.parseDouble(m.group(1)))
        .isCloseTo((ratios[0] + ratios[1]) / 2, within(0.011));
  }

  @Test
  @Timeout(120)
  void megatronsServerRunsAsATargetAndEveryRowIsComparedWithIt(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("bench.csv");
    // a stand-in for a Megatron-LM tree (test resources): its coordinator has Megatron's
    // constructor and start(), and speaks Megatron's wire over pyzmq, as Megatron's does
    Path megatron = Path.of(getClass().getResource("/fake-megatron").toURI());

    CliRun run =
        tinyBench(
            csv,
            "--targets",
            "coordinator,megatron",
            "--routing",
            "on",
            "--requests",
            "200",
            "--warmup",
            "50",
            "--megatron",
            megatron.toString(),
            "--python",
            "/usr/bin/python3");

    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.err()).contains("[2/2] megatron, 64-token prompts, prefix routing on");
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines.get(0))
        .isEqualTo(HEADER.replace("cpu_vs_forwarder,", "cpu_vs_forwarder,cpu_vs_megatron,"));
    assertThat(lines).hasSize(1 + 2);
    String[] coordinator = lines.get(1).split(",", -1);
    String[] python = lines.get(2).split(",", -1);
    assertThat(coordinator[0]).isEqualTo("coordinator");
    assertThat(python[0]).isEqualTo("megatron");
    assertThat(python[3]).isEqualTo("200");
    // the Python server's loop thread and libzmq's threads were found and did the work; it has
    // no workers, collector or compiler threads
    assertThat(Double.parseDouble(python[6])).as("loop").isPositive();
    assertThat(Double.parseDouble(python[7])).as("I/O").isPositive();
    assertThat(Arrays.copyOfRange(python, 8, 11)).containsOnly("0.0");
    assertThat(Double.parseDouble(python[5]))
        .isGreaterThanOrEqualTo(Double.parseDouble(python[6]) + Double.parseDouble(python[7]));
    // vs megatron: the row's CPU over Megatron's at the same length and routing; no forwarder ran
    assertThat(python[13]).isEqualTo("1.00");
    assertThat(Double.parseDouble(coordinator[13]))
        .isCloseTo(
            Double.parseDouble(coordinator[5]) / Double.parseDouble(python[5]),
            withinPercentage(1)); // the CSV's CPU times and ratios are rounded
    assertThat(coordinator[12]).isEmpty();
    assertThat(run.out().lines().findFirst().orElseThrow())
        .contains("| vs forwarder | vs megatron |");
  }

  @Test
  @Timeout(60)
  void aMegatronWhoseCoordinatorRaisesEndsTheRunWithItsExitStatus(@TempDir Path dir)
      throws Exception {
    // the stand-in tree, its coordinator replaced by one whose constructor takes no hostname (as
    // a release with other arguments would): the server must end at once, not leave the
    // benchmark waiting for an endpoint
    Path tree = dir.resolve("megatron-tree");
    Path from = Path.of(getClass().getResource("/fake-megatron").toURI());
    try (var files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path to = tree.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to);
        }
      }
    }
    Files.writeString(
        tree.resolve("megatron/core/inference/data_parallel_inference_coordinator.py"),
        "class DataParallelInferenceCoordinator:\n"
            + "    def __init__(self, pipe_connection, data_parallel_size, tokenizer, max_requests):\n"
            + "        pass\n");

    CliRun run =
        tinyBench(
            dir.resolve("bench.csv"),
            "--targets",
            "megatron",
            "--requests",
            "10",
            "--warmup",
            "10",
            "--megatron",
            tree.toString(),
            "--python",
            "/usr/bin/python3");

    assertThat(run.status()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.err()).contains("coordinator bench: the server process ended (exit status 1)");
    assertThat(run.out()).isEmpty();
  }

  @Test
  @Timeout(60)
  void serverJavaOptionsReachTheServerJvm(@TempDir Path dir) throws Exception {
    // an option the JVM does not know stops the server JVM at its start, so the run ends there
    CliRun run =
        tinyBench(
            dir.resolve("bench.csv"),
            "--targets",
            "coordinator",
            "--requests",
            "10",
            "--warmup",
            "10",
            "--server-java-option=-XX:+UseSerialGC",
            "--server-java-option=-XX:+NoSuchOptionForTheBench");

    assertThat(run.status()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.err()).contains("coordinator bench: the server process ended (exit status 1)");
    assertThat(run.out()).isEmpty();
  }

  /** A small run: 64-token prompts, 2 engines, 8 in flight, the CSV to {@code csv}, then flags. */
  private static CliRun tinyBench(Path csv, String... flags) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "bench",
                "--prompt-tokens",
                "64",
                "--engines",
                "2",
                "--concurrency",
                "8",
                "--csv",
                csv.toString()));
    args.addAll(List.of(flags));
    return CliRun.of(args.toArray(String[]::new));
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
        .contains("--rounds")
        .contains("--megatron")
        .contains("--python")
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
        "--rounds 0",
        "--csv /no/such/dir/bench.csv",
        "--targets megatron",
        "--targets megatron --megatron /no/such/dir",
        "--megatron /tmp",
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
