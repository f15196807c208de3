#!/usr/bin/env python3
"""Group a CPU profile's flat time by op class.

usage: go tool pprof -top -nodecount=400 rlx PROFILE | opclass.py
Classes come from the function names (package and kernel); the rest is
"other". Percentages are of all samples.
"""
import re
import sys

CLASSES = [
    ("matmul: quantized (quant.dot*/act quantization)", r"rlx/quant\."),
    ("matmul: float (gemm)", r"backend/cpu/gemm\."),
    ("attention", r"kernels\.\(\*Attention\)|scoresT|dotsF16|axpysF16|kernels\.softmax|attention"),
    ("rope", r"RoPE|rope"),
    ("norms", r"[Rr]ms[Nn]orm|RMSNorm|LayerNorm"),
    ("elementwise/fused chains", r"kernels\.|fused|Silu|silu|Mul|Add"),
    ("f16/f32 conversion", r"F16|f16|F32ToF16"),
    ("Go scheduler / pool wake-ups / spinning", r"^runtime\.|internal/runtime|parallel\."),
    ("engine (compile/executor/runtime pkg)", r"rlx/compile\.|rlx/runtime\.|backend/cpu\.\("),
    ("memmove/memclr", r"memmove|memclr"),
]

total = None
sums = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)(ms|s)\s+([\d.]+)%\s+[\d.]+%\s+[\d.]+(?:ms|s)\s+[\d.]+%\s+(.*)$", line)
    if not m:
        t = re.search(r"Total samples = ([\d.]+)(ms|s)", line)
        if t:
            total = float(t.group(1)) * (1e-3 if t.group(2) == "ms" else 1)
        continue
    sec = float(m.group(1)) * (1e-3 if m.group(2) == "ms" else 1)
    name = m.group(4)
    cls = "other"
    for c, rx in CLASSES:
        if re.search(rx, name):
            cls = c
            break
    sums[cls] = sums.get(cls, 0) + sec
total = total or sum(sums.values())
for c, s in sorted(sums.items(), key=lambda kv: -kv[1]):
    print(f"{100 * s / total:5.1f}%  {s:6.2f}s  {c}")
