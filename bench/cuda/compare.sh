#!/usr/bin/env bash
# Side-by-side decoder LM speed on a GPU: `rlx bench --device cuda` and
# llama.cpp's `llama-bench -ngl 99 -fa 1` on the same GGUF files,
# interleaved (A B A B …) because a GPU's clocks and the host drift between
# runs. Runs on the GPU machine; it never builds llama.cpp: point
# LLAMA_BENCH at a CUDA build you made there.
#
#   bench/cuda/compare.sh OUT_DIR ROUNDS FILE.gguf…
#
# Environment: RLX (rlx binary, default bin/cuda/rlx), LLAMA_BENCH (default
# llama-bench on PATH; unset it to time rlx alone), DEVICE (cuda), P (512),
# N (128), D (4096: tg at that depth; 0 skips), R (3: repetitions inside
# each run; the run's median is what summarize.py reads). Each run's JSON
# goes to OUT_DIR/r<round>.<model>.<engine>.<part>.json, the layout of
# bench/llama/compare.sh, so bench/llama/summarize.py turns it into the
# medians table. nvidia-smi's clocks and temperature are recorded before
# every round.
set -euo pipefail
out=${1:?OUT_DIR}; rounds=${2:?ROUNDS}; shift 2
rlx=${RLX:-bin/cuda/rlx}
llama=${LLAMA_BENCH-llama-bench}
dev=${DEVICE:-cuda}
p=${P:-512}; n=${N:-128}; d=${D:-4096}; r=${R:-3}
mkdir -p "$out"
for k in $(seq 1 "$rounds"); do
  nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv,noheader \
    > "$out/r$k.gpu.txt" 2>/dev/null || true
  for f in "$@"; do
    m=$(basename "$f" .gguf)
    "$rlx" bench --weights "$f" --device "$dev" -p "$p" -n "$n" -r "$r" --json > "$out/r$k.$m.rlx.d0.json"
    if [[ -n "$llama" ]]; then
      "$llama" -m "$f" -ngl 99 -fa 1 -p "$p" -n "$n" -r "$r" -o json > "$out/r$k.$m.llama.d0.json" 2>/dev/null
    fi
    if [[ "$d" -gt 0 ]]; then
      "$rlx" bench --weights "$f" --device "$dev" -p 0 -n "$n" -d "$d" -r "$r" --json > "$out/r$k.$m.rlx.depth.json"
      if [[ -n "$llama" ]]; then
        "$llama" -m "$f" -ngl 99 -fa 1 -p 0 -n "$n" -d "$d" -r "$r" -o json > "$out/r$k.$m.llama.depth.json" 2>/dev/null
      fi
    fi
  done
done
