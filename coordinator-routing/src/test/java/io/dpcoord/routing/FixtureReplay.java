package io.dpcoord.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Replays a parity fixture's trace through a router, as route-replay does: start-up engines
 * labelled 0..ranks-1 with 4-byte identities in label order, {@code add} of a new label a {@link
 * Router#register()}, of an active one a {@link Router#replace}, of a removed one a {@link
 * Router#rejoin}. The trace format is the replay's JSON Lines; this module has no JSON library, and
 * the fixtures' lines are regular enough for patterns.
 */
final class FixtureReplay {
  static final Pattern OP = Pattern.compile("\"op\":\"(\\w+)\"");
  static final Pattern ID = Pattern.compile("\"id\":(-?\\d+)");
  static final Pattern RANK = Pattern.compile("\"rank\":(-?\\d+)");
  static final Pattern TOKENS = Pattern.compile("\"tokens\":\\[([^\\]]*)\\]");

  private final Router router;
  private final Map<Integer, Integer> engineOfLabel = new HashMap<>();
  private final Map<Integer, Integer> labelOfEngine = new HashMap<>();
  private final BlockHasher hasher;

  /** One line per submit: {id, label, match depth, hashes used}. */
  final List<long[]> decisions = new ArrayList<>();

  int rejoined;
  int restarted;

  FixtureReplay(RouterConfig config, int ranks) {
    router = new Router(config);
    hasher = new BlockHasher(config.blockSize());
    List<byte[]> identities = new ArrayList<>();
    for (int label = 0; label < ranks; label++) {
      identities.add(new byte[] {0, 0, 0, (byte) label});
    }
    int[] engines = router.registerInitial(identities);
    for (int label = 0; label < ranks; label++) {
      track(label, engines[label]);
    }
  }

  /** Replays every line of the gzipped trace {@code resource}. */
  FixtureReplay run(String resource) throws IOException {
    Map<Long, Integer> inFlight = new HashMap<>();
    for (String line : lines(resource)) {
      switch (group(OP, line)) {
        case "submit" -> {
          long id = Long.parseLong(group(ID, line));
          long[] hashes = BlockHasherTest.hashesOf(hasher, tokens(group(TOKENS, line)));
          Decision d = router.route(hashes, hashes.length, true);
          router.commit(d, hashes, hashes.length);
          inFlight.put(id, d.engine());
          decisions.add(
              new long[] {id, labelOfEngine.get(d.engine()), d.matchDepth(), d.hashesUsed()});
        }
        case "complete" -> router.complete(inFlight.remove(Long.parseLong(group(ID, line))));
        case "remove" ->
            assertThat(router.remove(engineOfLabel.get(Integer.parseInt(group(RANK, line)))))
                .isTrue();
        case "add" -> add(Integer.parseInt(group(RANK, line)));
        default -> throw new AssertionError("unexpected op in the fixture: " + line);
      }
    }
    return this;
  }

  private void add(int label) {
    Integer engine = engineOfLabel.get(label);
    if (engine == null) {
      track(label, router.register());
    } else if (router.rankOf(engine) >= 0) {
      track(label, router.replace(engine));
      restarted++;
    } else {
      track(label, router.rejoin(engine));
      rejoined++;
    }
  }

  private void track(int label, int engine) {
    engineOfLabel.put(label, engine);
    labelOfEngine.put(engine, label);
  }

  static long id(String line) {
    return Long.parseLong(group(ID, line));
  }

  static String group(Pattern p, String line) {
    Matcher m = p.matcher(line);
    if (!m.find()) {
      throw new AssertionError(p + " not found in " + line);
    }
    return m.group(1);
  }

  static long[] tokens(String csv) {
    if (csv.isBlank()) {
      return new long[0];
    }
    String[] parts = csv.split(",");
    long[] out = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = Long.parseLong(parts[i].trim());
    }
    return out;
  }

  static List<String> lines(String resource) throws IOException {
    List<String> out = new ArrayList<>();
    try (InputStream in = FixtureReplay.class.getResourceAsStream(resource);
        BufferedReader r =
            new BufferedReader(
                new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.isBlank()) {
          out.add(line);
        }
      }
    }
    return out;
  }
}
