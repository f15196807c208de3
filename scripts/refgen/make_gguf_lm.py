#!/usr/bin/env python3
"""Make testdata/gguf-lm: tiny GGUF language models and llama.cpp's outputs for them.

For each case it writes the model (make_tiny_gguf.py, then llama-quantize for
the quantized ones), runs llama_logits (llama.cpp, CPU, 1 thread) twice --
flash attention on with an F16 KV cache (llama.cpp's defaults; the file named
in reference.json's "logits") and flash attention off with an F32 KV cache
(<name>.nofa-f32kv.logits.f32) -- and writes reference.json.

Seeds were chosen with --search: the seed whose greedy steps have the largest
smallest top-1 minus top-2 margin (over every file made from that seed).

  make_gguf_lm.py --llama-cpp /work/llama.cpp --harness ./llama_logits --out testdata/gguf-lm
  make_gguf_lm.py ... --search 40      # report the margins of seeds 1..40 instead
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# 20 ids < 256: longer than the gemma sliding window (8).
PROMPT = [1, 5, 9, 42, 100, 7, 200, 2, 77, 180, 11, 64, 33, 250, 3, 128, 19, 90, 240, 6]
N_GEN = 8

# Quantized files need rows that are multiples of 256 (K-quant super-blocks).
QBASE = ["--hidden", "256", "--ffn", "256", "--head-dim", "64", "--embed-scale", "0.15"]

# name -> (arch, extra make_tiny_gguf args, quant types made from it, ship the F32 file)
GROUPS = {
    "qwen3": ("qwen3", [], ["Q8_0"], True),
    "llama": ("llama", [], [], True),
    "qwen2": ("qwen2", [], [], True),
    "gemma": ("gemma", [], [], True),
    "gemma2": ("gemma2", [], [], True),
    "gemma3": ("gemma3", [], [], True),
    "qwen3moe": ("qwen3moe", [], ["Q8_0"], True),
    "minicpm": ("minicpm", [], [], True),
    # tied 256-wide qwen3 falls into repeating one token unless the sublayers
    # outweigh the embeddings: gain 2
    "qwen3-q": ("qwen3", QBASE + ["--gain", "2"], ["Q4_K_M", "Q4_0", "Q5_K_M", "Q6_K"], False),
    "llama-q": ("llama", QBASE, ["Q4_K_M"], False),
}

SEEDS = {
    "qwen3": 1, "llama": 28, "qwen2": 8, "gemma": 17, "gemma2": 25, "gemma3": 5,
    "qwen3moe": 1, "qwen3-q": 28, "llama-q": 16, "minicpm": 7,
}


def run_harness(a, model, out, fa, kv):
    cmd = [a.harness, model, out, fa, kv, str(N_GEN)] + [str(i) for i in PROMPT]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def make_group(a, name, seed, outdir):
    """Writes the group's files into outdir; returns [(file, result)]."""
    arch, extra, quants, ship_f32 = GROUPS[name]
    tmp = tempfile.TemporaryDirectory()
    f32 = os.path.join(outdir if ship_f32 else tmp.name, f"{arch}-f32.gguf")
    subprocess.run([sys.executable, os.path.join(HERE, "make_tiny_gguf.py"), "--gguf-py",
                    os.path.join(a.llama_cpp, "gguf-py"), "--arch", arch, "--seed", str(seed),
                    "--out", f32] + extra, check=True)
    files = [f32] if ship_f32 else []
    for q in quants:
        qf = os.path.join(outdir, f"{arch}-{q}.gguf")
        subprocess.run([os.path.join(a.llama_cpp, "build", "bin", "llama-quantize"), f32, qf, q, "1"],
                       check=True, capture_output=True)
        files.append(qf)
    out = []
    for f in files:
        stem = f[:-len(".gguf")]
        res = run_harness(a, f, stem + ".logits.f32", "fa", "f16")
        run_harness(a, f, stem + ".nofa-f32kv.logits.f32", "nofa", "f32")
        out.append((os.path.basename(f), res))
    tmp.cleanup()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True, help="llama.cpp checkout with build/bin")
    ap.add_argument("--harness", required=True, help="compiled llama_logits.c")
    ap.add_argument("--out", required=True)
    ap.add_argument("--commit", default="", help="llama.cpp commit to record")
    ap.add_argument("--search", type=int, default=0, help="try seeds 1..N and report")
    ap.add_argument("--only", nargs="*", help="groups to make/search")
    a = ap.parse_args()
    groups = a.only or list(GROUPS)

    if a.search:
        for g in groups:
            rows = []
            for seed in range(1, a.search + 1):
                with tempfile.TemporaryDirectory() as d:
                    res = make_group(a, g, seed, d)
                m = min(min(r["margins"]) for _, r in res)
                distinct = min(len(set(r["generated"])) for _, r in res)
                rows.append((m, seed, distinct))
            # prefer continuations that do not collapse into one repeated token
            rows.sort(key=lambda r: (r[2] >= 4, r[0]), reverse=True)
            print(g, " ".join(f"seed {s}: min margin {m:.4f} ({d} distinct)" for m, s, d in rows[:6]), flush=True)
        return

    os.makedirs(a.out, exist_ok=True)
    cases = []
    for g in groups:
        for f, res in make_group(a, g, SEEDS[g], a.out):
            cases.append({"file": f, "logits": f[:-len(".gguf")] + ".logits.f32",
                          "logits_nofa_f32kv": f[:-len(".gguf")] + ".nofa-f32kv.logits.f32",
                          "seed": SEEDS[g], "result": res})
    cases.sort(key=lambda c: c["file"])
    ref = {"reference": f"llama.cpp {a.commit} (CPU, 1 thread), scripts/refgen/llama_logits.c "
                        "(logits: flash attention on, F16 KV cache; logits_nofa_f32kv: flash attention off, F32 KV cache)",
           "prompt_ids": PROMPT, "cases": cases}
    with open(os.path.join(a.out, "reference.json"), "w") as f:
        f.write('{"reference": %s, "prompt_ids": %s, "cases": [\n' % (json.dumps(ref["reference"]), json.dumps(PROMPT)))
        f.write(",\n".join(json.dumps(c) for c in cases))
        f.write("\n]}\n")


if __name__ == "__main__":
    main()
