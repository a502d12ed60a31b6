package io.dpcoord.server;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Megatron's schedule output ({@code --schedule-out}): one JSON document with the policy, the
 * data-parallel size, the number of requests and one record per routed request ({@code request_id},
 * {@code rank_index}, {@code num_hashes}).
 *
 * <p>Unlike the reference, which keeps every record in memory until shutdown, records are streamed
 * through a buffer, so memory stays flat on long runs; {@code num_requests} is therefore written
 * after the records (JSON objects are unordered).
 */
final class ScheduleWriter implements AutoCloseable {
  private final Writer out;
  private long records;

  ScheduleWriter(Path path, String policy, int dataParallelSize) throws IOException {
    this.out = new BufferedWriter(Files.newBufferedWriter(path, StandardCharsets.UTF_8), 1 << 16);
    out.write("{\"policy\": \"" + policy + "\", \"data_parallel_size\": " + dataParallelSize);
    out.write(", \"records\": [");
  }

  void record(long requestId, int rankIndex, int numHashes) throws IOException {
    if (records++ > 0) {
      out.write(", ");
    }
    out.write("{\"request_id\": ");
    out.write(Long.toString(requestId));
    out.write(", \"rank_index\": ");
    out.write(Integer.toString(rankIndex));
    out.write(", \"num_hashes\": ");
    out.write(Integer.toString(numHashes));
    out.write('}');
  }

  void flush() throws IOException {
    out.flush();
  }

  @Override
  public void close() throws IOException {
    out.write("], \"num_requests\": " + records + "}\n");
    out.close();
  }
}
