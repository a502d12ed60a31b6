#!/usr/bin/env python3
"""Golden vectors for the coordinator's tokenizers, from Megatron-LM's own tokenizer code.

For each tokenizer below, this builds Megatron's tokenizer library class (loaded from a
Megatron-LM checkout: megatron/core/tokenizers/text/libraries/) on the Python packages it uses
(tokenizers/transformers, tiktoken, sentencepiece), and writes what Megatron's coordinator gets:

* tokenize: MegatronTokenizerText.tokenize(text) = library.text_to_ids(text), as the
  coordinator's compute_request_hashes calls it, for every string of strings() below (or the
  error it raises);
* detokenize: TextGenerationController.detokenize(tokenizer, ids, remove_EOD) as the
  coordinator's detokenize calls it: trailing eod ids removed when remove_EOD, then
  MegatronTokenizerText.detokenize(ids, skip_special_tokens=True), which passes
  remove_special_tokens=True to the libraries whose ids_to_text takes it. Both remove_EOD values.

Usage (pip install tokenizers transformers tiktoken sentencepiece):
  python3 generate_golden.py MEGATRON_CHECKOUT TOKENIZER_CACHE OUT_DIR
MEGATRON_CHECKOUT: a Megatron-LM working tree, or a git directory (its HEAD is read).
TOKENIZER_CACHE: .cache/tokenizers (scripts/fetch-tokenizers.sh).
"""
import importlib.util
import inspect
import json
import os
import random
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.join(HERE, "..", "resources", "tokenizers")
LIBRARIES = "megatron/core/tokenizers/text/libraries"


def load_megatron_libraries(checkout):
    """Imports Megatron's tokenizer library modules without the rest of Megatron (or torch)."""
    src = checkout
    revision = "working tree"
    if not os.path.isdir(os.path.join(checkout, LIBRARIES)):
        src = tempfile.mkdtemp()
        names = subprocess.check_output(
            ["git", "--git-dir", checkout, "ls-tree", "--name-only", "HEAD", LIBRARIES + "/"],
            text=True).split()
        os.makedirs(os.path.join(src, LIBRARIES))
        for name in names:
            with open(os.path.join(src, name), "wb") as f:
                f.write(subprocess.check_output(
                    ["git", "--git-dir", checkout, "show", "HEAD:" + name]))
        revision = subprocess.check_output(
            ["git", "--git-dir", checkout, "rev-parse", "HEAD"], text=True).strip()
    for package in ["megatron", "megatron.core", "megatron.core.tokenizers",
                    "megatron.core.tokenizers.text"]:
        sys.modules[package] = types.ModuleType(package)
        sys.modules[package].__path__ = []
    utils = types.ModuleType("megatron.core.utils")
    utils.log_single_rank = lambda *args, **kwargs: None
    sys.modules["megatron.core.utils"] = utils
    sys.modules.setdefault("torch", types.ModuleType("torch"))  # imported, unused on these paths
    sys.modules["torch"].Tensor = type("Tensor", (), {})
    package = types.ModuleType("megatron.core.tokenizers.text.libraries")
    package.__path__ = [os.path.join(src, LIBRARIES)]
    sys.modules[package.__name__] = package

    def module(name):
        full = package.__name__ + "." + name
        spec = importlib.util.spec_from_file_location(
            full, os.path.join(src, LIBRARIES, name + ".py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[full] = mod
        spec.loader.exec_module(mod)
        return mod

    module("abstract_tokenizer")
    module("chat_template")
    return {
        "null": module("null_tokenizer").NullTokenizer,
        "bytes": module("bytelevel_tokenizer").ByteLevelTokenizer,
        "huggingface": module("huggingface_tokenizer").HuggingFaceTokenizer,
        "tiktoken": module("tiktoken_tokenizer").TikTokenTokenizer,
        "sentencepiece": module("sentencepiece_tokenizer").SentencePieceTokenizer,
    }, revision


def megatron_tokenize(library, text):
    """MegatronTokenizerText.tokenize."""
    return [int(i) for i in library.text_to_ids(text)]


def megatron_detokenize(library, ids, remove_eod):
    """TextGenerationController.detokenize(tokenizer, ids, remove_EOD) through the wrapper."""
    eod = getattr(library, "eod", None)
    if remove_eod and eod is not None:
        while ids and ids[-1] == eod:
            ids = ids[:-1]
    parameters = inspect.signature(library.ids_to_text).parameters
    if "remove_special_tokens" in parameters or any(
            p.kind == p.VAR_KEYWORD for p in parameters.values()):
        return library.ids_to_text(ids, remove_special_tokens=True)
    return library.ids_to_text(ids)


SPECIAL_STRINGS = [
    "<|endoftext|>", "a<|endoftext|>b", "<|begin_of_text|>Hi", "<|eot_id|>", "<|start_header_id|>",
    "<|im_start|>user\nhello<|im_end|>\n", "<|im_end|>", "<think>\n</think>", "<s>", "</s>",
    "<s>text</s>", "<unk>", "<pad>", "<mask>", "<SPECIAL_12>", "x<SPECIAL_999>y", "<|endoftext",
]

FIXED_STRINGS = [
    "", " ", "  ", "   ", "\n", "\n\n", "\t", "\r\n", " \n ", "a", "A", "Hello world",
    "Hello, world!", " leading space", "trailing space ", "  both  ", "a    b", "a\tb\tc",
    "line one\nline two\n\nline four", "tabs\t\tand\n\nnewlines\r\n", "ends with newline\n",
    "Größe Straße Übung", "naïve café résumé", "e\u0301", "n\u0303o", "Ａｂｃ full width",
    "协调器把每个请求路由到引擎", "コーディネーター", "Координатор", "مرحبا بالعالم", "नमस्ते दुनिया",
    "สวัสดีชาวโลก", "한국어 텍스트", "Ελληνικά", "עברית", "😀", "😀😀😀", "👍🏽", "👨‍👩‍👧‍👦", "🇩🇪🇫🇷",
    "🏳️‍🌈 flag", "emoji 🎉 in text", "\u200b zero width", "\ufeffBOM", "\u00a0nbsp", "x\u2028y",
    "0", "1", "42", "3.14159", "1,000,000", "-7", "2026-11-29T12:30:00Z", "1e-9",
    "def f(x):\n    return x * 2\n", "for (int i = 0; i < n; i++) {}", "{\"json\": [1, 2, 3]}",
    "https://example.com/a?b=c&d=e#f", "user@example.com", "C:\\path\\to\\file.txt",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ab" * 30, "The quick brown fox jumps over the "
    "lazy dog. " * 4, "I'm, you're, they'll, we've, he'd", "'s 't 're 've 'm 'll 'd",
    "   many   spaces   between   words   ", "\n\n\n\n\n", "!!!???...", "¿¡", "§±©®™",
]

NULL_STRINGS = [
    "1 2 3", "0", "11 325 97", "131071", "131072", "-5", "+5", "007", "1_000", "٣ ٤", "7\n",
    "\t8", "1  2", " 1", "1 ", "", "a", "1.5", "1,2", "999999999999999999999", "-0",
]

PIECES = [
    "the", " the", " coordinator", " engine", " routes", " prefix", " cache", "ing", "ed", " ",
    "  ", "\n", "\t", ",", ".", "!", "?", "'s", " 123", "4567", " ü", "ß", "é", "中", "文",
    "日本", "😀", "👍🏽", "\u200d", "🇺🇸", "<", ">", "|", "</", "s>", "<s>", "</s>", "<|", "|>",
    "endoftext", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>", "\r\n", "   ", "ab",
    "AB", "Zz", "0", "-", "_", "()", "{}", "[]", "#", "@", "€", "£", "½", "\u0301", "ñ", "Ω",
]


def strings():
    rnd = random.Random(20261129)
    generated = []
    for _ in range(220):
        n = rnd.randint(1, 12)
        generated.append("".join(rnd.choice(PIECES) for _ in range(n)))
    return FIXED_STRINGS + SPECIAL_STRINGS + generated


def id_sequences(library, vocab, eod, extra_ids):
    """Id lists to detokenize: tokenizations, random ids, trailing and inner eods, extras."""
    rnd = random.Random(7)
    sequences = []
    for s in strings()[::3]:
        try:
            sequences.append(megatron_tokenize(library, s))
        except Exception:
            pass
    for _ in range(60):
        n = rnd.randint(0, 16)
        sequences.append([rnd.randrange(vocab) for _ in range(n)])
    if eod is not None:
        for base in sequences[:20]:
            sequences.append(base + [eod])
            sequences.append(base + [eod, eod])
            sequences.append([eod] + base + [eod] + base)
        sequences.append([eod])
    for ids in extra_ids:
        sequences.append(ids)
    return sequences


def golden(name, spec, library, vocab, extra_ids=(), texts=None):
    eod = getattr(library, "eod", None)
    out = {"spec": spec, "eod": eod, "tokenize": [], "detokenize": []}
    for text in texts if texts is not None else strings():
        try:
            out["tokenize"].append({"text": text, "ids": megatron_tokenize(library, text)})
        except Exception as e:
            out["tokenize"].append({"text": text, "error": type(e).__name__})
    for ids in id_sequences(library, vocab, eod, extra_ids):
        case = {"ids": ids}
        try:
            case["text"] = megatron_detokenize(library, list(ids), True)
            case["text_keep_eod"] = megatron_detokenize(library, list(ids), False)
        except Exception as e:
            case = {"ids": ids, "error": type(e).__name__}
        out["detokenize"].append(case)
    return name, out


def main():
    checkout, cache, out_dir = sys.argv[1:4]
    # imported before Megatron's modules, so that transformers sees no torch (the stub below)
    import tokenizers
    import transformers
    import transformers.utils.chat_template_utils  # noqa: F401
    import tiktoken
    import sentencepiece
    libraries, revision = load_megatron_libraries(checkout)
    versions = {
        "megatron": revision, "tokenizers": tokenizers.__version__,
        "transformers": transformers.__version__, "tiktoken": tiktoken.__version__,
        "sentencepiece": sentencepiece.__version__,
    }
    tiktoken_file = os.path.join(RESOURCES, "tiktoken-gpt2-5k.json")
    sp_file = os.path.join(RESOURCES, "sentencepiece-tiny.model")
    jobs = [
        golden("null", "null", libraries["null"](vocab_size=131072), 131072,
               extra_ids=[[5, 131071, 7, 131071], [131071, 131071]],
               texts=NULL_STRINGS + FIXED_STRINGS[:12]),
        golden("null-100-eod-3", "null:100,eod=3", libraries["null"](vocab_size=100, eod_id=3),
               100, texts=NULL_STRINGS),
        golden("bytes", "bytes", libraries["bytes"](), 256,
               extra_ids=[[0xe2, 0x82], [0xff, 0x41], [65, 300], [65, 511], [0x41, 0x20, 0x0a],
                          [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xc0, 0xaf, 0x41]]),
        golden("tiktoken-v2", "tiktoken:tiktoken-gpt2-5k.json,vocab-size=6000",
               libraries["tiktoken"](tiktoken_file, vocab_size=6000), 6000,
               extra_ids=[[1000 + 0xe2, 1000 + 0x82], [1000 + 0xff, 1065], [1, 1100, 2, 1200, 2],
                          [999, 1065, 3]]),
        golden("tiktoken-v1", "tiktoken:tiktoken-gpt2-5k.json,pattern=v1,vocab-size=6000",
               libraries["tiktoken"](tiktoken_file, pattern="v1", vocab_size=6000), 6000),
        golden("sentencepiece", "sentencepiece:sentencepiece-tiny.model",
               libraries["sentencepiece"](sp_file), 500),
    ]
    for name in ["gpt2", "qwen3", "llama3"]:
        library = libraries["huggingface"](os.path.join(cache, name))
        size = len(library.tokenizer)
        jobs.append(golden("huggingface-" + name, "huggingface:" + name, library, size,
                           extra_ids=[[size, 0, size + 5], [size + 100]]))
    os.makedirs(out_dir, exist_ok=True)
    for name, data in jobs:
        data["generated_by"] = versions
        with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=True, indent=None)
            f.write("\n")
        print(name, len(data["tokenize"]), "texts,", len(data["detokenize"]), "id lists",
              file=sys.stderr)


if __name__ == "__main__":
    main()
