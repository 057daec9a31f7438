#!/usr/bin/env python3
"""Turns JMH JSON results (-rf json) into PERFORMANCE.md's tables: median of the
measurement iterations with min..max, and for DomainIdBenchmark the seed/platform
and linux/platform ratios of medians measured in the same run (above 1x: the
platform is faster).

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
    medians = {}
    for (cls, name), params, raw, unit in results:
        if "impl" not in params:
            continue
        key = (name, int(params["dids"]), int(params["occupancy"]))
        medians.setdefault(key, {})[params["impl"]] = statistics.median(raw)
    if not medians:
        return
    print()
    print("| benchmark | dids | occupancy % | seed (ns) | linux (ns) | platform (ns) | seed / platform"
          " | linux / platform | platform 65536 / 256 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in sorted(medians):
        m = medians[key]
        if "platform" not in m:
            continue
        name, dids, occ = key
        plat = m["platform"]
        growth = ""
        small = medians.get((name, 256, occ), {}).get("platform")
        if dids == 65536 and small:
            growth = f"{plat / small:.2f}x"
        cells = [fmt(m[i]) if i in m else "" for i in ("seed", "linux")]
        ratios = [ratio(m[i] / plat) if i in m else "" for i in ("seed", "linux")]
        print(f"| {name} | {dids} | {occ} | {cells[0]} | {cells[1]} | {fmt(plat)} | {ratios[0]} | {ratios[1]} | {growth} |")

if __name__ == "__main__":
    main(sys.argv[1:])
