package io.dpcoord.bench;

import io.dpcoord.tokenizers.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the coordinator's tokenizer workers pay per 1,000 tokens: tokenizing a text prompt (for its
 * block hashes), detokenizing ids, and {@link TextTokenizer#generatedText} with the trailing eod
 * removed (what fills a finished record's {@code generated_text}).
 *
 * <p>The text is cut from a corpus of mixed English, code and other languages so that each
 * tokenizer turns it into 1,000 ids (exactly where a cut gives that count; the setup prints the
 * count). The detokenize input is those ids; the generatedText input the same ids followed by the
 * tokenizer's eod. Specs name files relative to the repository root: run from the root, or pass
 * {@code -jvmArgsAppend -Ddpcoord.root=DIR}; options after the path are separated by {@code ;} (JMH
 * splits {@code -p} values at commas). A spec that does not load fails its runs with the reason,
 * printed with the stack trace; add {@code -foe true} to stop there with exit status 1. Run: {@code
 * java -jar coordinator-bench/target/benchmarks.jar TokenizerBenchmark -foe true}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TokenizerBenchmark {
  /** Tokens in the input text. */
  static final int TOKENS = 1000;

  /** The tokenizer, as {@code --tokenizer} takes it. */
  @Param({
    "null",
    "bytes",
    "huggingface:.cache/tokenizers/qwen3",
    "huggingface:.cache/tokenizers/llama3",
    "huggingface:.cache/tokenizers/gpt2",
    "tiktoken:coordinator-tokenizers/src/test/resources/tokenizers/tiktoken-gpt2-5k.json;"
        + "vocab-size=6000",
    "sentencepiece:coordinator-tokenizers/src/test/resources/tokenizers/sentencepiece-tiny.model"
  })
  public String spec;

  private TextTokenizer tokenizer;
  private String text;
  private long[] ids;
  private long[] generated;

  /** Loads the tokenizer and cuts the text; prints what the inputs are. */
  @Setup
  public void setUp() {
    tokenizer = BenchTexts.load(spec, BenchTexts.root());
    text = BenchTexts.textOfTokens(tokenizer, BenchTexts.isNull(spec), TOKENS);
    ids = tokenizer.tokenize(text);
    generated = BenchTexts.withEod(tokenizer, ids);
    String back = tokenizer.generatedText(generated, true);
    System.out.printf(
        Locale.ROOT,
        "%nTokenizerBenchmark input for %s: %d tokens from %d chars (%d UTF-8 bytes); "
            + "eod %d; generatedText gives %d chars%n",
        spec,
        ids.length,
        text.length(),
        text.getBytes(StandardCharsets.UTF_8).length,
        tokenizer.eod(),
        back.length());
  }

  /** The text prompt to ids, as a tokenizer worker does before hashing. */
  @Benchmark
  public long[] tokenize() {
    return tokenizer.tokenize(text);
  }

  /** The ids back to text. */
  @Benchmark
  public String detokenize() {
    return tokenizer.detokenize(ids);
  }

  /** The ids and a trailing eod to text with the eod removed, as a finished record gets it. */
  @Benchmark
  public String generatedText() {
    return tokenizer.generatedText(generated, true);
  }
}
