#!/usr/bin/env python3
"""Medians table of a compare.sh run: rlx vs llama.cpp tokens/s per model and test.

usage: summarize.py OUT_DIR
Prints a Markdown table: the median over rounds of each engine's t/s, the
ratio of the medians, the median of the per-round ratios (rlx / llama.cpp,
each round's runs being back to back), and the number of rounds; then the
memory bandwidth probes (median GB/s of each probe).
"""
import json
import statistics
import sys
from collections import defaultdict

out = sys.argv[1]
runs = [json.loads(l) for l in open(f"{out}/runs.jsonl") if l.strip()]
ts = defaultdict(list)            # (model, test, engine) -> [t/s]
by_round = defaultdict(dict)      # (model, test, round) -> {engine: t/s}
order = []
for r in runs:
    k = (r["model"], r["test"])
    if k not in order:
        order.append(k)
    ts[k + (r["engine"],)].append(r["ts"])
    by_round[k + (r["round"],)][r["engine"]] = r["ts"]

print("| model | test | rlx t/s (median) | llama.cpp t/s (median) | rlx / llama.cpp | median of paired ratios | rounds |")
print("|---|---|---|---|---|---|---|")
for model, test in order:
    a, b = ts.get((model, test, "rlx"), []), ts.get((model, test, "llama.cpp"), [])
    if not a or not b:
        continue
    ma, mb = statistics.median(a), statistics.median(b)
    pairs = [v["rlx"] / v["llama.cpp"] for (m, t, _), v in by_round.items()
             if (m, t) == (model, test) and "rlx" in v and "llama.cpp" in v]
    print(f"| {model} | {test} | {ma:.1f} | {mb:.1f} | {ma / mb:.2f} | {statistics.median(pairs):.2f} | {len(pairs)} |")

try:
    bw = [json.loads(l)["gbs_median"] for l in open(f"{out}/membw.jsonl") if l.strip()]
    print()
    print("memory bandwidth probes (GB/s, median of each 1 s probe):", ", ".join(f"{x:.0f}" for x in bw))
except FileNotFoundError:
    pass
