package io.dpcoord.cli;

import io.dpcoord.tokenizers.TextTokenizer;
import io.dpcoord.tokenizers.Tokenizers;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --tokenizer SPEC}: the engines' tokenizer, for the commands that handle text. */
final class TokenizerOption {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(
      names = "--tokenizer",
      paramLabel = "SPEC",
      description = {
        "The engines' tokenizer, as Megatron's --tokenizer-type/--tokenizer-model name it:"
            + " null[:VOCAB_SIZE][,eod=ID], bytes, huggingface:PATH[,no-special-tokens],"
            + " tiktoken:PATH[,pattern=v1|v2][,vocab-size=N][,num-special-tokens=N],"
            + " sentencepiece:PATH (docs/TOKENIZERS.md)."
      })
  String spec;

  /** The tokenizer the flag names, or null when it is not given; a bad spec is a usage error. */
  TextTokenizer load() {
    if (spec == null) {
      return null;
    }
    try {
      return Tokenizers.fromSpec(spec);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(mixee.commandLine(), "--tokenizer: " + e.getMessage());
    }
  }
}
