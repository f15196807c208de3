#!/usr/bin/env python3
"""Make quant/testdata from llama.cpp (gguf-py, llama-quantize, libggml-base).

Usage (from the repository root, with a llama.cpp build at $LLAMA_CPP):

    LLAMA_CPP=/work/llama.cpp PYTHONPATH=$LLAMA_CPP/gguf-py \
        /usr/bin/python3 scripts/refgen/quant_testdata.py quant/testdata

Steps:
1. Build a float32 matrix (6 x 768, seed 20261122) whose 256-element blocks
   are awkward on purpose: zeros, tiny, huge, one-signed, constant, spikes,
   ties on the rounding grid.
2. Compile scripts/refgen/quantref.c against $LLAMA_CPP's headers and
   libggml-base (our program; llama.cpp itself is not rebuilt) and run it:
   per type, ggml's quantized bytes and reference dequantization, plus
   random blocks and their dequantization.
3. Write the matrix into a GGUF with gguf-py, run `llama-quantize --pure`
   for every file type we quantize, and check that the tensor bytes
   llama-quantize wrote equal quantref's (so the .q files are exactly what
   llama-quantize produces).
4. Copy the first rows of a few tensors of the shared tiny-model fixtures (Q8_0, Q4_K, Q6_K;
   made by llama-quantize) with gguf-py's dequantization of them.
Everything is written gzip-compressed.
"""
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import gguf
from gguf import GGUFReader, GGUFWriter
from gguf.quants import dequantize

LLAMA = os.environ.get("LLAMA_CPP", "/work/llama.cpp")
HERE = os.path.dirname(os.path.abspath(__file__))
ROWS, COLS = 6, 768
FIXTURES = os.environ.get("RLX_FIXTURES", "/work/shared/fixtures/gguf-lm")


def awkward_matrix():
    rng = np.random.default_rng(20261122)
    blocks = []
    n = 256
    blocks.append(rng.standard_normal(n))                      # plain
    blocks.append(rng.standard_normal(n) * 0.02)               # weight-like
    blocks.append(np.zeros(n))                                  # all zero
    blocks.append(rng.standard_normal(n) * 1e-20)              # tiny
    blocks.append(rng.standard_normal(n) * 3e3)                # huge (fp16 scales still finite)
    blocks.append(-np.abs(rng.standard_normal(n)))             # negative only
    blocks.append(np.abs(rng.standard_normal(n)) + 0.5)        # positive only, offset
    blocks.append(np.full(n, 0.375))                            # constant
    b = np.zeros(n); b[37] = 5.0; blocks.append(b)             # one spike
    b = np.zeros(n); b[200] = -2.5; b[3] = 1e-3; blocks.append(b)
    blocks.append(np.round(rng.uniform(-8, 8, n) * 2) / 16)    # ties on a grid
    b = rng.uniform(-1, 1, n); b[32:64] = 0; b[128:144] = 0; blocks.append(b)  # zero sub-blocks
    b = np.where(np.arange(n) % 2 == 0, 1.0, -1.0) * rng.uniform(0.9, 1.1, n); blocks.append(b)
    blocks.append(rng.standard_normal(n) ** 3)                 # heavy tails
    b = rng.standard_normal(n) * 1e-6; b[::16] = 1.0; blocks.append(b)
    b = rng.standard_normal(n); b[0:16] *= 100; blocks.append(b)  # one loud group
    blocks.append(rng.uniform(-1e-4, 1e-4, n))
    blocks.append(rng.laplace(size=n))
    assert len(blocks) == ROWS * COLS // n
    return np.concatenate(blocks).astype(np.float32).reshape(ROWS, COLS)


FILE_TYPES = {  # llama-quantize name -> ggml type name
    "Q4_0": "q4_0", "Q4_1": "q4_1", "Q5_0": "q5_0", "Q5_1": "q5_1", "Q8_0": "q8_0",
    "Q2_K": "q2_K", "Q3_K_S": "q3_K", "Q4_K_S": "q4_K", "Q5_K_S": "q5_K", "Q6_K": "q6_K",
}


def gz(path, data):
    with open(path + ".gz", "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    x = awkward_matrix()
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "input.f32")
        x.tofile(inp)
        exe = os.path.join(tmp, "quantref")
        subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "quantref.c"),
                        "-I", os.path.join(LLAMA, "ggml/include"),
                        "-L", os.path.join(LLAMA, "build/bin"), "-lggml-base",
                        "-Wl,-rpath," + os.path.join(LLAMA, "build/bin")], check=True)
        ref = os.path.join(tmp, "ref")
        os.makedirs(ref)
        subprocess.run([exe, inp, str(ROWS), str(COLS), ref], check=True)

        # llama-quantize on a GGUF holding the same matrix must write the same bytes.
        src = os.path.join(tmp, "f32.gguf")
        w = GGUFWriter(src, "llama")  # the hparams llama-quantize's loader insists on
        w.add_context_length(128); w.add_embedding_length(COLS); w.add_block_count(1)
        w.add_feed_forward_length(ROWS); w.add_head_count(1); w.add_head_count_kv(1)
        w.add_layer_norm_rms_eps(1e-6)
        w.add_tensor("blk.0.ffn_up.weight", x)
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
        for ftype, tname in FILE_TYPES.items():
            dst = os.path.join(tmp, ftype + ".gguf")
            subprocess.run([os.path.join(LLAMA, "build/bin/llama-quantize"), "--pure", src, dst, ftype, "1"],
                           check=True, capture_output=True)
            t = GGUFReader(dst).tensors[0]
            got = bytes(t.data.tobytes())
            want = open(os.path.join(ref, tname + ".q"), "rb").read()
            assert got == want, f"llama-quantize {ftype} differs from ggml_quantize_chunk"
            print(f"llama-quantize {ftype}: {len(got)} bytes, identical to quantref")

        gz(os.path.join(outdir, "input.f32"), x.tobytes())
        for name in sorted(os.listdir(ref)):
            gz(os.path.join(outdir, name), open(os.path.join(ref, name), "rb").read())

    # Fixture tensors quantized by llama-quantize, and gguf-py's dequantization.
    picks = [("qwen3-Q8_0.gguf", "blk.0.attn_q.weight"),
             ("qwen3-Q4_K_M.gguf", "blk.0.ffn_up.weight"),
             ("qwen3-Q4_K_M.gguf", "blk.1.ffn_down.weight")]
    keep = 24  # rows kept per tensor, to keep testdata small
    for fname, tname in picks:
        r = GGUFReader(os.path.join(FIXTURES, fname))
        t = next(t for t in r.tensors if t.name == tname)
        raw = bytes(t.data[:keep].tobytes())
        deq = dequantize(t.data[:keep], t.tensor_type).astype(np.float32)
        tag = f"fixture-{fname.split('.')[0]}-{tname}-{t.tensor_type.name}"
        gz(os.path.join(outdir, tag + ".q"), raw)
        gz(os.path.join(outdir, tag + ".gguf-py.deq"), deq.tobytes())
        print(tag, t.shape, len(raw))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "quant/testdata")
