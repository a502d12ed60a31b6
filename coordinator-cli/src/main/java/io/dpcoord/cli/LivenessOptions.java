package io.dpcoord.cli;

import io.dpcoord.server.CoordinatorConfig;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code serve}'s flags for peers that hang without disconnecting: ZMTP heartbeats on the ROUTER,
 * and a request timeout (docs/OBSERVABILITY.md, "Engines that hang").
 */
final class LivenessOptions {
  private static final Duration LONGEST = Duration.ofDays(1);

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(
      names = "--engine-heartbeat",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Send a ZMTP heartbeat (PING) to every engine and client this often; libzmq and jeromq"
              + " peers answer in their I/O threads, so Megatron needs no change. 0 sends none, as"
              + " Megatron's coordinator (default: ${DEFAULT-VALUE}).",
      defaultValue = "30s")
  Duration heartbeat;

  @Option(
      names = "--engine-heartbeat-timeout",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Close the connection of a peer that answers nothing this long after a PING: a hung"
              + " engine is removed and its pending requests answered FAILED, a hung client is"
              + " forgotten, at most --engine-heartbeat plus this after it hung. Shorter"
              + " than --engine-heartbeat, which jeromq 0.6.0 needs (default: ${DEFAULT-VALUE};"
              + " five sixths of --engine-heartbeat when only that is given).",
      defaultValue = "25s")
  Duration heartbeatTimeout;

  @Option(
      names = "--request-timeout",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Answer a request FAILED when no terminal reply came this long after it arrived, and"
              + " abort it on its engine; a reply that comes later is dropped and counted"
              + " (coordinator_late_replies_total). Checked about once a second. 0 waits for"
              + " ever, as Megatron (default: ${DEFAULT-VALUE}).",
      defaultValue = "0")
  Duration requestTimeout;

  /**
   * Sets the heartbeat and the request timeout on {@code config}, or a usage error naming a flag.
   */
  CoordinatorConfig.Builder applyTo(CoordinatorConfig.Builder config) {
    check("--engine-heartbeat", heartbeat);
    check("--engine-heartbeat-timeout", heartbeatTimeout);
    check("--request-timeout", requestTimeout);
    boolean timeoutGiven =
        mixee.commandLine().getParseResult().hasMatchedOption("--engine-heartbeat-timeout");
    if (!timeoutGiven && !heartbeat.isZero()) {
      // only the interval given: the timeout keeps the defaults' proportion (25 s of 30 s)
      heartbeatTimeout = Duration.ofMillis(Math.max(1, heartbeat.toMillis() * 5 / 6));
    }
    if (heartbeat.isZero()) {
      if (timeoutGiven) {
        throw usage("--engine-heartbeat-timeout has no effect with --engine-heartbeat 0");
      }
    } else if (heartbeatTimeout.isZero() || heartbeatTimeout.compareTo(heartbeat) >= 0) {
      throw usage(
          "--engine-heartbeat-timeout "
              + show(heartbeatTimeout)
              + " must be shorter than --engine-heartbeat "
              + show(heartbeat)
              + " and not 0 (jeromq 0.6.0 loses a timeout set before the last one expired)");
    }
    return config.heartbeat(heartbeat, heartbeatTimeout).requestTimeout(requestTimeout);
  }

  private void check(String flag, Duration d) {
    if (d.compareTo(LONGEST) > 0 || d.toNanos() % 1_000_000 != 0) {
      throw usage(flag + " must be 0 or whole milliseconds up to 24h, got " + show(d));
    }
  }

  private static String show(Duration d) {
    long nanos = d.toNanos();
    if (nanos % 1_000_000_000 == 0) {
      return d.toSeconds() + "s";
    }
    return nanos % 1_000_000 == 0 ? d.toMillis() + "ms" : nanos + "ns";
  }

  private ParameterException usage(String message) {
    return new ParameterException(mixee.commandLine(), message);
  }
}
