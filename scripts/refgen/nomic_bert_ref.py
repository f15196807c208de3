"""NomicBERT reference fixture: a tiny random-weight NomicBertModel from HF transformers
(5.17 ships the class natively as model_type "nomic_bert"), run in float32 on the CPU with
eager attention, on a right-padded batch of two rows.

Run on the GPU machine (it has torch + transformers):
    python3 scripts/refgen/nomic_bert_ref.py --out $OUT/hf-nomic_bert
Writes config.json + model.safetensors (save_pretrained) and reference.safetensors +
reference.json (inputs, last_hidden_state, hidden states, pooled sentence embeddings, and
HF's own float32-vs-float64 error, from which the suggested tolerance is derived).
"""
import argparse
import json
import math
import os
import platform

import torch
import torch.nn.functional as F


def randomize(model, seed, std=0.1, vec_std=0.1):
    # Every matrix N(0, std); every vector (norm weights, biases) gets N(0, vec_std) added, so
    # no LayerNorm is the identity.
    g = torch.Generator().manual_seed(seed)
    seen = set()
    with torch.no_grad():
        for _, p in model.named_parameters():
            if id(p) in seen or not p.requires_grad:
                continue
            seen.add(id(p))
            noise = torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype)
            if p.ndim >= 2:
                p.copy_(noise * std)
            else:
                p.add_(noise * vec_std)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    from safetensors import safe_open
    from safetensors.torch import save_file
    import transformers
    from transformers import NomicBertConfig, NomicBertModel

    torch.manual_seed(args.seed)
    cfg = NomicBertConfig(vocab_size=300, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=96, max_position_embeddings=128, type_vocab_size=2,
                          layer_norm_eps=1e-12, pad_token_id=0)
    model = NomicBertModel._from_config(cfg, attn_implementation="eager").float().eval()
    randomize(model, args.seed)
    os.makedirs(args.out, exist_ok=True)
    model.save_pretrained(args.out)
    model = NomicBertModel.from_pretrained(args.out, attn_implementation="eager", dtype=torch.float32).eval()

    lens = [11, 6]
    T = max(lens)
    g = torch.Generator().manual_seed(args.seed + 101)
    ids = torch.zeros((len(lens), T), dtype=torch.long)
    tt = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for r, L in enumerate(lens):
        ids[r, 0] = 1
        ids[r, 1:L - 1] = torch.randint(5, cfg.vocab_size, (L - 2,), generator=g)
        ids[r, L - 1] = 2
        mask[r, :L] = 1
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=tt, output_hidden_states=True)
        m64 = NomicBertModel.from_pretrained(args.out, attn_implementation="eager", dtype=torch.float64).eval()
        out64 = m64(input_ids=ids, attention_mask=mask, token_type_ids=tt)
    lhs = out.last_hidden_state
    m = mask.unsqueeze(-1).float()
    mean = (lhs * m).sum(1) / m.sum(1)
    tensors = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt,
               "last_hidden_state": lhs,
               "sentence_embedding_mean_unnormalized": mean,
               "sentence_embedding": F.normalize(mean, p=2, dim=-1),
               "sentence_embedding_cls": F.normalize(lhs[:, 0], p=2, dim=-1)}
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden_states.{i}"] = h
    # Each row alone, unpadded: padding must not change the valid positions.
    for r, L in enumerate(lens):
        with torch.no_grad():
            single = model(input_ids=ids[r:r + 1, :L], attention_mask=mask[r:r + 1, :L],
                           token_type_ids=tt[r:r + 1, :L]).last_hidden_state
        tensors[f"single.{r}.last_hidden_state"] = single
    valid = mask.bool()
    err = float((lhs[valid].double() - out64.last_hidden_state[valid]).abs().max())
    tol = max(1e-5, 10 * err)
    clean = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
    save_file(clean, os.path.join(args.out, "reference.safetensors"))
    with safe_open(os.path.join(args.out, "model.safetensors"), "pt") as f:
        weights = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
    meta = {
        "family": "nomic_bert", "hf_class": "NomicBertModel", "seed": args.seed,
        "weights_init": "matrices N(0,0.1), vectors += N(0,0.1)",
        "python_calls": {
            "load": "NomicBertModel.from_pretrained(dir, attn_implementation='eager', dtype=torch.float32).eval()",
            "forward": "model(input_ids, attention_mask, token_type_ids, output_hidden_states=True)",
            "sentence_embedding": "F.normalize((lhs*mask).sum(1)/mask.sum(1), dim=-1)",
            "sentence_embedding_cls": "F.normalize(lhs[:,0], dim=-1)",
        },
        "padding": "right, pad id 0; token types all 0",
        "checks": {"float32_vs_float64_valid_max_abs": err},
        "suggested_tolerance": {"last_hidden_state_max_abs": tol, "sentence_embedding_max_abs": tol,
                                "note": "compare last_hidden_state only where attention_mask is 1"},
        "weights": weights, "config": cfg.to_dict(),
        "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)} for k, v in clean.items()},
        "environment": {"python": platform.python_version(), "torch": torch.__version__,
                        "transformers": transformers.__version__},
    }
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(meta, f, indent=1, default=str, allow_nan=False)
        f.write("\n")
    print(json.dumps({"f64_err": err, "tol": tol, "finite": all(math.isfinite(float(v.float().abs().max())) for v in clean.values() if v.is_floating_point())}))


if __name__ == "__main__":
    main()
