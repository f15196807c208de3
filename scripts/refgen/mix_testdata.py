#!/usr/bin/env python3
"""Make quant/mix/testdata: small GGUF models and what llama-quantize makes of them.

Usage (from the repository root, with a llama.cpp build at $LLAMA_CPP):

    LLAMA_CPP=/work/llama.cpp PYTHONPATH=$LLAMA_CPP/gguf-py \
        /usr/bin/python3 scripts/refgen/mix_testdata.py quant/mix/testdata

Two models are written with gguf-py (random weights, seed 7; the shapes
are not a consistent network, only the names, the row lengths ne[0] and
the layer counts matter to the type choice, and llama-quantize does not
check the rest):
  * llama4: arch llama, 4 layers, 8 heads / 2 KV heads (GQA 4), untied
    output.weight, an F16 ffn_gate and an ffn_down with ne[0] = 288 (not a
    multiple of 256: K-quant fallbacks).
  * qwen3tied: arch qwen3, 3 layers, 4 / 4 heads, no output.weight (tied
    embeddings: token_embd takes the output type).
For every mix the script runs `llama-quantize IN OUT MIX 1` and records the
SHA-256 of the output file and the type of every tensor (gguf-py reader).
The Q4_K_M outputs are kept whole (gzip) for diagnosis.
"""
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGUFReader, GGUFWriter

LLAMA = os.environ.get("LLAMA_CPP", "/work/llama.cpp")
MIXES = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
         "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"]


def model(path, arch, n_layer, n_head, n_kv, tied, rng):
    w = GGUFWriter(path, arch)
    w.add_name(os.path.basename(path))
    w.add_context_length(256)
    w.add_embedding_length(256)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(288)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_vocab_size(24)

    def t(name, rows, cols, dtype=np.float32, scale=0.05):
        w.add_tensor(name, (rng.standard_normal((rows, cols)) * scale).astype(dtype))

    t("token_embd.weight", 24, 256)
    if not tied:
        t("output.weight", 24, 256)
    w.add_tensor("output_norm.weight", np.ones(256, np.float32))
    for i in range(n_layer):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", (1 + 0.1 * rng.standard_normal(256)).astype(np.float32))
        w.add_tensor(p + "ffn_norm.weight", (1 + 0.1 * rng.standard_normal(256)).astype(np.float32))
        t(p + "attn_q.weight", 8, 256)
        t(p + "attn_k.weight", 4, 256)
        t(p + "attn_v.weight", 4, 256)
        t(p + "attn_output.weight", 8, 256)
        t(p + "ffn_gate.weight", 6, 256, np.float16 if not tied else np.float32)
        t(p + "ffn_up.weight", 6, 256)
        t(p + "ffn_down.weight", 8, 288 if not tied else 256)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(7)
    ref = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in [("llama4", ("llama", 4, 8, 2, False)), ("qwen3tied", ("qwen3", 3, 4, 4, True))]:
            src = os.path.join(outdir, name + ".f32.gguf")
            model(src, *args, rng)
            for mix in MIXES:
                dst = os.path.join(tmp, f"{name}-{mix}.gguf")
                subprocess.run([os.path.join(LLAMA, "build/bin/llama-quantize"), src, dst, mix, "1"],
                               check=True, capture_output=True)
                data = open(dst, "rb").read()
                types = {t.name: t.tensor_type.name for t in GGUFReader(dst).tensors}
                ref[f"{name}/{mix}"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                                        "types": types}
                if mix == "Q4_K_M":
                    with open(os.path.join(outdir, f"{name}-{mix}.gguf.gz"), "wb") as f:
                        f.write(gzip.compress(data, compresslevel=9, mtime=0))
                print(name, mix, len(data))
    with open(os.path.join(outdir, "llama-quantize.json"), "w") as f:
        json.dump(ref, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "quant/mix/testdata")
