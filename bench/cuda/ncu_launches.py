#!/usr/bin/env python3
"""Per-launch device times from an Nsight Compute CSV, grouped by kernel.

usage: ncu_launches.py FILE.csv [LAST_N] [--seq N]

FILE.csv is `ncu --csv --metrics gpu__time_duration.sum[,dram__bytes_read.sum,
launch__grid_size,launch__registers_per_thread] PROGRAM` output (the other
lines ncu prints are skipped). LAST_N keeps the last N launches (one decode
step of `rlx bench -p 0 -n 2`: the step's launch count); --seq N prints the
first N of those one by one, in order, as well. Groups are (kernel, grid);
TB/s is DRAM bytes read over the group's time.
"""
import argparse
import csv
import re
from collections import OrderedDict

ap = argparse.ArgumentParser(description="Per-launch device times of an ncu CSV, grouped by kernel and grid.")
ap.add_argument("csv")
ap.add_argument("last", nargs="?", type=int, default=0, help="keep the last N launches")
ap.add_argument("--seq", type=int, default=0, help="also list the first N kept launches in order")
opt = ap.parse_args()
path, last, seq = opt.csv, opt.last, opt.seq

rows = [line for line in open(path, errors="replace") if line.startswith('"')]
launches = OrderedDict()
for r in csv.DictReader(rows):
    d = launches.setdefault(int(r["ID"]), {"name": re.sub(r"\(.*", "", r["Kernel Name"])[:40]})
    d[r["Metric Name"]] = r["Metric Value"].replace(",", "")
ks = list(launches.values())
if last:
    ks = ks[-last:]


def num(d, k):
    try:
        return float(d.get(k, "") or 0)
    except ValueError:
        return 0.0


groups = OrderedDict()
for d in ks:
    g = groups.setdefault((d["name"], d.get("launch__grid_size", "")), [0, 0.0, 0.0, d.get("launch__registers_per_thread", "")])
    g[0] += 1
    g[1] += num(d, "gpu__time_duration.sum") / 1e3  # ns -> µs
    g[2] += num(d, "dram__bytes_read.sum") / 1e6    # bytes -> MB
total = sum(g[1] for g in groups.values())
print(f"{path}: {len(launches)} launches; {len(ks)} kept, {total:.1f} µs")
print(f"{'kernel':40s} {'grid':>7s} {'n':>4s} {'µs each':>8s} {'µs all':>8s} {'MB each':>8s} {'TB/s':>5s} {'regs':>4s}")
for (name, grid), (n, t, mb, regs) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
    tbs = mb / t if t else 0.0  # MB/µs = TB/s
    print(f"{name:40s} {grid:>7s} {n:4d} {t / n:8.2f} {t:8.1f} {mb / n:8.2f} {tbs:5.2f} {regs:>4s}")
for d in ks[:seq]:
    print(f"  {d['name']:40s} grid {d.get('launch__grid_size', ''):>7s} {num(d, 'gpu__time_duration.sum') / 1e3:7.2f} µs "
          f"{num(d, 'dram__bytes_read.sum') / 1e6:7.2f} MB")
