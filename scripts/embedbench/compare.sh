#!/usr/bin/env bash
# Interleaved comparison of `rlx embed` and llama.cpp's llama-embedding on the synthetic
# MiniLM of make_model.py: both embed the same 1 000 sentences (one per line) with 2 threads,
# mean pooling, rounds A B A B …; prints every run and the medians (wall seconds and
# sentences/s; CPU seconds too, since the machine is shared).
#
#   python3 scripts/embedbench/make_model.py --out /tmp/minilm   # PYTHONPATH=<llama.cpp>/gguf-py
#   scripts/embedbench/compare.sh /tmp/minilm [rounds] [gguf files…]
set -euo pipefail
dir=${1:?model folder from make_model.py}
rounds=${2:-5}
shift $(( $# >= 2 ? 2 : $# ))
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(minilm-f16.gguf minilm-f32.gguf)
LLAMA=${LLAMA:-/work/llama.cpp/build/bin/llama-embedding}
LLAMA_BATCH=${LLAMA_BATCH:-2048}
bin=$(mktemp -d)/rlx
go build -o "$bin" ./cmd/rlx
n=$(wc -l < "$dir/sentences.txt")
res=$(mktemp)
run() { # label command…
	local label=$1; shift
	local tf
	tf=$(mktemp)
	/usr/bin/time -o "$tf" -f "%e %U %S" "$@" > /dev/null 2>&1
	echo "$label $(tail -1 "$tf")" | tee -a "$res"
	rm -f "$tf"
}
for r in $(seq "$rounds"); do
	for m in "${models[@]}"; do
		run "rlx:$m" "$bin" embed --weights "$dir/$m" --threads 2 --pooling mean < "$dir/sentences.txt"
		run "llama:$m" "$LLAMA" -m "$dir/$m" -f "$dir/sentences.txt" -t 2 -tb 2 -c "$LLAMA_BATCH" -b "$LLAMA_BATCH" -ub "$LLAMA_BATCH" --pooling mean --embd-output-format array
	done
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "--- medians over $rounds rounds, $n sentences"
python3 - "$res" "$n" <<'PY'
import statistics, sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, wall, user, sys_ = line.split()
    runs[label].append((float(wall), float(user) + float(sys_)))
n = int(sys.argv[2])
for label, v in runs.items():
    w = statistics.median(x[0] for x in v)
    c = statistics.median(x[1] for x in v)
    print(f"{label:28s} wall {w:7.2f}s ({n / w:7.1f} sentences/s; min {min(x[0] for x in v):.2f} max {max(x[0] for x in v):.2f})  cpu {c:7.2f}s")
PY
