package io.dpcoord.sim.simulate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Requests as comparable values, and ways of collecting a workload's. */
final class Requests {
  private Requests() {}

  /** A request with its blocks as a list, so that equal requests are equal. */
  record Req(long arrivalNanos, int inputTokens, int outputTokens, List<Long> blocks) {
    static Req of(SimRequest r) {
      return new Req(
          r.arrivalNanos(),
          r.inputTokens(),
          r.outputTokens(),
          Arrays.stream(r.blocks()).boxed().toList());
    }

    static Req of(long arrivalNanos, int input, int output, long... blocks) {
      return new Req(arrivalNanos, input, output, Arrays.stream(blocks).boxed().toList());
    }
  }

  static List<Req> all(Workload w) {
    List<Req> out = new ArrayList<>();
    for (Iterator<SimRequest> it = w.requests(); it.hasNext(); ) {
      out.add(Req.of(it.next()));
    }
    return out;
  }

  /** Iterates {@code w} on two threads at once; both threads' sequences. */
  static List<List<Req>> concurrently(Workload w) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Callable<List<Req>> task = () -> all(w);
      Future<List<Req>> a = pool.submit(task);
      Future<List<Req>> b = pool.submit(task);
      return List.of(a.get(), b.get());
    } finally {
      pool.shutdownNow();
    }
  }
}
