#!/usr/bin/env python3
"""Medians of a bench/cuda/ab.sh run, and each setting's ratio to the first.

usage: ab.py OUT_DIR [FIRST_LABEL]
A run counts with its own median (rlx bench's median_ts); the table gives
the median over rounds per model, test and setting, the ratio of the
medians to the first setting's (FIRST_LABEL, else the setting of the
first file in round 1), and the median of the per-round ratios.
"""
import glob
import json
import os
import re
import statistics
import sys
from collections import defaultdict

out = sys.argv[1]
ts = defaultdict(list)        # (model, test, label) -> [t/s]
by_round = defaultdict(dict)  # (model, test, round) -> {label: t/s}
tests, labels = [], []

files = glob.glob(os.path.join(out, "r*.json"))
files.sort(key=lambda f: (int(re.match(r"r(\d+)\.", os.path.basename(f)).group(1)), os.path.getmtime(f)))
for f in files:
    m = re.match(r"r(\d+)\.(.+)\.([^.]+)\.(d0|depth)\.json$", os.path.basename(f))
    if not m:
        continue
    rnd, model, label = int(m.group(1)), m.group(2), m.group(3)
    try:
        docs = json.load(open(f))
    except (json.JSONDecodeError, OSError):
        print(f"skipped {f}: not a bench JSON", file=sys.stderr)
        continue
    if label not in labels:
        labels.append(label)
    for d in docs:
        test = d["test"]
        if (model, test) not in tests:
            tests.append((model, test))
        ts[(model, test, label)].append(d["median_ts"])
        by_round[(model, test, rnd)][label] = d["median_ts"]

if not labels:
    sys.exit(f"no runs in {out}")
base = sys.argv[2] if len(sys.argv) > 2 else labels[0]
print(f"| model | test | setting | t/s (median) | vs {base} (medians) | median of paired ratios | rounds |")
print("|---|---|---|---:|---:|---:|---:|")
for model, test in tests:
    b = ts.get((model, test, base))
    for label in labels:
        v = ts.get((model, test, label))
        if not v:
            continue
        mv = statistics.median(v)
        if not b:
            print(f"| {model} | {test} | {label} | {mv:.1f} | | | {len(v)} |")
            continue
        pairs = [r[label] / r[base] for (mo, te, _), r in by_round.items()
                 if (mo, te) == (model, test) and label in r and base in r]
        print(f"| {model} | {test} | {label} | {mv:.1f} | {mv / statistics.median(b):.3f} | "
              f"{statistics.median(pairs):.3f} | {len(v)} |")
