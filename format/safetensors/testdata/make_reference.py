#!/usr/bin/env python3
"""Write torch-reference.safetensors with the Python safetensors library, one
tensor per dtype rlx reads, and torch-reference.json with torch's float32
view of each (the reference for rlx's conversions, FP8 and BF16 included).

Usage: python3 make_reference.py OUTDIR   (needs torch and safetensors)
"""
import json
import os
import sys

import safetensors
import torch
from safetensors.torch import save_file

out = sys.argv[1]
g = torch.Generator().manual_seed(7)
base = torch.randn(3, 5, generator=g) * 4
base[0, 0], base[0, 1], base[0, 2] = 0.0, -0.0, 1e-3  # zero, negative zero, a subnormal in fp8
ints = torch.arange(-7, 8).reshape(3, 5)
tensors = {
    "f32": base.clone(),
    "f16": base.to(torch.float16),
    "bf16": base.to(torch.bfloat16),
    "f64": base.to(torch.float64) / 3,
    "f8_e4m3": base.to(torch.float8_e4m3fn),
    "f8_e5m2": base.to(torch.float8_e5m2),
    "i8": ints.to(torch.int8),
    "u8": (ints + 7).to(torch.uint8),
    "i16": (ints * 1000).to(torch.int16),
    "i32": (ints * 100000).to(torch.int32),
    "i64": (ints * 10**12).to(torch.int64),
    "bool": ints > 0,
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 4),
}
meta = {"format": "pt", "made_by": "make_reference.py"}
save_file(tensors, os.path.join(out, "torch-reference.safetensors"), metadata=meta)
ref = {k: {"dtype": str(v.dtype), "shape": list(v.shape), "float32": v.to(torch.float32).flatten().tolist()}
       for k, v in tensors.items()}
ref["_versions"] = {"torch": torch.__version__, "safetensors": safetensors.__version__}
with open(os.path.join(out, "torch-reference.json"), "w") as f:
    json.dump(ref, f, indent=1)
