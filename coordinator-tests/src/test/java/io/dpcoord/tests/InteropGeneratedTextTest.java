package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.dpcoord.metrics.InMemoryMetrics;
import io.dpcoord.metrics.Metric;
import io.dpcoord.server.Coordinator;
import io.dpcoord.server.CoordinatorConfig;
import io.dpcoord.tokenizers.Tokenizers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generated_text} as Megatron's coordinator returns it, checked by Megatron-like Python
 * peers ({@code interop/detokenize.py}): a client taking plain dicts and one building {@code
 * DynamicInferenceRequest}s, engines answering text ("1 2 3 ...") and token prompts with records
 * whose generated tokens end in one or more eods or none, with {@code detokenize_stop_sequence}
 * true, false, absent, nil or an int, FAILED with and without tokens, streamed with partial replies
 * first. The Python side computes each expected record from Megatron's code and checks it byte for
 * byte.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InteropGeneratedTextTest {
  private static final List<String> ENGINES = List.of("mp-coord-1", "mp-coord-0");

  @TempDir Path dir;

  @Test
  void withTheNullTokenizerEveryFinalRecordCarriesMegatronsGeneratedText() throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    InteropProcess.Event done =
        exchange(
            CoordinatorConfig.builder()
                .expectedEngines(ENGINES.size())
                .metrics(metrics)
                .tokenizer(Tokenizers.fromSpec("null"))
                .tokenizerThreads(2),
            "null");

    assertThat(metrics.observationCount(Metric.COORDINATOR_DETOKENIZE_LATENCY_SECONDS))
        .as("records detokenized: each final reply, once")
        .isEqualTo(done.getLong("finals") + done.getLong("barrier"));
    assertThat(metrics.count(Metric.COORDINATOR_DETOKENIZE_FAILED_TOTAL)).isZero();
    assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
  }

  @Test
  void withoutATokenizerEveryRecordReachesTheClientByteForByte() throws Exception {
    InMemoryMetrics metrics = new InMemoryMetrics();
    exchange(
        CoordinatorConfig.builder().expectedEngines(ENGINES.size()).metrics(metrics), "untouched");

    assertThat(metrics.observationCount(Metric.COORDINATOR_DETOKENIZE_LATENCY_SECONDS)).isZero();
    assertThat(metrics.count(Metric.COORDINATOR_INVALID_MESSAGE_TOTAL)).isZero();
  }

  /** Runs detokenize.py against a coordinator built from {@code config}; returns its done line. */
  private InteropProcess.Event exchange(CoordinatorConfig.Builder config, String expect)
      throws Exception {
    try (InteropPython python = InteropPython.in(dir)) {
      Coordinator coordinator = python.startCoordinator(config.build());
      InteropProcess driver =
          python.run(
              "detokenize",
              "detokenize.py",
              List.of(
                  "--endpoint",
                  coordinator.endpoint(),
                  "--identities",
                  String.join(",", ENGINES),
                  "--expect",
                  expect));
      driver.awaitExit(0, Duration.ofSeconds(50));

      InteropProcess.Event done = driver.events("done").get(0);
      // 19 cases, each with a text and a token prompt, from each of the 2 clients
      assertThat(done.getLong("requests")).isEqualTo(2 * 2 * 19 + 2);
      assertThat(done.getLong("finals")).isEqualTo(2 * 2 * 19);
      assertThat(done.getLong("partials")).as("2 streamed cases, 3 partials").isEqualTo(2 * 2 * 3);
      assertThat(coordinator.status().inFlight()).isZero();
      return done;
    }
  }
}
