#!/usr/bin/env python3
"""HF reference for the tokenizer package's Unigram model.

Builds tokenizer/testdata/unigram/tiny.tokenizer.json's tokenizer with the
`tokenizers` Python package (Unigram + Metaspace pre-tokenizer and decoder),
encodes a list of strings and writes JSON:

    {"tokenizers_version": ..., "tokenizer": <tokenizer.json as HF saves it>,
     "cases": [{"text", "ids", "tokens", "offsets" (code points), "decoded"}]}

Run anywhere `pip install tokenizers` works (e.g. the GPU machine):

    python3 scripts/refgen/unigram_ref.py > tokenizer/testdata/unigram/reference.json

tokenizer/unigram_test.go (TestUnigramHFReference) checks it when present.
A second, byte-fallback variant is included so that path is covered too.
"""
import json
import sys

import tokenizers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

VOCAB = [
    ("<unk>", 0.0), ("▁", -2.0), ("a", -3.0), ("b", -3.0), ("ab", -4.0),
    ("▁ab", -4.5), ("c", -5.0), ("abc", -7.0), ("▁a", -3.5), ("▁c", -4.0),
    ("ca", -4.2),
]

STRINGS = [
    "ab", "abc", "abd", "dd", "ca b", "", " ", "  ab  c ", "abcabc", "cab ab",
    "a b c", "bbbb", "ABC", "é", "ab\ncd", "日本", "ab  ", "c a b a b c",
]


def build(byte_fallback):
    vocab = list(VOCAB)
    if byte_fallback:
        vocab += [("<0x%02X>" % b, -8.0) for b in range(256)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=0, byte_fallback=byte_fallback))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.add_special_tokens(["<unk>"])
    return tok


def cases(tok):
    out = []
    for s in STRINGS:
        enc = tok.encode(s, add_special_tokens=False)
        out.append({
            "text": s,
            "ids": enc.ids,
            "tokens": enc.tokens,
            "offsets": [list(o) for o in enc.offsets],
            "decoded": tok.decode(enc.ids, skip_special_tokens=False),
        })
    return out


def main():
    res = []
    for fb in (False, True):
        tok = build(fb)
        res.append({
            "byte_fallback": fb,
            "tokenizer": json.loads(tok.to_str()),
            "cases": cases(tok),
        })
    # The first variant is the one the Go test reads at top level.
    doc = {"tokenizers_version": tokenizers.__version__, **res[0], "byte_fallback_variant": res[1]}
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
