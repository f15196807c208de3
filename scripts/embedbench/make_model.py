"""Synthetic all-MiniLM-L6-v2-shaped encoder for `rlx embed` benchmarks.

Writes, with random weights (seeded) and a synthetic WordPiece vocabulary:
  OUT/st/            a sentence-transformers folder: config.json, model.safetensors (F32),
                     tokenizer.json (WordPiece, BERT normalizer/pre-tokenizer, [CLS] $A [SEP]),
                     modules.json, 1_Pooling/config.json (mean), sentence_bert_config.json,
                     2_Normalize/
  OUT/minilm-f32.gguf, OUT/minilm-f16.gguf
                     the same weights as llama.cpp's converter lays BERT out (arch "bert",
                     tokenizer model "bert": phantom-space WordPiece tokens, mean pooling)
  OUT/sentences.txt  N sentences of 5-60 words drawn from the vocabulary's words

Needs numpy and llama.cpp's gguf-py (PYTHONPATH=/work/llama.cpp/gguf-py); no torch.
    python3 scripts/embedbench/make_model.py --out /tmp/minilm
Small variant for tests: --hidden 64 --layers 2 --heads 4 --inter 128 --vocab 512.
"""
import argparse
import json
import os
import struct

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def make_vocab(n, rng):
    # Specials, single characters and their ## forms, then pseudo-words and ## suffixes.
    vocab = list(SPECIAL)
    for ch in LETTERS + "0123456789.,!?'-":
        vocab.append(ch)
    for ch in LETTERS + "0123456789":
        vocab.append("##" + ch)
    seen = set(vocab)
    while len(vocab) < n:
        k = int(rng.integers(2, 9))
        w = "".join(LETTERS[i] for i in rng.integers(0, 26, k))
        if rng.random() < 0.3:
            w = "##" + w[: max(2, k // 2)]
        if w not in seen:
            seen.add(w)
            vocab.append(w)
    return vocab


def tokenizer_json(vocab, max_len):
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in enumerate(SPECIAL)],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [i], "tokens": [t]} for i, t in enumerate(SPECIAL) if t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}},
    }


def weights(cfg, rng):
    H, I, V, P, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["max_position_embeddings"], cfg["num_hidden_layers"]
    w = {}

    def mat(name, *shape):
        w[name] = (rng.standard_normal(shape) * 0.05).astype(np.float32)

    def vec(name, n, base):
        w[name] = (base + rng.standard_normal(n) * 0.05).astype(np.float32)

    mat("embeddings.word_embeddings.weight", V, H)
    mat("embeddings.position_embeddings.weight", P, H)
    mat("embeddings.token_type_embeddings.weight", 2, H)
    vec("embeddings.LayerNorm.weight", H, 1.0)
    vec("embeddings.LayerNorm.bias", H, 0.0)
    for l in range(L):
        p = f"encoder.layer.{l}."
        for n in ("query", "key", "value"):
            mat(p + f"attention.self.{n}.weight", H, H)
            vec(p + f"attention.self.{n}.bias", H, 0.0)
        mat(p + "attention.output.dense.weight", H, H)
        vec(p + "attention.output.dense.bias", H, 0.0)
        vec(p + "attention.output.LayerNorm.weight", H, 1.0)
        vec(p + "attention.output.LayerNorm.bias", H, 0.0)
        mat(p + "intermediate.dense.weight", I, H)
        vec(p + "intermediate.dense.bias", I, 0.0)
        mat(p + "output.dense.weight", H, I)
        vec(p + "output.dense.bias", H, 0.0)
        vec(p + "output.LayerNorm.weight", H, 1.0)
        vec(p + "output.LayerNorm.bias", H, 0.0)
    mat("pooler.dense.weight", H, H)
    vec("pooler.dense.bias", H, 0.0)
    return w


def save_safetensors(path, tensors):
    header, off, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


GGUF_NAMES = [
    ("embeddings.word_embeddings", "token_embd"), ("embeddings.position_embeddings", "position_embd"),
    ("embeddings.token_type_embeddings", "token_types"), ("embeddings.LayerNorm", "token_embd_norm"),
    ("attention.self.query", "attn_q"), ("attention.self.key", "attn_k"), ("attention.self.value", "attn_v"),
    ("attention.output.dense", "attn_output"), ("attention.output.LayerNorm", "attn_output_norm"),
    ("intermediate.dense", "ffn_up"), ("output.dense", "ffn_down"), ("output.LayerNorm", "layer_output_norm"),
]


def gguf_name(hf):
    if hf.startswith("pooler."):
        return None
    stem, suffix = hf.rsplit(".", 1)
    if stem.startswith("encoder.layer."):
        rest = stem[len("encoder.layer."):]
        l, rest = rest.split(".", 1)
        for a, b in GGUF_NAMES:
            if rest == a:
                return f"blk.{l}.{b}.{suffix}"
    for a, b in GGUF_NAMES:
        if stem == a:
            return f"{b}.{suffix}"
    raise KeyError(hf)


def save_gguf(path, cfg, tensors, vocab, f16):
    import gguf
    w = gguf.GGUFWriter(path, "bert")
    w.add_name("synthetic-minilm")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_layer_norm_eps(cfg["layer_norm_eps"])
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType.MEAN)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("bert")
    w.add_tokenizer_pre("default")
    types = [gguf.TokenType.CONTROL if t in SPECIAL else gguf.TokenType.NORMAL for t in vocab]
    toks = [t if t in SPECIAL else (t[2:] if t.startswith("##") else "\u2581" + t) for t in vocab]
    w.add_token_list(toks)
    w.add_token_types(types)
    w.add_token_type_count(2)
    w.add_unk_token_id(1)
    w.add_sep_token_id(3)
    w.add_pad_token_id(0)
    w.add_bos_token_id(2)
    w.add_mask_token_id(4)
    w.add_add_bos_token(True)
    w.add_add_sep_token(True)
    for name in sorted(tensors):
        g = gguf_name(name)
        if g is None:
            continue
        a = tensors[name]
        if f16 and a.ndim == 2 and not g.startswith("token_types"):
            a = a.astype(np.float16)
        w.add_tensor(g, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--inter", type=int, default=1536)
    ap.add_argument("--vocab", type=int, default=30522)
    ap.add_argument("--positions", type=int, default=512)
    ap.add_argument("--max-seq", type=int, default=256)
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--no-gguf", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    vocab = make_vocab(args.vocab, rng)
    cfg = {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
           "hidden_size": args.hidden, "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
           "intermediate_size": args.inter, "vocab_size": args.vocab, "max_position_embeddings": args.positions,
           "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0, "position_embedding_type": "absolute"}
    st = os.path.join(args.out, "st")
    os.makedirs(os.path.join(st, "1_Pooling"), exist_ok=True)
    os.makedirs(os.path.join(st, "2_Normalize"), exist_ok=True)
    with open(os.path.join(st, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    tensors = weights(cfg, rng)
    save_safetensors(os.path.join(st, "model.safetensors"), tensors)
    with open(os.path.join(st, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(vocab, args.max_seq), f)
    with open(os.path.join(st, "modules.json"), "w") as f:
        json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                   {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}], f, indent=1)
    with open(os.path.join(st, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": args.hidden, "pooling_mode_cls_token": False,
                   "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                   "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
                   "pooling_mode_lasttoken": False, "include_prompt": True}, f, indent=1)
    with open(os.path.join(st, "sentence_bert_config.json"), "w") as f:
        json.dump({"max_seq_length": args.max_seq, "do_lower_case": False}, f)
    words = [t for t in vocab if t not in SPECIAL and not t.startswith("##") and len(t) > 1]
    with open(os.path.join(args.out, "sentences.txt"), "w") as f:
        for _ in range(args.sentences):
            n = int(rng.integers(5, 61))
            f.write(" ".join(words[i] for i in rng.integers(0, len(words), n)) + ".\n")
    if not args.no_gguf:
        save_gguf(os.path.join(args.out, "minilm-f32.gguf"), cfg, tensors, vocab, False)
        save_gguf(os.path.join(args.out, "minilm-f16.gguf"), cfg, tensors, vocab, True)


if __name__ == "__main__":
    main()
