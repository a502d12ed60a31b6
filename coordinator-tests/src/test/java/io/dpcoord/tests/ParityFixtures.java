package io.dpcoord.tests;

import static org.assertj.core.api.Assertions.fail;

import io.dpcoord.routing.Policy;
import io.dpcoord.routing.RouterConfig;
import io.dpcoord.tokenizers.TextTokenizer;
import io.dpcoord.tokenizers.Tokenizers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Routing parity fixtures: traces and the decisions Megatron's coordinator makes on them. The token
 * trace is the routing fixture (copied into {@code interop/}); the text traces, one per tokenizer
 * kind, are {@code text-parity/}, written by {@code src/test/python/generate_text_parity.py} with
 * Megatron's own tokenizer libraries.
 */
final class ParityFixtures {
  private ParityFixtures() {}

  /** The tokenizer kinds of the text traces, as {@code text-parity/kinds.properties} names them. */
  static final List<String> TEXT_KINDS =
      List.of(
          "null",
          "bytes",
          "huggingface-gpt2",
          "huggingface-qwen3",
          "huggingface-llama3",
          "tiktoken",
          "sentencepiece");

  /** Where the spec of a kind names the repository root. */
  private static final String REPO = "{repo}";

  private static final Pattern DECISION =
      Pattern.compile("\"id\":(\\d+),\"rank\":(\\d+)(?:,\"match\":(\\d+))?");

  /**
   * One decision.
   *
   * @param id the request's trace id
   * @param rank the chosen engine's original index
   * @param match the chosen engine's match depth in blocks, or -1 where the file does not say
   */
  record Decision(long id, int rank, int match) {}

  /**
   * The routing the fixtures were recorded with: Megatron's longest-prefix rule, alpha 0.5, 16
   * requests per engine, 16-token blocks (with 4 engines).
   */
  static RouterConfig megatronRouting() {
    return RouterConfig.builder()
        .policy(Policy.LONGEST_PREFIX)
        .alpha(0.5)
        .maxRequests(16)
        .blockSize(16)
        .build();
  }

  /** The text trace of a kind, as a classpath resource name. */
  static String textTrace(String kind) {
    return "/text-parity/" + kind + "-trace.jsonl.gz";
  }

  /** Megatron's decisions on the text trace of a kind, as a classpath resource name. */
  static String textDecisions(String kind) {
    return "/text-parity/" + kind + "-decisions.jsonl.gz";
  }

  /** Opens a gzipped classpath resource. */
  static InputStream openGzip(String resource) throws IOException {
    InputStream raw = ParityFixtures.class.getResourceAsStream(resource);
    if (raw == null) {
      throw new IOException("test resource " + resource + " is missing");
    }
    return new GZIPInputStream(raw);
  }

  /** The decisions of a gzipped decision file, in file order. */
  static List<Decision> decisions(String resource) throws IOException {
    try (InputStream in = openGzip(resource)) {
      return decisions(new String(in.readAllBytes(), StandardCharsets.UTF_8), resource);
    }
  }

  /**
   * Decisions from JSON lines that start {@code {"id":N,"rank":R} or {@code
   * {"id":N,"rank":R,"match":D,...}} (decision files and route-replay's output).
   */
  static List<Decision> decisions(String lines, String source) throws IOException {
    List<Decision> out = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new StringReader(lines))) {
      for (String line; (line = in.readLine()) != null; ) {
        Matcher m = DECISION.matcher(line);
        if (!m.find()) {
          throw new IOException("not a decision line in " + source + ": " + line);
        }
        out.add(
            new Decision(
                Long.parseLong(m.group(1)),
                Integer.parseInt(m.group(2)),
                m.group(3) == null ? -1 : Integer.parseInt(m.group(3))));
      }
    }
    return out;
  }

  /** Tokenizers loaded so far, by kind: the large ones take seconds to load, and are immutable. */
  private static final Map<String, TextTokenizer> LOADED = new ConcurrentHashMap<>();

  /**
   * The coordinator's tokenizer for a text kind: {@code --tokenizer SPEC} as the generator wrote it
   * in {@code kinds.properties}, its files in this repository. A fetched file that is missing fails
   * the test, saying how to fetch it.
   */
  static TextTokenizer tokenizer(String kind) throws IOException {
    TextTokenizer loaded = LOADED.get(kind);
    if (loaded == null) {
      loaded = load(kind);
      LOADED.put(kind, loaded);
    }
    return loaded;
  }

  private static TextTokenizer load(String kind) throws IOException {
    Properties kinds = new Properties();
    try (InputStream in =
        ParityFixtures.class.getResourceAsStream("/text-parity/kinds.properties")) {
      if (in == null) {
        throw new IOException("test resource /text-parity/kinds.properties is missing");
      }
      kinds.load(new InputStreamReader(in, StandardCharsets.UTF_8));
    }
    String spec = kinds.getProperty(kind + ".spec");
    if (spec == null) {
      throw new IOException("kinds.properties has no spec for " + kind);
    }
    int at = spec.indexOf(REPO);
    if (at >= 0) {
      int end = spec.indexOf(',', at);
      String relative = spec.substring(at + REPO.length() + 1, end < 0 ? spec.length() : end);
      Path file = repository().resolve(relative);
      if (!Files.exists(file)) {
        fail(
            "%s is missing: run scripts/fetch-tokenizers.sh (./test does) to fetch the real"
                + " tokenizer files",
            file);
      }
      spec = spec.replace(REPO, repository().toString());
    }
    return Tokenizers.fromSpec(spec);
  }

  /** The repository root: the parent of this module's directory. */
  private static Path repository() {
    return Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath()
        .getParent();
  }
}
