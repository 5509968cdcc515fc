#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check xfrd logs of several replicas: no zone refreshed by two replicas at once.

usage: overlap.py [--primary ADDR@PORT] REPLICA=LOG... ; each refresh is an interval
[end - duration, end] taken from the engine's xfr_done / xfr_uptodate / xfr_failed
lines (with --primary, only those from that primary: a follower's copies from
another replica do not count). Prints the overlaps and exits 1 when there is one;
prints a summary otherwise.
"""
import re
import sys
from datetime import datetime

LINE = re.compile(r'ts=(\S+) .*event=(xfr_done|xfr_uptodate|xfr_failed) zone=(\S+) .*duration_ms=([0-9.]+)')
PRIMARY = re.compile(r' primary=(\S+)')


def parse(path, primary=None):
    out = []
    with open(path, errors='replace') as f:
        for line in f:
            m = LINE.search(line)
            if not m:
                continue
            if primary is not None:
                p = PRIMARY.search(line)
                if p is None or p.group(1) != primary:
                    continue
            end = datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%fZ').timestamp()
            out.append((m.group(3), end - float(m.group(4)) / 1000.0, end))
    return out


def main():
    by_zone = {}
    args = sys.argv[1:]
    primary = None
    if len(args) >= 2 and args[0] == '--primary':
        primary = args[1]
        args = args[2:]
    for arg in args:
        rep, path = arg.split('=', 1)
        for zone, start, end in parse(path, primary):
            by_zone.setdefault(zone, []).append((start, end, rep))
    bad = 0
    total = 0
    for zone, iv in by_zone.items():
        iv.sort()
        total += len(iv)
        for i in range(1, len(iv)):
            # log timestamps have ms resolution: allow 2 ms of rounding
            if iv[i][2] != iv[i - 1][2] and iv[i][0] < iv[i - 1][1] - 0.002:
                print(f'overlap {zone}: {iv[i - 1]} and {iv[i]}')
                bad += 1
    print(f'{total} refreshes of {len(by_zone)} zones, {bad} overlaps between replicas')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
