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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Replays the parity fixture (decisions recorded from the reference implementation) through the
 * router and demands every rank. The trace format is the replay's JSON Lines; this module has no
 * JSON library, and the fixture's lines are regular enough for patterns.
 */
class ParityFixtureTest {
  private static final int RANKS = 4;
  private static final Pattern OP = Pattern.compile("\"op\":\"(\\w+)\"");
  private static final Pattern ID = Pattern.compile("\"id\":(-?\\d+)");
  private static final Pattern RANK = Pattern.compile("\"rank\":(-?\\d+)");
  private static final Pattern TOKENS = Pattern.compile("\"tokens\":\\[([^\\]]*)\\]");

  @ParameterizedTest
  @EnumSource(Policy.class)
  void routerReproducesEveryReferenceDecision(Policy policy) throws IOException {
    RouterConfig config =
        RouterConfig.builder().policy(policy).blockSize(16).alpha(0.5).maxRequests(16).build();
    Router router = new Router(config);
    List<byte[]> identities = new ArrayList<>();
    for (int label = 0; label < RANKS; label++) {
      identities.add(new byte[] {0, 0, 0, (byte) label});
    }
    int[] engineOfLabel = router.registerInitial(identities);
    Map<Integer, Integer> labelOfEngine = new HashMap<>();
    for (int label = 0; label < RANKS; label++) {
      labelOfEngine.put(engineOfLabel[label], label);
    }
    BlockHasher hasher = new BlockHasher(16);
    Map<Long, Integer> inFlight = new HashMap<>();
    List<long[]> decisions = new ArrayList<>();

    for (String line : lines("/parity/trace.jsonl.gz")) {
      String op = group(OP, line);
      switch (op) {
        case "submit" -> {
          long id = Long.parseLong(group(ID, line));
          long[] hashes = BlockHasherTest.hashesOf(hasher, tokens(group(TOKENS, line)));
          Decision d = router.route(hashes, hashes.length, true);
          router.commit(d, hashes, hashes.length);
          inFlight.put(id, d.engine());
          decisions.add(new long[] {id, labelOfEngine.get(d.engine())});
        }
        case "complete" -> router.complete(inFlight.remove(Long.parseLong(group(ID, line))));
        case "remove" ->
            assertThat(router.remove(engineOfLabel[Integer.parseInt(group(RANK, line))])).isTrue();
        default -> throw new AssertionError("unexpected op in the fixture: " + line);
      }
    }

    List<String> expected = lines("/parity/decisions-" + policy.cliName() + ".jsonl.gz");
    assertThat(decisions).hasSize(expected.size()).hasSize(2000);
    for (int i = 0; i < expected.size(); i++) {
      String e = expected.get(i);
      assertThat(decisions.get(i)[0]).as("id of decision %d", i).isEqualTo(id(e));
      assertThat(decisions.get(i)[1])
          .as("rank of request %d under %s", decisions.get(i)[0], policy.cliName())
          .isEqualTo(Long.parseLong(group(RANK, e)));
    }
  }

  private static long id(String line) {
    return Long.parseLong(group(ID, line));
  }

  private static String group(Pattern p, String line) {
    Matcher m = p.matcher(line);
    if (!m.find()) {
      throw new AssertionError(p + " not found in " + line);
    }
    return m.group(1);
  }

  private static long[] tokens(String csv) {
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

  private static List<String> lines(String resource) throws IOException {
    List<String> out = new ArrayList<>();
    try (InputStream in = ParityFixtureTest.class.getResourceAsStream(resource);
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
