package io.dpcoord.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScheduleWriterTest {
  @TempDir Path dir;

  @Test
  void writesMegatronsScheduleDocument() throws Exception {
    Path file = dir.resolve("schedule.json");
    try (ScheduleWriter w = new ScheduleWriter(file, "longest_prefix", 4)) {
      w.record(0, 2, 3);
      w.record(1, 0, 0);
    }
    assertThat(Files.readString(file))
        .isEqualTo(
            "{\"policy\": \"longest_prefix\", \"data_parallel_size\": 4, \"records\": ["
                + "{\"request_id\": 0, \"rank_index\": 2, \"num_hashes\": 3}, "
                + "{\"request_id\": 1, \"rank_index\": 0, \"num_hashes\": 0}"
                + "], \"num_requests\": 2}\n");
  }

  @Test
  void anEmptyScheduleIsStillADocument() throws Exception {
    Path file = dir.resolve("empty.json");
    new ScheduleWriter(file, "load_balanced", 0).close();
    assertThat(Files.readString(file))
        .isEqualTo(
            "{\"policy\": \"load_balanced\", \"data_parallel_size\": 0, \"records\": [],"
                + " \"num_requests\": 0}\n");
  }
}
