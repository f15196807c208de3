#!/usr/bin/env bash
# Interleaved A/B runs of `rlx bench` on a GPU machine: the same files under
# several settings (environment variables, or another rlx binary), one
# setting after the other for each file in every round (A B C A B C …),
# because a GPU's clocks and the host drift between runs.
#
#   bench/cuda/ab.sh OUT_DIR ROUNDS FILE.gguf… -- 'LABEL: VAR=v VAR2=w' 'LABEL2: RLX=bin/cuda/rlx.old' …
#
# Each setting is "label: assignments"; the assignments (none for the
# defaults) are set for that setting's runs only, and RLX among them picks
# the binary (default bin/cuda/rlx). Environment: DEVICE (cuda), P (512),
# N (128), D (0: no depth run; else tg at that depth too), R (3:
# repetitions inside each run). Each run's JSON goes to
# OUT_DIR/r<round>.<model>.<label>.<part>.json; bench/cuda/ab.py OUT_DIR
# prints the medians and each setting's ratio to the first.
set -euo pipefail
out=${1:?OUT_DIR}; rounds=${2:?ROUNDS}; shift 2
files=()
while [[ $# -gt 0 && "$1" != "--" ]]; do files+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
[[ ${#files[@]} -gt 0 && $# -gt 0 ]] || { echo "usage: $0 OUT_DIR ROUNDS FILE… -- 'LABEL: VAR=v …' …" >&2; exit 2; }
dev=${DEVICE:-cuda}; p=${P:-512}; n=${N:-128}; d=${D:-0}; r=${R:-3}
mkdir -p "$out"
for k in $(seq 1 "$rounds"); do
  for f in "${files[@]}"; do
    m=$(basename "$f" .gguf)
    for s in "$@"; do
      label=${s%%:*}
      read -r -a vars <<<"${s#*:}"
      rlx=bin/cuda/rlx
      for v in "${vars[@]}"; do [[ $v == RLX=* ]] && rlx=${v#RLX=}; done
      env "${vars[@]}" "$rlx" bench --weights "$f" --device "$dev" -p "$p" -n "$n" -r "$r" --json \
        > "$out/r$k.$m.$label.d0.json"
      if [[ "$d" -gt 0 ]]; then
        env "${vars[@]}" "$rlx" bench --weights "$f" --device "$dev" -p 0 -n "$n" -d "$d" -r "$r" --json \
          > "$out/r$k.$m.$label.depth.json"
      fi
    done
  done
done
