#!/usr/bin/env bash
# Side-by-side decoder LM speed: `rlx bench` and llama.cpp's `llama-bench` on
# the same GGUF files, interleaved (A B A B …) because the machine drifts.
#
#   bench/llama/compare.sh OUT_DIR ROUNDS FILE.gguf…
#
# Environment: RLX (rlx binary, default ./rlx), LLAMA_BENCH (default
# /work/llama.cpp/build/bin/llama-bench; build llama.cpp yourself, this
# script never does), THREADS (default 2), P (128), N (64), D (512), PIN (a
# command prefix such as "taskset -c 0,1" to pin both engines to the same
# cores). Each run's JSON goes to OUT_DIR/r<round>.<model>.<engine>.<part>.json;
# summarize.py turns them into the medians table. A memory bandwidth probe
# (`rlx bench membw`) and the load average are recorded before every round.
set -euo pipefail
out=${1:?OUT_DIR}; rounds=${2:?ROUNDS}; shift 2
rlx=${RLX:-./rlx}
llama=${LLAMA_BENCH:-/work/llama.cpp/build/bin/llama-bench}
t=${THREADS:-2}; p=${P:-128}; n=${N:-64}; d=${D:-512}
pin=${PIN:-}
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  $pin "$rlx" bench membw --threads "$t" --seconds 1 --size-mib 512 --json > "$out/r$r.membw.json"
  cut -d' ' -f1-3 /proc/loadavg > "$out/r$r.loadavg.txt"
  for f in "$@"; do
    m=$(basename "$f" .gguf)
    # A: rlx (pp and tg at depth 0, then tg at depth d)
    $pin "$rlx" bench --weights "$f" --threads "$t" -p "$p" -n "$n" -d 0 -r 1 --json > "$out/r$r.$m.rlx.d0.json"
    $pin "$rlx" bench --weights "$f" --threads "$t" -p 0 -n "$n" -d "$d" -r 1 --json > "$out/r$r.$m.rlx.depth.json"
    # B: llama.cpp
    $pin "$llama" -m "$f" -t "$t" -p "$p" -n "$n" -r 1 -o json > "$out/r$r.$m.llama.d0.json" 2>/dev/null
    $pin "$llama" -m "$f" -t "$t" -p 0 -n "$n" -d "$d" -r 1 -o json > "$out/r$r.$m.llama.depth.json" 2>/dev/null
  done
done
