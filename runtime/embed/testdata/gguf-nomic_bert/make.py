"""NomicBERT as llama.cpp runs it: converts the repository's HF NomicBertModel fixture
(testdata/fixtures/hf-nomic_bert) to a GGUF of architecture "nomic-bert" with llama.cpp's tensor
names and a synthetic WordPiece vocabulary (tokenizer model "bert": token 1 [CLS], 2 [SEP], words
for the other ids), then embeds each fixture row with llama.cpp's llama-embedding (mean pooling,
no normalisation) and records the vectors.

llama.cpp's own convert_hf_to_gguf.py needs torch, which this machine lacks; this script lays
the file out as that converter's NomicBertModel does (same names, same metadata keys).

    PYTHONPATH=/work/llama.cpp/gguf-py python3 runtime/embed/testdata/gguf-nomic_bert/make.py
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..", "..", "..", "testdata", "fixtures", "hf-nomic_bert")
LLAMA = os.environ.get("LLAMA", "/work/llama.cpp/build/bin/llama-embedding")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[k] = np.frombuffer(data[a:b], dtype=dt).reshape(v["shape"])
    return out


def word(i):
    s = ""
    while True:
        s = chr(ord("a") + i % 26) + s
        i //= 26
        if i == 0:
            break
    return "w" + s


RULES = [("embeddings.word_embeddings", "token_embd"), ("embeddings.token_type_embeddings", "token_types"),
         ("emb_ln", "token_embd_norm"), ("attn.Wqkv", "attn_qkv"), ("attn.out_proj", "attn_output"),
         ("norm1", "attn_output_norm"), ("mlp.fc11", "ffn_up"), ("mlp.fc12", "ffn_gate"), ("mlp.fc2", "ffn_down"),
         ("norm2", "layer_output_norm")]


def gguf_name(hf):
    stem, suffix = hf.rsplit(".", 1)
    if stem.startswith("encoder.layers."):
        l, rest = stem[len("encoder.layers."):].split(".", 1)
        return f"blk.{l}." + dict(RULES)[rest] + "." + suffix
    return dict(RULES)[stem] + "." + suffix


def main():
    cfg = json.load(open(os.path.join(SRC, "config.json")))
    w = read_safetensors(os.path.join(SRC, "model.safetensors"))
    ref = read_safetensors(os.path.join(SRC, "reference.safetensors"))
    V, H = cfg["vocab_size"], cfg["hidden_size"]
    special = {0: "[PAD]", 1: "[CLS]", 2: "[SEP]", 3: "[UNK]", 4: "[MASK]"}
    vocab = [special.get(i, word(i)) for i in range(V)]
    out = os.path.join(HERE, "nomic-bert-f32.gguf")
    g = gguf.GGUFWriter(out, "nomic-bert")
    g.add_name("tiny-nomic-bert")
    g.add_context_length(cfg["max_position_embeddings"])
    g.add_embedding_length(H)
    g.add_block_count(cfg["num_hidden_layers"])
    g.add_feed_forward_length(cfg["intermediate_size"])
    g.add_head_count(cfg["num_attention_heads"])
    g.add_layer_norm_eps(cfg["layer_norm_eps"])
    g.add_rope_freq_base(cfg["rope_parameters"]["rope_theta"])
    g.add_causal_attention(False)
    g.add_pooling_type(gguf.PoolingType.MEAN)
    g.add_file_type(gguf.LlamaFileType.ALL_F32)
    g.add_tokenizer_model("bert")
    g.add_tokenizer_pre("default")
    g.add_token_list([t if t.startswith("[") else "\u2581" + t for t in vocab])
    g.add_token_types([gguf.TokenType.CONTROL if t.startswith("[") else gguf.TokenType.NORMAL for t in vocab])
    g.add_token_type_count(cfg["type_vocab_size"])
    g.add_bos_token_id(1)
    g.add_sep_token_id(2)
    g.add_pad_token_id(0)
    g.add_unk_token_id(3)
    g.add_mask_token_id(4)
    g.add_add_bos_token(True)
    g.add_add_sep_token(True)
    for name in sorted(w):
        g.add_tensor(gguf_name(name), np.ascontiguousarray(w[name]))
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()

    ids, mask = ref["input_ids"], ref["attention_mask"]
    rows = []
    for r in range(ids.shape[0]):
        seq = [int(x) for x, m in zip(ids[r], mask[r]) if m]
        rows.append({"ids": seq, "text": " ".join(vocab[i] for i in seq[1:-1])})
    prompt = os.path.join(HERE, "prompts.txt")
    with open(prompt, "w") as f:
        f.write("\n".join(r["text"] for r in rows))
    res = subprocess.run([LLAMA, "-m", out, "-f", prompt, "-t", "1", "--pooling", "mean", "--embd-normalize", "-1",
                          "--embd-output-format", "array", "-c", "128"], capture_output=True, text=True)
    if res.returncode != 0 or "[" not in res.stdout:
        sys.exit(res.stderr[-3000:])
    os.remove(prompt)
    embs = json.loads(res.stdout[res.stdout.index("["):])
    for r, e in zip(rows, embs):
        r["llama_cpp_mean"] = e
        lhs = ref[f"single.{rows.index(r)}.last_hidden_state"][0]
        r["hf_mean"] = [float(x) for x in lhs.mean(0)]
    json.dump({"made_by": "make.py (llama.cpp llama-embedding, 1 thread, mean pooling, --embd-normalize -1)",
               "source": "testdata/fixtures/hf-nomic_bert", "rows": rows}, open(os.path.join(HERE, "reference.json"), "w"), indent=1)
    a, b = np.array(embs[0]), np.array(rows[0]["hf_mean"])
    print("llama.cpp vs HF (row 0) max abs:", float(np.abs(a - b).max()))


if __name__ == "__main__":
    main()
