#!/usr/bin/env python3
"""HF references for the tokenizer package's components.

Builds small tokenizers with the `tokenizers` Python package (models trained
on a fixed corpus, so the files are self-contained), each combining
normalizers, pre-tokenizers, post-processors, decoders and added-token flags
that the real Qwen3/Llama 3/Gemma 3 files do not use, encodes a list of
strings and writes JSON:

    {"tokenizers_version": ..., "tokenizers": [
        {"name", "tokenizer": <tokenizer.json>, "cases": [
            {"text", "ids", "tokens", "offsets" (code points), "type_ids",
             "special_tokens_mask", "attention_mask", "ids_no_special",
             "decoded", "decoded_skip_special"}]}]}

    python3 scripts/refgen/tokenizer_components_ref.py > tokenizer/testdata/components/reference.json

tokenizer/components_test.go checks every case.
"""
import json
import sys

import tokenizers
from tokenizers import (AddedToken, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! How's it going? I'm fine, thanks.",
    "Naïve café owners résumé: 12 345 678 apples, 3.14 pies!",
    "def add(a, b):\n    return a + b  # sum",
    "Ünïcödé ÑOÑO çava ﬁne ligatures and ℌ𝔢𝔩𝔩𝔬 fancy letters",
    "東京都 渋谷区 我爱自然语言处理 한국어 텍스트 Русский текст",
    "email: someone@example.org, url https://example.com/a?b=1",
    "emoji 😀🎉 and tabs\tand\nnewlines",
] * 20

STRINGS = [
    "Hello world", " Hello  world ", "hello, WORLD!", "The quick brown fox.",
    "Naïve café résumé", "ÜNÏCÖDÉ", "ﬁne ℌ𝔢𝔩𝔩𝔬", "12345 and 3.14", "東京都渋谷区",
    "我爱自然语言处理", "unknownwordxyz", "tabs\tand\nnewlines", "", " ", "a",
    "[MASK] is here", "the [MASK]", "<special>x</special>", "word<special> y",
    "x <sw> y", "x<sw>y", "don't stop", "emoji 😀🎉 yes", "a\u00a0b\u3000c",
    "cafe\u0301 A\u030a", "①② ｈｅｌｌｏ", "x\u0301\u0323y", "Ǆ ǅ ǆ",
]


def trained_wordpiece():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=12))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tr = trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(CORPUS, tr)
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")),
                                                   ("[CLS]", tok.token_to_id("[CLS]")))
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tok.add_special_tokens([AddedToken("[MASK]", lstrip=True, single_word=False, normalized=False)])
    tok.enable_truncation(max_length=12)
    tok.enable_padding(length=16, pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]")
    return tok


def trained_bpe_whitespace():
    tok = Tokenizer(models.BPE(unk_token="<unk>", continuing_subword_prefix="##"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(),
                                           normalizers.NFD(), normalizers.StripAccents(),
                                           normalizers.Replace("ß", "ss")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(),
                                                 pre_tokenizers.Digits(individual_digits=True)])
    tr = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"],
                             continuing_subword_prefix="##")
    tok.train_from_iterator(CORPUS, tr)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tok.add_tokens([AddedToken("<sw>", single_word=True, normalized=True)])
    tok.add_special_tokens([AddedToken("<special>", rstrip=True, normalized=False)])
    return tok


def trained_bytelevel_roberta():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    tr = trainers.BpeTrainer(vocab_size=500, special_tokens=["<s>", "</s>", "<pad>", "<unk>", "<mask>"],
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, tr)
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")),
                                                      ("<s>", tok.token_to_id("<s>")),
                                                      trim_offsets=True, add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True)])
    return tok


def trained_metaspace_bpe():
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tr = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)])
    tok.train_from_iterator(CORPUS, tr)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(content=" ", left=1, right=0)])
    return tok


def trained_misc_pretok():
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.Strip(left=True, right=True), normalizers.NFC()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Punctuation(behavior="contiguous"),
        pre_tokenizers.Split(pattern="o", behavior="merged_with_previous"),
        pre_tokenizers.Split(pattern=tokenizers.Regex(r"\d"), behavior="merged_with_next"),
        pre_tokenizers.CharDelimiterSplit("x"),
    ])
    tr = trainers.WordLevelTrainer(vocab_size=200, special_tokens=["<unk>"])
    tok.train_from_iterator(CORPUS, tr)
    return tok


def trained_metaspace_pretok():
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    tr = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<sep>"])
    tok.train_from_iterator(CORPUS, tr)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    tok.add_special_tokens(["<sep>"])
    return tok


def cases(tok):
    out = []
    for s in STRINGS:
        enc = tok.encode(s)
        plain = tok.encode(s, add_special_tokens=False)
        out.append({
            "text": s,
            "ids": enc.ids,
            "tokens": enc.tokens,
            "offsets": [list(o) for o in enc.offsets],
            "type_ids": enc.type_ids,
            "special_tokens_mask": enc.special_tokens_mask,
            "attention_mask": enc.attention_mask,
            "ids_no_special": plain.ids,
            "decoded": tok.decode(plain.ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(enc.ids, skip_special_tokens=True),
        })
    return out


def main():
    res = []
    for name, build in [("wordpiece_bert", trained_wordpiece), ("bpe_whitespace", trained_bpe_whitespace),
                        ("bytelevel_roberta", trained_bytelevel_roberta), ("metaspace_bpe", trained_metaspace_bpe),
                        ("wordlevel_misc", trained_misc_pretok), ("metaspace_pretok", trained_metaspace_pretok)]:
        tok = build()
        res.append({"name": name, "tokenizer": json.loads(tok.to_str()), "cases": cases(tok)})
    json.dump({"tokenizers_version": tokenizers.__version__, "tokenizers": res}, sys.stdout,
              ensure_ascii=False, indent=None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
