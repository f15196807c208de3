#!/usr/bin/env python3
"""Write a tiny random-weight F32 GGUF language model for llama.cpp parity tests.

The file has the metadata keys and tensor names llama.cpp's converter writes for
the architecture, with tokenizer.ggml.model = "none" and <arch>.vocab_size, so
llama.cpp loads it without a vocabulary and is fed token ids directly.

Weights are Gaussian: projections N(0, gain/sqrt(fan_in)) so every sublayer adds
a term of the same size as the residual stream (attention and MLP matter for
every logit), embeddings N(0, embed_scale), norm weights 1 + N(0, 0.1) (Gemma
files store 1+w, as the converter does; Gemma 2/3 post-norms 2 + N(0, 0.1)),
biases N(0, 0.1). gain, embed_scale and the rest are set per architecture in
ARCHS (the values make greedy steps with clear margins that do not collapse
into one repeated token); command-line flags override them.

Shapes are given per architecture in ARCHS; --hidden etc. override them (the
quantized fixtures use hidden 256 because K-quant rows are multiples of 256).

Needs numpy and llama.cpp's gguf-py (--gguf-py or GGUF_PY).

  make_tiny_gguf.py --arch qwen3 --seed 3 --out qwen3-f32.gguf
"""

import argparse
import math
import os
import sys

import numpy as np

# Defaults shared by every architecture; ARCHS entries override them.
BASE = dict(hidden=64, layers=2, heads=4, kv_heads=2, head_dim=32, ffn=128,
            vocab=256, ctx=256, rms_eps=1e-6, theta=1_000_000.0, tied=True,
            gain=1.0, embed_scale=0.3, post_norm=1.0)

ARCHS = {
    "qwen3": dict(qk_norm=True),
    # llama.cpp's qwen2 takes head_dim = hidden / heads.
    "qwen2": dict(tied=False, qkv_bias=True, head_dim=16),
    # Llama 3 style: untied output, rope_freqs.weight with llama3 scaling
    # factors. original_max_position 64 (not 8192) so that at head_dim 32 some
    # frequencies are kept, one is smoothed and the rest are divided by the
    # factor within the prompt's positions.
    "llama": dict(tied=False, theta=500_000.0, rms_eps=1e-5, rope_dim=True,
                  llama3=dict(factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                              original_max_position_embeddings=64)),
    # Gemma 1: multi-query attention (one KV head), GeGLU, embeddings * sqrt(hidden).
    # Tied embeddings scaled by sqrt(hidden) make every token predict itself
    # unless the sublayers outweigh the embedding: smaller embeddings, larger
    # gain (or post-norm weights near 2 where the sublayer output is normed).
    "gemma": dict(kv_heads=1, theta=10_000.0, embed_scale=0.1, gain=3.0),
    # Gemma 2: layer 0 local (sliding window 8), layer 1 global; softcaps.
    "gemma2": dict(theta=10_000.0, post_norms=True, window=8,
                   attn_softcap=50.0, final_softcap=30.0, qk_gain=2.5,
                   embed_scale=0.1, post_norm=2.0),
    # Gemma 3: llama.cpp's default pattern (every 6th layer global), so 6
    # layers: 0-4 local (window 8, base 10000), 5 global (base 1e6, linear x8);
    # FFN 64 to keep the six layers small.
    "gemma3": dict(layers=6, ffn=64, post_norms=True, qk_norm=True, window=8,
                   rope_linear=8.0, embed_scale=0.1, post_norm=2.0),
    # MiniCPM: embeddings x 12 (so stored at 1/12 the usual size), each
    # sublayer x 0.6 into the residual, final hidden / 4 before an untied
    # output (stored 4x larger); longrope with original context 32, below
    # the harness's 256-token context, so llama.cpp (and rlx at a 64-token cache
    # length) use the long factors, and attn_factor 1.2 on cos/sin.
    "minicpm": dict(tied=False, rope_dim=True, theta=10_000.0, rms_eps=1e-5, embed_scale=0.025,
                    output_scale=1.2, gain=1.5,
                    minicpm=dict(embedding_scale=12.0, residual_scale=0.6, logit_scale=4.0),
                    longrope=dict(original_context_length=32, attn_factor=1.2)),
    # Qwen3 MoE: 4 experts, top 2, expert FFN 64; untied output.
    "qwen3moe": dict(tied=False, qk_norm=True, experts=4, experts_used=2,
                     expert_ffn=64, router_gain=3.0),
}


def import_gguf(path):
    path = path or os.environ.get("GGUF_PY")
    if path:
        sys.path.insert(0, path)
    import gguf  # noqa: E402
    return gguf


def llama3_factors(head_dim, theta, s):
    """Per-frequency divisors of Llama 3 rope scaling, as the converter writes them."""
    out = []
    lo_wl = s["original_max_position_embeddings"] / s["low_freq_factor"]
    hi_wl = s["original_max_position_embeddings"] / s["high_freq_factor"]
    for i in range(0, head_dim, 2):
        freq = 1.0 / theta ** (i / head_dim)
        wl = 2 * math.pi / freq
        if wl < hi_wl:
            out.append(1.0)
        elif wl > lo_wl:
            out.append(s["factor"])
        else:
            t = (s["original_max_position_embeddings"] / wl - s["low_freq_factor"]) / (
                s["high_freq_factor"] - s["low_freq_factor"])
            out.append(1.0 / ((1 - t) / s["factor"] + t))
    return np.array(out, dtype=np.float32)


def build(a):
    gguf = import_gguf(a.gguf_py)
    cfg = dict(BASE)
    cfg.update(ARCHS[a.arch])
    for k in ("hidden", "layers", "ffn", "vocab", "heads", "kv_heads", "head_dim", "gain", "embed_scale"):
        if getattr(a, k) is not None:
            cfg[k] = getattr(a, k)
    if cfg.get("experts") and a.expert_ffn is not None:
        cfg["expert_ffn"] = a.expert_ffn
    arch = a.arch
    H, L, nh, nkv, D = cfg["hidden"], cfg["layers"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    F, V = cfg["ffn"], cfg["vocab"]
    rng = np.random.default_rng(a.seed)

    def lin(out_f, in_f, gain=1.0):
        # numpy (rows, cols) = (out_features, in_features), as in PyTorch
        return (rng.standard_normal((out_f, in_f)) * (cfg["gain"] * gain / math.sqrt(in_f))).astype(np.float32)

    def norm(n, center=1.0):
        return (center + 0.1 * rng.standard_normal(n)).astype(np.float32)

    def bias(n):
        return (0.1 * rng.standard_normal(n)).astype(np.float32)

    w = gguf.GGUFWriter(a.out, arch)
    w.add_name(f"tiny-{arch}-seed{a.seed}")
    w.add_context_length(cfg["ctx"])
    w.add_embedding_length(H)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(nh)
    w.add_head_count_kv(nkv)
    w.add_key_length(D)
    w.add_value_length(D)
    w.add_layer_norm_rms_eps(cfg["rms_eps"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("none")
    w.add_vocab_size(V)
    w.add_rope_freq_base(cfg["theta"])
    if cfg.get("rope_dim"):
        w.add_rope_dimension_count(D)
    if cfg.get("window"):
        w.add_sliding_window(cfg["window"])
    if cfg.get("attn_softcap"):
        w.add_attn_logit_softcapping(cfg["attn_softcap"])
    if cfg.get("final_softcap"):
        w.add_final_logit_softcapping(cfg["final_softcap"])
    if cfg.get("rope_linear"):
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(cfg["rope_linear"])
    if cfg.get("minicpm"):
        w.add_embedding_scale(cfg["minicpm"]["embedding_scale"])
        w.add_residual_scale(cfg["minicpm"]["residual_scale"])
        w.add_logit_scale(cfg["minicpm"]["logit_scale"])
    if cfg.get("longrope"):
        w.add_rope_scaling_type(gguf.RopeScalingType.LONGROPE)
        w.add_rope_scaling_orig_ctx_len(cfg["longrope"]["original_context_length"])
        w.add_rope_scaling_attn_factors(cfg["longrope"]["attn_factor"])
    if cfg.get("experts"):
        w.add_expert_count(cfg["experts"])
        w.add_expert_used_count(cfg["experts_used"])
        w.add_expert_feed_forward_length(cfg["expert_ffn"])

    w.add_tensor("token_embd.weight", (rng.standard_normal((V, H)) * cfg["embed_scale"]).astype(np.float32))
    w.add_tensor("output_norm.weight", norm(H))
    if not cfg["tied"]:
        w.add_tensor("output.weight", (rng.standard_normal((V, H)) * cfg.get("output_scale", cfg["embed_scale"])).astype(np.float32))
    if cfg.get("longrope"):
        # per-frequency divisors as converters write them: near 1 (short),
        # growing to 16 over the low frequencies (long)
        n = D // 2
        ramp = np.arange(n, dtype=np.float64) / (n - 1)
        w.add_tensor("rope_factors_short.weight", (1.0 + 0.3 * ramp ** 2 + 0.01 * rng.standard_normal(n)).astype(np.float32))
        w.add_tensor("rope_factors_long.weight", (1.0 + 15.0 * ramp ** 1.5 + 0.01 * rng.standard_normal(n)).astype(np.float32))
    if cfg.get("llama3"):
        w.add_tensor("rope_freqs.weight", llama3_factors(D, cfg["theta"], cfg["llama3"]))
    qk = cfg.get("qk_gain", 1.0)
    for i in range(L):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", norm(H))
        w.add_tensor(p + "attn_q.weight", lin(nh * D, H, qk))
        w.add_tensor(p + "attn_k.weight", lin(nkv * D, H, qk))
        w.add_tensor(p + "attn_v.weight", lin(nkv * D, H))
        w.add_tensor(p + "attn_output.weight", lin(H, nh * D))
        if cfg.get("qkv_bias"):
            w.add_tensor(p + "attn_q.bias", bias(nh * D))
            w.add_tensor(p + "attn_k.bias", bias(nkv * D))
            w.add_tensor(p + "attn_v.bias", bias(nkv * D))
        if cfg.get("qk_norm"):
            w.add_tensor(p + "attn_q_norm.weight", norm(D))
            w.add_tensor(p + "attn_k_norm.weight", norm(D))
        if cfg.get("post_norms"):
            w.add_tensor(p + "post_attention_norm.weight", norm(H, cfg["post_norm"]))
        w.add_tensor(p + "ffn_norm.weight", norm(H))
        if cfg.get("experts"):
            E, Fe = cfg["experts"], cfg["expert_ffn"]
            w.add_tensor(p + "ffn_gate_inp.weight", lin(E, H, cfg["router_gain"]))
            w.add_tensor(p + "ffn_gate_exps.weight", np.stack([lin(Fe, H) for _ in range(E)]))
            w.add_tensor(p + "ffn_up_exps.weight", np.stack([lin(Fe, H) for _ in range(E)]))
            w.add_tensor(p + "ffn_down_exps.weight", np.stack([lin(H, Fe) for _ in range(E)]))
        else:
            w.add_tensor(p + "ffn_gate.weight", lin(F, H))
            w.add_tensor(p + "ffn_up.weight", lin(F, H))
            w.add_tensor(p + "ffn_down.weight", lin(H, F))
        if cfg.get("post_norms"):
            w.add_tensor(p + "post_ffw_norm.weight", norm(H, cfg["post_norm"]))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=sorted(ARCHS), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gain", type=float, help="scale of every projection (default per arch)")
    ap.add_argument("--embed-scale", type=float, help="std of the embeddings (default per arch)")
    for k in ("hidden", "layers", "ffn", "vocab", "heads", "kv_heads", "head_dim", "expert_ffn"):
        ap.add_argument("--" + k.replace("_", "-"), type=int)
    ap.add_argument("--gguf-py", help="llama.cpp's gguf-py folder")
    build(ap.parse_args())


if __name__ == "__main__":
    main()
