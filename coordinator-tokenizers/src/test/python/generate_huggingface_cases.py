#!/usr/bin/env python3
"""Expected values for HuggingFaceTokenizerTest, from Megatron-LM's HuggingFaceTokenizer library.

* no-special-tokens: MegatronTokenizerText.tokenize(text) with --tokenizer-hf-no-include-special-tokens,
  i.e. convert_tokens_to_ids(tokenizer.tokenize(text)), for the real tokenizers of
  scripts/fetch-tokenizers.sh and a few texts;
* two tiny tokenizers written here (src/test/resources/huggingface/{legacy,bert}) whose config files
  exercise what transformers and Megatron make of the special tokens: special_tokens_map.json (read
  only without added_tokens_decoder), additional/extra special tokens, model-specific *_token keys,
  special tokens missing from tokenizer.json (transformers adds them), sep/eos and bos/cls fix-ups,
  a post-processor that adds tokens, an added token flagged special that is not in
  all_special_tokens. For each: eod, len(tokenizer), all_special_tokens, tokenize with and without
  special tokens, detokenize (ids_to_text with remove_special_tokens=True).

Usage (pip install tokenizers transformers; run from anywhere):
  python3 generate_huggingface_cases.py MEGATRON_CHECKOUT TOKENIZER_CACHE
MEGATRON_CHECKOUT, TOKENIZER_CACHE: as for generate_golden.py (whose Megatron loader this uses).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "resources", "huggingface")
sys.path.insert(0, HERE)

TEXTS = [
    "", "Hello world", "  two  spaces\n\nnewlines\t", "<|endoftext|>", "a<|endoftext|>b",
    "<|begin_of_text|>Hi<|end_of_text|>", "<|im_start|>user\nhi<|im_end|>", "x\x00y",
    "naïve café 协调器 😀👍🏽", "def f(x):\n    return x * 2\n", "<s>text</s>",
]

FIXTURE_TEXTS = [
    "", "hello world", "hello<s>world", "<pad> hello", "<img><extra><extra2>", "foo bar baz",
    "[CLS] hello [SEP]", "playing worlds", "<note> <sys> hello", "HELLO", "hello</s>",
    "<mask>", "[MASK] world",
]


def added(content, id_, special=True, normalized=False):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": normalized, "special": special}


def write_fixture(name, tokenizer, files):
    directory = os.path.join(OUT, name)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tokenizer.to_str(pretty=True) + "\n")
    for file, content in files.items():
        with open(os.path.join(directory, file), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2)
            f.write("\n")
    return directory


def legacy_fixture():
    """Word-level, no decoder, "<s> $A </s>"; config without added_tokens_decoder."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "<s>": 3, "</s>": 4, "<mask>": 5, "foo": 6,
             "bar": 7}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 3), ("</s>", 4)])
    tokenizer.add_special_tokens(["</s>"])
    return write_fixture("legacy", tokenizer, {
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
            "pad_token": "<pad>", "unk_token": None, "additional_special_tokens": ["<extra>"],
            "image_token": "<img>", "model_max_length": 512,
        },
        "special_tokens_map.json": {
            "mask_token": {"content": "<mask>", "lstrip": False, "normalized": False,
                           "rstrip": False, "single_word": False},
            "additional_special_tokens": ["<extra2>"],
        },
    })


def bert_fixture():
    """WordPiece, "[CLS] $A [SEP]"; config with added_tokens_decoder, no bos or eos."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "hello": 5, "world": 6,
             "##s": 7, "play": 8, "##ing": 9}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    tokenizer.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<sys>"])
    tokenizer.add_tokens(["<note>"])
    decoder = {str(t["id"]): {k: v for k, v in t.items() if k != "id"}
               for t in json.loads(tokenizer.to_str())["added_tokens"]}
    return write_fixture("bert", tokenizer, {
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast", "added_tokens_decoder": decoder,
            "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
            "mask_token": {"__type": "AddedToken", "content": "[MASK]", "lstrip": False,
                           "normalized": False, "rstrip": False, "single_word": False,
                           "special": True},
            "extra_special_tokens": ["<tool>"], "do_lower_case": True,
        },
        # ignored: the config has added_tokens_decoder
        "special_tokens_map.json": {"mask_token": "<ignored>", "bos_token": "<ignored>"},
    })


def main():
    checkout, cache = sys.argv[1:3]
    import tokenizers
    import transformers
    import transformers.utils.chat_template_utils  # noqa: F401
    from generate_golden import load_megatron_libraries, megatron_detokenize, megatron_tokenize
    libraries, revision = load_megatron_libraries(checkout)
    library = libraries["huggingface"]
    out = {"generated_by": {"megatron": revision, "tokenizers": tokenizers.__version__,
                            "transformers": transformers.__version__},
           "no_special_tokens": {}, "fixtures": {}}
    for name in ["gpt2", "qwen3", "llama3"]:
        plain = library(os.path.join(cache, name), include_special_tokens=False)
        out["no_special_tokens"][name] = [
            {"text": t, "ids": megatron_tokenize(plain, t)} for t in TEXTS]
    for directory in [legacy_fixture(), bert_fixture()]:
        with_special = library(directory)
        plain = library(directory, include_special_tokens=False)
        size = len(with_special.tokenizer)
        id_lists = [list(range(size + 2)), [size + 50, 0, 1], [1, 2, 3, 4], [5, 6, 7, 8, 9, 10, 11]]
        id_lists += [megatron_tokenize(with_special, t) for t in FIXTURE_TEXTS]
        out["fixtures"][os.path.basename(directory)] = {
            "eod": with_special.eod,
            "size": size,
            "all_special_tokens": sorted(with_special.tokenizer.all_special_tokens),
            "tokenize": [{"text": t, "ids": megatron_tokenize(with_special, t),
                          "ids_no_special_tokens": megatron_tokenize(plain, t)}
                         for t in FIXTURE_TEXTS],
            "detokenize": [{"ids": ids, "text": megatron_detokenize(with_special, ids, False)}
                           for ids in id_lists],
        }
    with open(os.path.join(OUT, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
