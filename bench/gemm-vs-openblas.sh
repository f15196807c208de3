#!/usr/bin/env bash
# Side-by-side SGEMM: rlx vs OpenBLAS cblas_sgemm, run interleaved
# (A B A B …) because this machine's speed drifts by 20% and more within a
# minute, plus the GEMV against the read bandwidth: `rlx bench gemm
# --membw` probes it with one pass over 256 MiB right before every call
# (and a 1 s series runs before and after, for context). Prints a Markdown table (medians over rounds of each
# round's median; ratios are medians of the per-round ratios).
#
# Needs libopenblas-dev (cblas.h, -lopenblas) and python3.
#
#   bench/gemm-vs-openblas.sh [rounds=5] [threads=2] [runs=10]
#
# CPUTIME=1 divides by CPU time per thread instead of wall time (both
# programs' --cputime): steadier when other processes share the cores,
# though time spent spinning at barriers still counts. GEMV rows always
# use wall time.
#
# Debian's OpenBLAS 0.3.21 does not recognise Zen 5 and falls back to its
# AVX2 kernels; OPENBLAS_CORETYPE=SkylakeX selects its AVX-512 ones. The
# script sets it whatever the environment says (this machine's environment
# sets OPENBLAS_CORETYPE=Haswell); CORETYPE=... overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
threads=${2:-2}
runs=${3:-10}
export OPENBLAS_CORETYPE=${CORETYPE:-SkylakeX}
export OPENBLAS_NUM_THREADS=$threads
cpu_rlx=()
cpu_ob=()
if [ "${CPUTIME:-0}" = 1 ]; then
	cpu_rlx=(--cputime)
	cpu_ob=(-cputime)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/rlx" ./cmd/rlx
go build -tags openblas -o "$tmp/openblas" ./bench/openblas
log=$tmp/log.jsonl

# shape: M N K layout
shapes=("1024 1024 1024 kn" "128 3072 1024 nk")
for r in $(seq "$rounds"); do
	for s in "${shapes[@]}"; do
		read -r m n k lay <<<"$s"
		"$tmp/openblas" -m "$m" -n "$n" -k "$k" -layout "$lay" -threads "$threads" -r "$runs" "${cpu_ob[@]}" -json |
			sed "s/^{/{\"round\":$r,/" >>"$log"
		"$tmp/rlx" bench gemm --m "$m" --n "$n" --k "$k" --layout "$lay" --threads "$threads" -r "$runs" "${cpu_rlx[@]}" --json |
			sed "s/^{/{\"round\":$r,/" >>"$log"
		"$tmp/rlx" bench gemm --m "$m" --n "$n" --k "$k" --layout "$lay" --threads "$threads" -r "$runs" "${cpu_rlx[@]}" --packed --json |
			sed "s/^{/{\"round\":$r,\"variant\":\"packed\",/" >>"$log"
	done
	# GEMV: bandwidth probe, GEMV, probe.
	"$tmp/rlx" bench membw --threads "$threads" --seconds 1 --json | sed "s/^{/{\"round\":$r,\"when\":\"before\",/" >>"$log"
	for dt in f32 f16 bf16; do
		"$tmp/rlx" bench gemm --m 1 --n 8192 --k 2048 --layout nk --dtype $dt --threads "$threads" -r $((runs * 4)) --membw --json |
			sed "s/^{/{\"round\":$r,/" >>"$log"
	done
	"$tmp/openblas" -m 1 -n 8192 -k 2048 -layout nk -threads "$threads" -r $((runs * 10)) -json |
		sed "s/^{/{\"round\":$r,/" >>"$log"
	"$tmp/rlx" bench membw --threads "$threads" --seconds 1 --json | sed "s/^{/{\"round\":$r,\"when\":\"after\",/" >>"$log"
done

python3 - "$log" "$rounds" "$threads" "${CPUTIME:-0}" "$OPENBLAS_CORETYPE" <<'PY'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds, threads, cputime, core = int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1", sys.argv[5]
def key(r):
    return (r["m"], r["n"], r["k"], r["layout"])
def med(xs): return st.median(xs) if xs else float("nan")
clock = "CPU time per thread" if cputime else "wall time"
print(f"{rounds} interleaved rounds, {threads} threads, OPENBLAS_CORETYPE={core}; GFLOP/s by {clock} = median over rounds of each round's median")
print()
print("| shape M×N×K (B layout) | OpenBLAS | rlx | rlx / OpenBLAS | rlx, B pre-packed | pre-packed / OpenBLAS |")
print("|---|---|---|---|---|---|")
for shape in ["1024 1024 1024 kn", "128 3072 1024 nk"]:
    m, n, k, lay = shape.split(); m, n, k = int(m), int(n), int(k)
    sel = lambda impl, variant=None: {r["round"]: r["gflops_median"] for r in rows
        if r.get("impl") == impl and key(r) == (m, n, k, lay) and r.get("variant") == variant and r.get("dtype", "f32") == "f32"}
    ob, rl, pk = sel("openblas"), sel("rlx"), sel("rlx", "packed")
    ratio = [rl[i] / ob[i] for i in ob if i in rl]
    pratio = [pk[i] / ob[i] for i in ob if i in pk]
    print(f"| {m}×{n}×{k} ({lay}) | {med(list(ob.values())):.0f} (spread {min(ob.values()):.0f}–{max(ob.values()):.0f}) | "
          f"{med(list(rl.values())):.0f} (spread {min(rl.values()):.0f}–{max(rl.values()):.0f}) | {med(ratio):.2f} (per-round {min(ratio):.2f}–{max(ratio):.2f}) | "
          f"{med(list(pk.values())):.0f} | {med(pratio):.2f} |")
print()
print("| GEMV 1×8192×2048 (nk) | weights GB/s | probe GB/s (pass before each call) | weights / probe (median of per-call ratios) | 1 s series before / after |")
print("|---|---|---|---|---|")
bw = {(r["round"], r["when"]): r["gbs_median"] for r in rows if r.get("impl") == "membw"}
for dt in ["f32", "f16", "bf16"]:
    g = [r for r in rows if r.get("impl") == "rlx" and r["m"] == 1 and r["dtype"] == dt]
    rr = [r["weights_to_membw"] for r in g]
    b4 = [bw[(r["round"], "before")] for r in g]; af = [bw[(r["round"], "after")] for r in g]
    print(f"| rlx {dt} | {med([r['weight_gbs'] for r in g]):.1f} | {med([r['membw_gbs'] for r in g]):.1f} | "
          f"{med(rr):.2f} (per-round {min(rr):.2f}–{max(rr):.2f}) | {med(b4):.1f} / {med(af):.1f} |")
ob = {r["round"]: r["gflops_median"] * 2 / 1e0 for r in rows if r.get("impl") == "openblas" and r["m"] == 1}
# GFLOP/s × 2 bytes per flop (4-byte weight, 2 flops) = GB/s of weights.
print(f"| OpenBLAS f32 (same weights every call) | {med(list(ob.values())):.1f} | | | |")
PY
