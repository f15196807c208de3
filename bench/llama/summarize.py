#!/usr/bin/env python3
"""Medians table of a compare.sh run: rlx vs llama.cpp tokens/s per model and test.

usage: summarize.py OUT_DIR
Each run counts with the median of its samples (rlx bench's median_ts,
llama-bench's samples_ts). Prints a Markdown table: the median over rounds of
each engine's t/s, the
ratio of the medians, the median of the per-round ratios (rlx / llama.cpp,
each round's runs being back to back), and the number of rounds; then the
memory bandwidth probe (median GB/s) and load average before each round.
"""
import glob
import json
import os
import re
import statistics
import sys
from collections import defaultdict

out = sys.argv[1]
ts = defaultdict(list)          # (model, test, engine) -> [t/s]
by_round = defaultdict(dict)    # (model, test, round) -> {engine: t/s}
order = []


def add(model, test, engine, rnd, v):
    k = (model, test)
    if k not in order:
        order.append(k)
    ts[k + (engine,)].append(v)
    by_round[k + (rnd,)][engine] = v


files = glob.glob(os.path.join(out, "r*.*.json"))
files.sort(key=lambda f: (int(re.match(r"r(\d+)\.", os.path.basename(f)).group(1)), f))
for f in files:
    m = re.match(r"r(\d+)\.(.+)\.(rlx|llama)\.(d0|depth)\.json$", os.path.basename(f))
    if not m:
        continue
    rnd, model, engine = int(m.group(1)), m.group(2), m.group(3)
    try:
        docs = json.load(open(f))
    except (json.JSONDecodeError, OSError):
        continue
    for d in docs:
        if engine == "rlx":
            add(model, d["test"], "rlx", rnd, d["median_ts"])
        else:
            test = f"pp{d['n_prompt']}" if d["n_prompt"] > 0 else f"tg{d['n_gen']}"
            if d.get("n_depth", 0) > 0:
                test += f" @ d{d['n_depth']}"
            # The median of the run's samples, as rlx bench reports: on a
            # GPU llama-bench's first pp sample runs at a third of the rest
            # (clocks ramping), which its mean carries along.
            samples = d.get("samples_ts") or [d["avg_ts"]]
            add(model, test, "llama.cpp", rnd, statistics.median(samples))

print("| model | test | rlx t/s | llama.cpp t/s | rlx / llama.cpp (medians) | median of paired ratios | rounds |")
print("|---|---|---|---|---|---|---|")
for model, test in order:
    a, b = ts.get((model, test, "rlx"), []), ts.get((model, test, "llama.cpp"), [])
    if not a or not b:
        continue
    ma, mb = statistics.median(a), statistics.median(b)
    pairs = [v["rlx"] / v["llama.cpp"] for (mo, te, _), v in by_round.items()
             if (mo, te) == (model, test) and "rlx" in v and "llama.cpp" in v]
    print(f"| {model} | {test} | {ma:.1f} | {mb:.1f} | {ma / mb:.2f} | {statistics.median(pairs):.2f} | {len(pairs)} |")

print()
for f in sorted(glob.glob(os.path.join(out, "r*.membw.json"))):
    r = os.path.basename(f).split(".")[0]
    bw = json.load(open(f))["gbs_median"]
    la = ""
    lf = os.path.join(out, f"{r}.loadavg.txt")
    if os.path.exists(lf):
        la = open(lf).read().strip()
    print(f"- round {r[1:]}: read bandwidth {bw:.0f} GB/s, load average {la}")
