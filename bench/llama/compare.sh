#!/usr/bin/env bash
# Side-by-side decoder LM speed: `rlx bench` and llama.cpp's `llama-bench` on
# the same GGUF files, interleaved (A B A B …) because the machine drifts.
#
#   bench/llama/compare.sh OUT_DIR ROUNDS FILE.gguf…
#
# Environment: RLX (rlx binary, default ./rlx), LLAMA_BENCH (default
# /work/llama.cpp/build/bin/llama-bench; build llama.cpp yourself, this
# script never does), THREADS (default 2), P (128), N (64), D (512).
# Every run appends one JSON document per engine to OUT_DIR/runs.jsonl-like
# files; summarize.py turns them into the medians table. A memory
# bandwidth probe (`rlx bench membw`) runs before every round.
set -euo pipefail
out=${1:?OUT_DIR}; rounds=${2:?ROUNDS}; shift 2
rlx=${RLX:-./rlx}
llama=${LLAMA_BENCH:-/work/llama.cpp/build/bin/llama-bench}
t=${THREADS:-2}; p=${P:-128}; n=${N:-64}; d=${D:-512}
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  "$rlx" bench membw --threads "$t" --seconds 1 --size-mib 512 --json >> "$out/membw.jsonl"
  for f in "$@"; do
    m=$(basename "$f" .gguf)
    # A: rlx (pp and tg at depth 0, then tg at depth d)
    { "$rlx" bench --weights "$f" --threads "$t" -p "$p" -n "$n" -d 0 -r 1 --json
      "$rlx" bench --weights "$f" --threads "$t" -p 0 -n "$n" -d "$d" -r 1 --json
    } | jq -c --arg r "$r" '.[] | {engine: "rlx", round: ($r|tonumber), model: .model, test: .test, ts: .median_ts}' >> "$out/runs.jsonl"
    # B: llama.cpp
    { "$llama" -m "$f" -t "$t" -p "$p" -n "$n" -r 1 -o json
      "$llama" -m "$f" -t "$t" -p 0 -n "$n" -d "$d" -r 1 -o json
    } 2>/dev/null | jq -c --arg r "$r" --arg m "$m.gguf" '.[] | {engine: "llama.cpp", round: ($r|tonumber), model: $m,
        test: ((if .n_prompt > 0 then "pp\(.n_prompt)" else "tg\(.n_gen)" end) + (if .n_depth > 0 then " @ d\(.n_depth)" else "" end)),
        ts: .avg_ts}' >> "$out/runs.jsonl"
  done
done
"$rlx" bench membw --threads "$t" --seconds 1 --size-mib 512 --json >> "$out/membw.jsonl"
