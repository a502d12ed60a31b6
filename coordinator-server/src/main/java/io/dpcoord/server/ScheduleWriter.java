package io.dpcoord.server;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Megatron's schedule output ({@code --schedule-out}): one JSON document with the policy, the
 * data-parallel size, the number of requests and one record per routed request ({@code request_id},
 * {@code rank_index}, {@code num_hashes}).
 *
 * <p>Unlike the reference, which keeps every record in memory until shutdown, records are streamed
 * through a buffer, so memory stays flat on long runs; {@code num_requests} is therefore written
 * after the records (JSON objects are unordered). Only opening the file throws: a write that fails
 * later (disk full, say) is logged once and ends the schedule, never the coordinator.
 */
final class ScheduleWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ScheduleWriter.class);

  private final Path path;
  private final Writer out;
  private long records;
  private boolean broken;

  ScheduleWriter(Path path, String policy, int dataParallelSize) throws IOException {
    this.path = path;
    this.out = new BufferedWriter(Files.newBufferedWriter(path, StandardCharsets.UTF_8), 1 << 16);
    out.write("{\"policy\": \"" + policy + "\", \"data_parallel_size\": " + dataParallelSize);
    out.write(", \"records\": [");
  }

  void record(long requestId, int rankIndex, int numHashes) {
    if (broken) {
      return;
    }
    try {
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
    } catch (IOException e) {
      failed(e);
    }
  }

  void flush() {
    if (!broken) {
      try {
        out.flush();
      } catch (IOException e) {
        failed(e);
      }
    }
  }

  @Override
  public void close() {
    try {
      if (!broken) {
        out.write("], \"num_requests\": " + records + "}\n");
      }
      out.close();
    } catch (IOException e) {
      failed(e);
    }
  }

  private void failed(IOException e) {
    if (!broken) {
      broken = true;
      LOG.warn(
          "cannot write the schedule to {}: {}; no more records are written", path, e.toString());
    }
  }
}
