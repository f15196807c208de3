#!/usr/bin/env python3
"""HF reference ids for the real Qwen3, Llama 3 and Gemma 3 tokenizers on
random strings built from the characters where split regexes, added tokens
and byte fallback are easiest to get wrong (white space of every kind,
newlines, apostrophes and contractions in both cases, digits of several
scripts, punctuation, combining marks, emoji, special-token text).

    python3 scripts/refgen/tokenizer_stress_ref.py > tokenizer/testdata/hf/stress.json
    gzip -9n tokenizer/testdata/hf/stress.json

Reads tokenizer/testdata/hf/<name>.tokenizer.json.gz (run from the repository
root). With arguments name=path/tokenizer.json.gz it encodes those tokenizers
instead, on the 66 fixture strings as well, with ids with special tokens,
offsets and decodes (tokenizer/testdata/hf/more.json.gz). Output: {"tokenizers_version", "seed", "cases": {name: [{"text", "ids"}]}}
with ids = Tokenizer.encode(text, add_special_tokens=False).ids.
"""
import gzip
import json
import random
import sys

import tokenizers

SEED = 20261122
PIECES = [
    " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\u00a0", "\u2009", "\u3000", "\u200b",
    "a", "Z", "hello", "World", "é", "e\u0301", "ß", "İ", "ſ", "日本", "한", "ж", "ا", "न",
    "1", "12", "123", "1234", "٣", "½", "Ⅻ", "'", "'s", "'S", "'ll", "'LL", "'re", "'Ve", "'d", "'m", "'t",
    ".", ",", "!?", "...", "-", "_", "(", ")", "[", "]", "{", "}", "\"", "`", "#", "$", "€", "/", "\\",
    "😀", "👍🏽", "🇫🇷", "👩‍💻", "\u0300", "\ufffd", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>",
    "<bos>", "<start_of_turn>", "<think>", "</think>", "<0x41>", "▁", "Ġ",
]


def main():
    # Optional arguments name=path.json.gz add tokenizers; then every case
    # also carries ids with special tokens and code-point offsets, and the
    # 66 fixture strings (tokenizer/testdata/hf/qwen3.expected.json.gz) are
    # encoded too.
    rng = random.Random(SEED)
    texts = []
    for _ in range(600):
        n = rng.randint(1, 24)
        texts.append("".join(rng.choice(PIECES) for _ in range(n)))
    files = {name: f"tokenizer/testdata/hf/{name}.tokenizer.json.gz" for name in ("qwen3", "llama3", "gemma3")}
    full = len(sys.argv) > 1
    if full:
        files = dict(a.split("=", 1) for a in sys.argv[1:])
        with gzip.open("tokenizer/testdata/hf/qwen3.expected.json.gz", "rt", encoding="utf-8") as f:
            texts = [c["text"] for c in json.load(f)["cases"]] + texts
    out = {"tokenizers_version": tokenizers.__version__, "seed": SEED, "cases": {}}
    for name, path in files.items():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            tok = tokenizers.Tokenizer.from_str(f.read())
        cases = []
        for t in texts:
            enc = tok.encode(t, add_special_tokens=False)
            c = {"text": t, "ids": enc.ids}
            if full:
                c["ids_special"] = tok.encode(t).ids
                c["offsets"] = [list(o) for o in enc.offsets]
                c["decoded"] = tok.decode(enc.ids, skip_special_tokens=False)
            cases.append(c)
        out["cases"][name] = cases
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
