#!/usr/bin/env python3
"""Turns JMH JSON results (-rf json) into PERFORMANCE.md's tables: median of the
measurement iterations with min..max, and for DomainIdBenchmark the seed/platform
ratio of medians measured in the same run.

usage: python3 iommu.bench/summarize.py RESULT.json [RESULT.json ...]
"""
import json
import statistics
import sys


def rows(paths):
    for path in paths:
        with open(path) as f:
            for r in json.load(f):
                raw = [x for fork in r["primaryMetric"]["rawData"] for x in fork]
                yield r["benchmark"].rsplit(".", 2)[-2:], r.get("params", {}), raw, r["primaryMetric"]["scoreUnit"]


def fmt(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def ratio(x):
    return f"{x:,.0f}x" if x >= 100 else f"{x:.2f}x"


def main(paths):
    results = list(rows(paths))
    print("| benchmark | params | median | min..max | unit |")
    print("|---|---|---:|---:|---|")
    for (cls, name), params, raw, unit in results:
        p = " ".join(f"{k}={v}" for k, v in sorted(params.items()))
        print(f"| {cls}.{name} | {p} | {fmt(statistics.median(raw))} | {fmt(min(raw))}..{fmt(max(raw))} | {unit} |")
    seeds = {}
    plats = {}
    for (cls, name), params, raw, unit in results:
        if "impl" not in params:
            continue
        key = (name, int(params["dids"]), int(params["occupancy"]))
        (seeds if params["impl"] == "seed" else plats)[key] = statistics.median(raw)
    if not seeds:
        return
    print()
    print("| benchmark | dids | occupancy % | seed (ns) | platform (ns) | seed / platform | platform 65536 / 256 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key in sorted(seeds):
        if key not in plats:
            continue
        name, dids, occ = key
        growth = ""
        small = plats.get((name, 256, occ))
        if dids == 65536 and small:
            growth = f"{plats[key] / small:.2f}x"
        print(f"| {name} | {dids} | {occ} | {fmt(seeds[key])} | {fmt(plats[key])} | {ratio(seeds[key] / plats[key])} | {growth} |")


if __name__ == "__main__":
    main(sys.argv[1:])
