#!/usr/bin/env python3
"""Builds the two small tokenizer files committed for the tokenizer tests.

* tiktoken-gpt2-5k.json: a vocabulary in the format of Megatron's TikTokenizer (a JSON list of
  {"rank", "token_bytes" (base64), "token_str"}, rank = index, the 256 single bytes first),
  made from GPT-2's byte-level BPE vocabulary (MIT): the 256 bytes, then GPT-2's first 4,744
  multi-byte tokens in GPT-2's own order. Use it with vocab-size=6000 (1,000 special tokens).
* sentencepiece-tiny.model: a SentencePiece unigram model (vocabulary 500, byte fallback),
  trained with Python's sentencepiece on the corpus below.

  python3 make_test_vocabularies.py GPT2_TOKENIZER_JSON OUT_DIR
(GPT2_TOKENIZER_JSON: .cache/tokenizers/gpt2/tokenizer.json, from scripts/fetch-tokenizers.sh)
"""
import base64
import io
import json
import sys

MERGED = 4744


def bytes_to_unicode():
    """GPT-2's byte <-> printable character table (from its encoder.py)."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def tiktoken_vocab(gpt2_json):
    vocab = json.load(open(gpt2_json, encoding="utf-8"))["model"]["vocab"]
    decode = {c: b for b, c in bytes_to_unicode().items()}
    entries = [bytes([i]) for i in range(256)]
    for token, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
        raw = bytes(decode[c] for c in token)
        if len(raw) > 1:
            entries.append(raw)
        if len(entries) == 256 + MERGED:
            break
    return [
        {"rank": i, "token_bytes": base64.b64encode(b).decode("ascii"),
         "token_str": b.decode("utf-8", errors="replace")}
        for i, b in enumerate(entries)
    ]


CORPUS = [
    "The coordinator routes every request to the engine most likely to hold its prompt prefix.",
    "Engines come and go; every accepted request gets exactly one terminal reply.",
    "Der Koordinator verteilt Anfragen an die Engines. Größe, Straße, Übung, Äpfel.",
    "Le coordinateur répartit les requêtes entre les moteurs. Où est la bibliothèque ?",
    "El coordinador reparte las peticiones. ¿Dónde está la estación? Año, niño.",
    "协调器把每个请求路由到最可能持有其前缀缓存的引擎。",
    "コーディネーターはリクエストをエンジンに振り分けます。",
    "Координатор направляет каждый запрос к движку.",
    "def route(request):\n    return min(engines, key=lambda e: e.pending)\n",
    "for (int i = 0; i < n; i++) { sum += tokens[i]; }",
    "1 2 3 4 5 6 7 8 9 10 100 1000 3.14159 2026-11-29 12:30:00",
    "Hello, world! How are you today? I'm fine, thanks.",
    "tabs\tand  double  spaces   and\nnew\nlines",
]


def sentencepiece_model():
    import sentencepiece as spm
    text = "\n".join(CORPUS * 20)
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(text.split("\n")), model_writer=out, vocab_size=500,
        model_type="unigram", byte_fallback=True, character_coverage=1.0, num_threads=1,
        seed_sentencepiece_size=10000, minloglevel=2)
    return out.getvalue()


def main():
    gpt2_json, out_dir = sys.argv[1], sys.argv[2]
    with open(f"{out_dir}/tiktoken-gpt2-5k.json", "w", encoding="utf-8") as f:
        json.dump(tiktoken_vocab(gpt2_json), f, ensure_ascii=True)
    with open(f"{out_dir}/sentencepiece-tiny.model", "wb") as f:
        f.write(sentencepiece_model())


if __name__ == "__main__":
    main()
