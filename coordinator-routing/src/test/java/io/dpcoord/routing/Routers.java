package io.dpcoord.routing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builds routers in known states for tests. */
final class Routers {
  private Routers() {}

  /** A router with {@code n} start-up engines named e0, e1, ... (ids 0..n-1 in rank order). */
  static Router withEngines(RouterConfig config, int n) {
    Router router = new Router(config);
    List<byte[]> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(name("e" + (char) ('a' + i)));
    }
    router.registerInitial(ids);
    return router;
  }

  static Router withEngines(int n) {
    return withEngines(RouterConfig.builder().build(), n);
  }

  static byte[] name(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** Commits {@code hashes} to {@code engine} as a prefix decision would (pending goes up). */
  static void assign(Router router, int engine, long... hashes) {
    Decision d = new Decision();
    d.set(engine, router.rankOf(engine), router.policy().hashesUsed(hashes.length), 0, 0.0, false);
    router.commit(d, hashes, hashes.length);
  }

  /** Brings the engine's pending count to {@code target} with load-only commits and completes. */
  static void setPending(Router router, int engine, int target) {
    while (router.pending(engine) > target) {
      router.complete(engine);
    }
    Decision d = new Decision();
    d.set(engine, router.rankOf(engine), 0, 0, 0.0, false);
    while (router.pending(engine) < target) {
      router.commit(d, null, 0);
    }
  }

  /** Routes and commits, returning a snapshot of the decision. */
  static Decision send(Router router, long... hashes) {
    Decision d = router.route(hashes, hashes.length, true).copy();
    router.commit(d, hashes, hashes.length);
    return d;
  }
}
