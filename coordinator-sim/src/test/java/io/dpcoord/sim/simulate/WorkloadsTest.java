package io.dpcoord.sim.simulate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.dpcoord.sim.replay.TraceException;
import io.dpcoord.sim.simulate.Requests.Req;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadsTest {
  private static final String MOONCAKE =
      "{\"timestamp\": 0, \"input_length\": 1024, \"output_length\": 3, \"hash_ids\": [1, 2]}";
  private static final String ROUTING = "{\"op\":\"submit\",\"id\":1,\"tokens\":[1,2,3,4,5]}";

  @TempDir Path dir;

  private Path write(String name, String... lines) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, String.join("\n", lines) + "\n");
    return f;
  }

  @Test
  void tellsATracesFormatByItsFirstLinesKeys() throws Exception {
    Path mooncake = write("a.jsonl", "", MOONCAKE);
    Path routing = write("b.json", ROUTING);
    Path gz = dir.resolve("c.jsonl.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(MOONCAKE.getBytes(StandardCharsets.UTF_8));
    }

    assertThat(Workloads.open(mooncake.toString(), Workloads.Options.defaults()))
        .isInstanceOf(MooncakeTrace.class)
        .satisfies(w -> assertThat(Requests.all(w)).containsExactly(Req.of(0, 1024, 3, 1, 2)));
    assertThat(Workloads.open(gz.toString(), Workloads.Options.defaults()))
        .isInstanceOf(MooncakeTrace.class);
    Workload r =
        Workloads.open(
            routing.toString(),
            Workloads.Options.defaults().withTraceBlockSize(2).withOutputTokens(9));
    assertThat(r).isInstanceOf(RoutingTrace.class);
    assertThat(r.blockSize()).isEqualTo(2);
    assertThat(Requests.all(r))
        .singleElement()
        .satisfies(q -> assertThat(q.outputTokens()).isEqualTo(9));
  }

  @Test
  void anExistingFileIsATraceWhateverItsName() throws Exception {
    Path chat = write("chat", ROUTING);

    assertThat(Workloads.isFile(chat.toString())).isTrue();
    assertThat(Workloads.open(chat.toString(), Workloads.Options.defaults()))
        .isInstanceOf(RoutingTrace.class);
  }

  @Test
  void anythingElseIsASyntheticSpec() throws Exception {
    Workload w =
        Workloads.open("chat:requests=10,turns=5", Workloads.Options.defaults().withSeed(4));

    assertThat(w).isInstanceOf(Synthetic.class);
    assertThat(Requests.all(w))
        .hasSize(10)
        .isEqualTo(Requests.all(Synthetic.parse("chat:requests=10,turns=5", 4)));
    assertThatThrownBy(() -> Workloads.open("nothing-here", Workloads.Options.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'nothing-here' is neither a trace file")
        .hasMessageContaining("chat, agent, system-prompt, rag, llm-d");
  }

  @Test
  void aFirstLineOfNeitherFormatIsReportedWithItsNumber() throws Exception {
    Path f = write("x.jsonl", "  ", "{\"prompt\": \"hi\"}", MOONCAKE);

    TraceException e =
        catchThrowableOfType(
            TraceException.class, () -> Workloads.open(f.toString(), Workloads.Options.defaults()));

    assertThat(e.line()).isEqualTo(2);
    assertThat(e.reason()).contains("neither 'op'", "nor 'hash_ids'");
    // skipping bad lines, the next line tells, and the unknown line is skipped
    Workload w = Workloads.open(f.toString(), Workloads.Options.defaults().withSkipBad(true));
    assertThat(w).isInstanceOf(MooncakeTrace.class);
    assertThat(((MooncakeTrace) w).skipped()).isEqualTo(1);
  }

  @Test
  void aMissingTraceFileIsAnIoError() {
    assertThatThrownBy(
            () ->
                Workloads.open(dir.resolve("gone.jsonl").toString(), Workloads.Options.defaults()))
        .isInstanceOf(IOException.class);
  }
}
