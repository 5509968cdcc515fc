#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/bench/compare/summarize.py -- results.md from one compare.sh run: the table of
# ratios (medians of the same run), the spread, the resolution, the load, the engines'
# own times beside. Input: OUT/raw.tsv, OUT/env.txt, OUT/notify/summary.tsv (if any).
#
#   python3 tests/bench/compare/summarize.py OUT > OUT/results.md
import csv
import math
import os
import statistics
import sys

DAEMONS = ["zx", "zxsa", "knot", "bind", "nsd"]
NAMES = {"zx": "zx (Kafka)", "zxsa": "zx standalone", "knot": "Knot", "bind": "BIND",
         "nsd": "NSD"}
OTHERS = ["knot", "bind", "nsd"]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def pct(values, p):
    """Nearest rank: with n < 100 reps the p99 is the largest value."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def fmt(v, unit):
    if v is None:
        return "–"
    if unit == "s":
        return f"{v / 1000:.2f} s"
    if unit == "ms":
        return f"{v:.0f} ms" if v >= 100 else f"{v:.1f} ms"
    if unit == "MiB":
        return f"{v:.0f} MiB"
    return f"{v:,.0f}"


def main():
    out = sys.argv[1]
    rows = list(csv.DictReader(open(os.path.join(out, "raw.tsv")), delimiter="\t"))
    env = open(os.path.join(out, "env.txt")).read().strip().splitlines()

    def vals(row, d, key="value_ms"):
        return [num(r[key]) for r in rows if r["row"] == row and r["daemon"] == d
                and num(r[key]) is not None]

    def failed(row, d):
        return sum(1 for r in rows if r["row"] == row and r["daemon"] == d
                   and num(r["value_ms"]) is None)

    print("# zx against Knot, BIND and NSD: one run, one poller\n")
    for line in env:
        print(f"- {line}")
    print()

    # measures: (label, row, statistic, unit, key)
    measures = [
        ("AXFR of big.test, empty store -> serving the serial", "big", "median", "s",
         "value_ms"),
        ("peak memory during it (PSS summed over the processes)", "big", "median", "MiB",
         "pss_peak_mib"),
        ("1-record IXFR into big.test, NOTIFY sent -> served, p50", "ixfr_1", "median",
         "ms", "value_ms"),
        ("same, p99", "ixfr_1", "p99", "ms", "value_ms"),
        ("1000-record IXFR into big.test, p50", "ixfr_1000", "median", "ms", "value_ms"),
        ("same, p99", "ixfr_1000", "p99", "ms", "value_ms"),
        ("small zones, empty store -> all served", "many", "median", "s", "value_ms"),
        ("peak memory during it (PSS)", "many", "median", "MiB", "pss_peak_mib"),
        ("changed zones, NOTIFY burst sent -> all served", "burst", "median", "s",
         "value_ms"),
    ]
    present = [d for d in DAEMONS if any(r["daemon"] == d for r in rows)]
    heads = [NAMES[d] for d in present]
    ratio_heads = [f"zx/{NAMES[o]}" for o in OTHERS if o in present and "zx" in present]
    if "zxsa" in present:
        ratio_heads += [f"zx sa/{NAMES[o]}" for o in OTHERS if o in present]
    print("## Ratios (zx / other; below 1 is zx ahead)\n")
    print("Each cell: the statistic over the reps, then (min–max) and n. Ratios divide "
          "figures of this run only.\n")
    print("| measure | " + " | ".join(heads + ratio_heads) + " |")
    print("|---" * (1 + len(heads) + len(ratio_heads)) + "|")
    res_notes = {}
    for label, row, stat, unit, key in measures:
        if not any(r["row"] == row for r in rows):
            continue
        stat_of = {}
        cells = []
        for d in present:
            v = vals(row, d, key)
            bad = failed(row, d) if key == "value_ms" else 0
            if not v:
                cells.append("n/a" if d == "zxsa" and row in ("ixfr_1", "ixfr_1000", "burst")
                             else ("failed" if bad else "–"))
                continue
            s = statistics.median(v) if stat == "median" else pct(v, 99)
            stat_of[d] = s
            cell = f"{fmt(s, unit)} ({fmt(min(v), unit)}–{fmt(max(v), unit)}, n={len(v)}"
            if key == "value_ms":
                res = [num(r["res_ms"]) for r in rows if r["row"] == row and r["daemon"] == d
                       and num(r["res_ms"]) is not None]
                if res and max(res) > 2.0:
                    res_notes[(row, d)] = f"{row} {NAMES[d]}: up to {max(res):.1f} ms"
                    cell += f"; res ≤ {fmt(max(res), unit)}"
            cell += ")"
            if bad:
                cell += f", {bad} failed"
            cells.append(cell)
        for base in (["zx"] if "zx" in present else []) + (["zxsa"] if "zxsa" in present
                                                           else []):
            for o in OTHERS:
                if o not in present:
                    continue
                a, b = stat_of.get(base), stat_of.get(o)
                cells.append(f"{a / b:.2f}x" if a is not None and b else "–")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()

    # NOTIFYs lost in the burst
    if any(r["row"] == "burst" for r in rows):
        print("NOTIFYs of the burst not answered (per rep: in the first round / in none of "
              "the rounds, one round a second, up to 5):\n")
        for d in present:
            b = [r for r in rows if r["row"] == "burst" and r["daemon"] == d]
            if b:
                print(f"- {NAMES[d]}: " + ", ".join(
                    f"{r['notify_lost_first']}/{r['notify_lost']} of {r['zones'].split('/')[-1]}"
                    for r in b))
        print()

    floor = [r for r in rows if r["row"].startswith("floor")]
    if floor:
        print("## AXFR floors (same primary, same run)\n")
        for row, what in (("floor_kdig", "kdig AXFR > /dev/null"),
                          ("floor_recv", "receive + walk, store nothing (bench_xfr_parse)")):
            v = [num(r["value_ms"]) for r in floor if r["row"] == row]
            v = [x for x in v if x is not None]
            if v:
                m = statistics.median(v)
                line = f"- {what}: {fmt(m, 's')} ({fmt(min(v), 's')}–{fmt(max(v), 's')}, n={len(v)})"
                for d in ("zx", "zxsa"):
                    z = vals("big", d)
                    if z:
                        line += f"; {NAMES[d]} / it: {statistics.median(z) / m:.2f}x"
                print(line)
        print()

    notify = os.path.join(out, "notify", "summary.tsv")
    if os.path.exists(notify):
        n = {r["daemon"]: r for r in csv.DictReader(open(notify), delimiter="\t")}
        print("## NOTIFYs answered per second (tests/bench/notify/bench.sh, same run)\n")
        print("| daemon | max answered/s (<= 1% lost) | p50/p99 µs at 50% | at 90% | "
              "CPU µs per NOTIFY: answering thread | other threads | Kafka broker | pinning |")
        print("|---|---|---|---|---|---|---|---|")
        for d, r in n.items():
            print(f"| {d} | {int(r['max_answered_per_s']):,} | {r['p50_p99_us_at_50']} | "
                  f"{r['p50_p99_us_at_90']} | {r['answering_thread_us_per_notify']} | "
                  f"{r['other_threads_us_per_notify']} | {r['broker_us_per_notify']} | "
                  f"{r['pin']} |")
        if "notifyd" in n and "knotd" in n and num(n["knotd"]["max_answered_per_s"]):
            print(f"\nnotifyd / knotd: "
                  f"{num(n['notifyd']['max_answered_per_s']) / num(n['knotd']['max_answered_per_s']):.2f}x "
                  "(answered per second: above 1 is notifyd ahead)")
        print()

    print("## Beside: CPU, the engines' own times, resolution, load\n")
    print("| row | daemon | CPU of the daemon (ms, median) | Kafka broker CPU (ms) | "
          "poller CPU (ms) | engine's own time (ms, median) | load (1 min) before–after |")
    print("|---|---|---|---|---|---|---|")
    for row in ("big", "ixfr_1", "ixfr_1000", "many", "burst"):
        for d in present:
            rr = [r for r in rows if r["row"] == row and r["daemon"] == d]
            if not rr:
                continue

            def med(key):
                v = [num(r[key]) for r in rr if num(r[key]) is not None]
                return f"{statistics.median(v):.0f}" if v else "–"
            loads = [num(r["load_before"]) for r in rr] + [num(r["load_after"]) for r in rr]
            loads = [x for x in loads if x is not None]
            print(f"| {row} | {NAMES[d]} | {med('cpu_ms')} | "
                  f"{med('broker_cpu_ms') if d == 'zx' else '–'} | {med('poller_cpu_ms')} | "
                  f"{med('engine_ms')} | {min(loads):.2f}–{max(loads):.2f} |")
    print()
    print("Resolution: every figure is the arrival of the first answer with the target "
          "serial; the zone became servable at most res_ms before it (raw.tsv): the poller's "
          "cadence (1 ms per zone, one query in flight) plus the time the daemon took to "
          "answer the query before.",
          "All within 2 ms." if not res_notes else
          "Over 2 ms (a daemon slow to answer while busy): " + "; ".join(res_notes.values()) + ".")
    tl = os.path.join(out, "zx-timeline.txt")
    if os.path.exists(tl):
        print("\n## Where zx's time went (xfrd's own log, ms from t0; engine-internal)\n")
        print("```")
        print(open(tl).read().rstrip())
        print("```")
    print("\nRaw figures, one line per measurement: raw.tsv; each zone's time: zones/.")


main()
