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
  python3 generate_golden.py MEGATRON_CHECKOUT TOKENIZER_CACHE OUT_DIR [--random SEED COUNT]
--random: COUNT texts (and COUNT random id lists) drawn from SEED instead of the committed ones,
for a campaign beyond them (docs/TOKENIZERS.md, "Random campaigns").
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


# Code point ranges random_strings() draws from: scripts, combining marks, spaces and controls,
# private use, variation selectors, noncharacters, emoji, regional indicators, the astral planes.
RANGES = [(0x20, 0x7E)] * 6 + [
    (0x00, 0x1F), (0x7F, 0x9F), (0xA0, 0xFF), (0x100, 0x24F), (0x300, 0x36F), (0x370, 0x3FF),
    (0x400, 0x4FF), (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F),
    (0x1100, 0x11FF), (0x2000, 0x206F), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
    (0xE000, 0xE0FF), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFF00, 0xFFEF), (0xFFF0, 0xFFFF),
    (0x1F000, 0x1FAFF), (0x1F1E6, 0x1F1FF), (0x10000, 0x10FFFF),
]
SPACES = " \t\n\r\u3000\u00a0\u2009\u0085\u000b\u000c"

# set by --random: the texts and the count of random id lists instead of the committed ones
RANDOM_TEXTS = None
RANDOM_ID_LISTS = 60


def random_strings(seed, count):
    """count texts drawn from seed: PIECES, special tokens, runs of spaces and code points from
    RANGES (no surrogates: they cannot be sent as UTF-8), 1 to 20 parts each, one in 20 texts 50 to
    300 parts."""
    rnd = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rnd.randint(1, 20) if rnd.random() < 0.95 else rnd.randint(50, 300)):
            kind = rnd.random()
            if kind < 0.4:
                parts.append(rnd.choice(PIECES))
            elif kind < 0.45:
                parts.append(rnd.choice(SPECIAL_STRINGS))
            elif kind < 0.5:
                parts.append(rnd.choice(SPACES) * rnd.randint(1, 5))
            else:
                lo, hi = rnd.choice(RANGES)
                points = (rnd.randint(lo, hi) for _ in range(rnd.randint(1, 6)))
                parts.append("".join(chr(c) for c in points if not 0xD800 <= c <= 0xDFFF))
        texts.append("".join(parts))
    return texts


def random_null_strings(seed, count):
    """Texts for NullTokenizer: ints (some out of range, signed, padded) and separators."""
    rnd = random.Random(seed)
    seps = [" ", " ", " ", "  ", "\t", "\n", "", ",", " +"]
    numbers = lambda: str(rnd.choice([rnd.randrange(100), rnd.randrange(1 << 17),
                                      rnd.randrange(1 << 70), -rnd.randrange(10)]))
    return ["".join(numbers() + rnd.choice(seps) for _ in range(rnd.randint(1, 12))).rstrip(" ")
            if rnd.random() < 0.9 else rnd.choice(NULL_STRINGS) for _ in range(count)]


def strings():
    if RANDOM_TEXTS is not None:
        return RANDOM_TEXTS
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
    for _ in range(RANDOM_ID_LISTS):
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
    global RANDOM_TEXTS, RANDOM_ID_LISTS
    if len(sys.argv) not in (4, 7) or (len(sys.argv) == 7 and (
            sys.argv[4] != "--random" or not sys.argv[5].isdigit() or not sys.argv[6].isdigit())):
        sys.exit("usage: generate_golden.py MEGATRON_CHECKOUT TOKENIZER_CACHE OUT_DIR"
                 " [--random SEED COUNT]")
    checkout, cache, out_dir = sys.argv[1:4]
    null_strings = NULL_STRINGS
    if len(sys.argv) == 7:
        seed, count = int(sys.argv[5]), int(sys.argv[6])
        RANDOM_TEXTS = random_strings(seed, count)
        RANDOM_ID_LISTS = count
        null_strings = random_null_strings(seed, count)
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
               texts=null_strings + FIXED_STRINGS[:12]),
        golden("null-100-eod-3", "null:100,eod=3", libraries["null"](vocab_size=100, eod_id=3),
               100, texts=null_strings),
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
