package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.dpcoord.sim.replay.TraceReplay;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code route-replay}'s engine on text prompts: for every tokenizer kind, replaying the kind's
 * text trace (about 300 submits of multi-turn chats, shared system prompts, prompts shorter than a
 * block, repeats, load bursts, one engine removal) gives, for every request, the engine and the
 * match depth that Megatron's coordinator gives when it tokenizes the same texts with its own
 * tokenizer library (generate_text_parity.py).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TextTraceReplayParityTest {
  static Stream<String> kinds() {
    return ParityFixtures.TEXT_KINDS.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void textPromptsAreRoutedWhereMegatronRoutesThem(String kind) throws Exception {
    TraceReplay replay =
        new TraceReplay(ParityFixtures.megatronRouting(), 4, ParityFixtures.tokenizer(kind));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream trace = ParityFixtures.openGzip(ParityFixtures.textTrace(kind))) {
      replay.run(trace, out);
    }

    List<ParityFixtures.Decision> megatron =
        ParityFixtures.decisions(ParityFixtures.textDecisions(kind));
    List<ParityFixtures.Decision> ours =
        ParityFixtures.decisions(out.toString(StandardCharsets.UTF_8), "route-replay's output");
    assertThat(megatron).hasSizeGreaterThan(250);
    assertThat(megatron)
        .as("requests that hit a cached prefix")
        .filteredOn(d -> d.match() > 0)
        .hasSizeGreaterThan(megatron.size() / 2);
    assertThat(ours).hasSameSizeAs(megatron);
    for (int i = 0; i < megatron.size(); i++) {
      if (!ours.get(i).equals(megatron.get(i))) {
        fail(
            "%s: request %d went to rank %d with a match of %d block(s); Megatron: rank %d, %d"
                + " block(s). The %d decision(s) before it agreed.",
            kind,
            megatron.get(i).id(),
            ours.get(i).rank(),
            ours.get(i).match(),
            megatron.get(i).rank(),
            megatron.get(i).match(),
            i);
      }
    }
  }
}
