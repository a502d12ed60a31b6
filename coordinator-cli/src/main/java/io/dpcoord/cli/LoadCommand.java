package io.dpcoord.cli;

import io.dpcoord.sim.LoadConfig;
import io.dpcoord.sim.LoadGenerator;
import io.dpcoord.sim.LoadReport;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./coordinator load}: a load-generating client with a report; exit 1 on loss. */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Send N requests to a coordinator, at most C in flight, and report what came back.",
      "",
      "Prompts are token lists: one of K shared system prompts of S tokens (chosen at random,"
          + " seeded) followed by a unique random suffix of U tokens. Every client request id is"
          + " tracked: a second reply is a duplicate, a FAILED reply counts as answered, and"
          + " requests still unanswered when no reply has come for the idle timeout are lost."
          + " The report goes to stdout; the exit status is 1 if any request was lost or"
          + " duplicated. SIGTERM or Ctrl-C stops sending and drains what is in flight. The"
          + " report counts requests per engine when the engines say which served them"
          + " (served_by_rank: `coordinator engine --extension-keys`).",
      ""
    })
final class LoadCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Mixin ConnectOption connect;

  @Mixin CurveClientOptions curve;

  @Option(names = "--requests", required = true, paramLabel = "N", description = "Requests.")
  long requests;

  @Option(
      names = "--concurrency",
      required = true,
      paramLabel = "C",
      description = "Most requests in flight at once.")
  int concurrency;

  @Mixin WorkloadOptions workload;

  @Option(
      names = "--generated-tokens",
      paramLabel = "G",
      description = "num_tokens_to_generate of every request (default: ${DEFAULT-VALUE}).",
      defaultValue = "16")
  int generatedTokens;

  @Mixin SeedOption seed;

  @Option(
      names = "--stream",
      description = "Ask for streamed partial replies (\"streaming\": true).")
  boolean stream;

  @Option(
      names = "--idle-timeout",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Without any reply for this long, what is in flight is lost (default: ${DEFAULT-VALUE}).",
      defaultValue = "10s")
  Duration idleTimeout;

  @Option(
      names = "--connect-timeout",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "How long to wait for CONNECT_ACK (default: ${DEFAULT-VALUE}).",
      defaultValue = "5s")
  Duration connectTimeout;

  @Override
  public Integer call() {
    if (requests < 1 || requests > LoadConfig.MAX_REQUESTS) {
      throw new ParameterException(
          spec.commandLine(),
          "--requests must be in 1.." + LoadConfig.MAX_REQUESTS + ", got " + requests);
    }
    LoadConfig config;
    try {
      config =
          workload
              .applyTo(LoadConfig.builder().requests(requests).concurrency(concurrency))
              .generatedTokens(generatedTokens)
              .seed(seed.value)
              .stream(stream)
              .idleTimeout(idleTimeout)
              .connectTimeout(connectTimeout)
              .curve(curve.load())
              .build();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    LoadGenerator generator = new LoadGenerator(connect.endpoint, config);
    Signals.onTerminate(generator::finishSubmitting);
    LoadReport report;
    try {
      report = generator.run();
    } catch (TimeoutException e) {
      err.println("coordinator load: " + e.getMessage());
      err.flush();
      return 1;
    }
    out.print(report.format());
    out.flush();
    if (!report.ok()) {
      err.println(
          "coordinator load: "
              + report.lost()
              + " lost and "
              + report.duplicated()
              + " duplicated of "
              + report.sent()
              + " requests");
      err.flush();
      return 1;
    }
    return 0;
  }
}
