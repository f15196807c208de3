#!/usr/bin/env python3
"""Reference rotary tables for Phi-3 style "longrope" scaling, from Hugging Face
transformers' own rotary-embedding modules (run on CPU in float32).

For each case in CASES it builds the model's config (Phi3Config, or LlamaConfig
for a MiniCPM-like Llama config), instantiates the model's RotaryEmbedding and
records: the inverse frequencies and attention scaling right after init, and
cos/sin (which include the attention scaling) at a few positions for a short
sequence (all positions < original_max_position_embeddings) and for a long one
(positions past it, where transformers switches to long_factor). Both rope
config spellings are tried: transformers 5's rope_parameters and the older
rope_scaling + rope_theta. Writes one JSON object to the output path.

  python3 longrope_ref.py OUT.json
"""

import json
import math
import sys
import traceback

import torch
import transformers


def factors(n, lo, hi, phase):
    # deterministic, distinct, increasing-ish values like real checkpoints'
    return [round(lo + (hi - lo) * (i / max(n - 1, 1)) ** 1.5 + 0.01 * math.sin(i + phase), 6) for i in range(n)]


CASES = [
    # Phi-3-mini-128k shapes: head 96, orig 4096, max 131072, no attention_factor.
    dict(name="phi3-128k", model="phi3", hidden=3072, heads=32, theta=10000.0, max_pos=131072, orig=4096,
         short=factors(48, 1.0, 1.1, 0.0), long=factors(48, 1.0, 40.0, 1.0), attn=None, prf=None),
    # Partial rotary (Phi-4-mini style 0.75), explicit attention_factor.
    dict(name="phi3-partial-attn", model="phi3", hidden=128, heads=4, theta=250000.0, max_pos=256, orig=64,
         short=factors(12, 1.0, 1.5, 2.0), long=factors(12, 1.0, 8.0, 3.0), attn=1.25, prf=0.75),
    # max == orig: factor 1, attention scaling 1.
    dict(name="phi3-factor1", model="phi3", hidden=128, heads=4, theta=10000.0, max_pos=64, orig=64,
         short=factors(16, 1.0, 1.2, 4.0), long=factors(16, 1.0, 4.0, 5.0), attn=None, prf=None),
    # MiniCPM4 style: a Llama config whose rope scaling carries
    # original_max_position_embeddings; max 512 over orig 128 (factor 4).
    dict(name="llama-minicpm", model="llama", hidden=256, heads=4, theta=10000.0, max_pos=512, orig=128,
         short=factors(32, 1.0, 1.05, 6.0), long=factors(32, 1.0, 12.0, 7.0), attn=None, prf=None, orig_in_rope=True),
]

POSITIONS_SHORT = [0, 1, 5, 17]


def make_config(c, style):
    kw = dict(hidden_size=c["hidden"], num_attention_heads=c["heads"], num_key_value_heads=c["heads"],
              intermediate_size=64, num_hidden_layers=1, vocab_size=32, max_position_embeddings=c["max_pos"])
    rope = {"rope_type": "longrope", "short_factor": c["short"], "long_factor": c["long"]}
    if c["attn"] is not None:
        rope["attention_factor"] = c["attn"]
    if c.get("orig_in_rope"):
        rope["original_max_position_embeddings"] = c["orig"]
    if c["model"] == "phi3":
        cls = transformers.Phi3Config
        if not c.get("orig_in_rope"):
            kw["original_max_position_embeddings"] = c["orig"]
        if c["prf"] is not None:
            kw["partial_rotary_factor"] = c["prf"]
    else:
        cls = transformers.LlamaConfig
    if style == "rope_parameters":
        rope["rope_theta"] = c["theta"]
        kw["rope_parameters"] = rope
    else:
        rope["type"] = "longrope"
        kw["rope_scaling"] = rope
        kw["rope_theta"] = c["theta"]
    return cls(**kw)


def rotary(c, cfg):
    if c["model"] == "phi3":
        from transformers.models.phi3 import modeling_phi3 as m
        return m.Phi3RotaryEmbedding(config=cfg)
    from transformers.models.llama import modeling_llama as m
    return m.LlamaRotaryEmbedding(config=cfg)


def run_case(c):
    out = {"case": c, "styles": {}}
    for style in ("rope_parameters", "rope_scaling"):
        r = {}
        try:
            cfg = make_config(c, style)
            emb = rotary(c, cfg)
            r["inv_freq_init"] = emb.inv_freq.tolist()
            r["attention_scaling"] = float(emb.attention_scaling)
            head = c["hidden"] // c["heads"]
            x = torch.zeros(1, 1, head, dtype=torch.float32)
            for tag, n in (("short", 20), ("long", c["orig"] + 8)):
                pos = torch.arange(n).unsqueeze(0)
                cos, sin = emb(x, pos)
                keep = [p for p in POSITIONS_SHORT if p < n] + [n - 1]
                r[tag] = {"seq_len": n, "positions": keep, "inv_freq": emb.inv_freq.tolist(),
                          "cos": [cos[0, p].tolist() for p in keep], "sin": [sin[0, p].tolist() for p in keep]}
        except Exception:
            r["error"] = traceback.format_exc()
        out["styles"][style] = r
    return out


def main():
    res = {"transformers": transformers.__version__, "torch": torch.__version__,
           "note": "cos/sin are transformers' RotaryEmbedding outputs (float32, CPU), attention scaling included; "
                   "cos/sin rows have head_dim*partial_rotary_factor values (the two halves repeat)",
           "cases": [run_case(c) for c in CASES]}
    with open(sys.argv[1], "w") as f:
        json.dump(res, f)
    print(json.dumps({c["case"]["name"]: {s: ("error" if "error" in v else v["attention_scaling"]) for s, v in c["styles"].items()} for c in res["cases"]}))


if __name__ == "__main__":
    main()
