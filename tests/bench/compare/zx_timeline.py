#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/bench/compare/zx_timeline.py -- where zx's time goes in one measurement, from
# xfrd's own log (engine-internal, reported beside the poller's figures, never instead).
#
#   python3 tests/bench/compare/zx_timeline.py XFRD_LOG T0 [SINCE]
#
# T0: the measurement's start, seconds since the epoch (the daemon's start or the first
# NOTIFY sent); SINCE (default T0): ignore log lines before it. Prints one key=value line,
# milliseconds from T0:
#   started, assigned (first partition_assigned: the consumer group joined),
#   due_first/due_last (refresh_due: the REFRESH requests of the timers produced),
#   read_first/read_last (request_read: requests consumed), done_first/done_last
#   (xfr_done), n_done, axfr, ixfr, conn_new, conn_reused, soa_ms/commit_ms/duration_ms
#   (sums of the per-transfer figures), commit_ms_max.
import re
import sys
from datetime import datetime, timezone

TS = re.compile(r"^ts=(\S+)Z ")
EV = re.compile(r" event=(\S+)")


def epoch(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=timezone.utc).timestamp()


def main():
    log, t0 = sys.argv[1], float(sys.argv[2])
    since = float(sys.argv[3]) if len(sys.argv) > 3 else t0
    first, last = {}, {}
    n = {"axfr": 0, "ixfr": 0, "conn_new": 0, "conn_reused": 0, "n_done": 0}
    sums = {"soa_ms": 0.0, "commit_ms": 0.0, "duration_ms": 0.0}
    commit_max = 0.0
    for line in open(log, errors="replace"):
        m = TS.match(line)
        e = EV.search(line)
        if not m or not e:
            continue
        t = epoch(m.group(1))
        if t < since - 0.002:  # the log's ms vs T0's µs
            continue
        ev = e.group(1)
        key = {"xfrd_started": "started", "partition_assigned": "assigned",
               "refresh_due": "due", "request_read": "read", "xfr_done": "done"}.get(ev)
        if key is None:
            continue
        ms = (t - t0) * 1000
        first.setdefault(key, ms)
        last[key] = ms
        if ev == "xfr_done":
            n["n_done"] += 1
            n["axfr"] += " kind=axfr " in line
            n["ixfr"] += " kind=ixfr " in line
            n["conn_new"] += " conn=new" in line
            n["conn_reused"] += " conn=reused" in line
            for k in sums:
                mm = re.search(rf" {k}=([0-9.]+)", line)
                if mm:
                    sums[k] += float(mm.group(1))
                    if k == "commit_ms":
                        commit_max = max(commit_max, float(mm.group(1)))
    out = []
    for k in ("started", "assigned"):
        if k in first:
            out.append(f"{k}={first[k]:.0f}")
    for k in ("due", "read", "done"):
        if k in first:
            out.append(f"{k}_first={first[k]:.0f} {k}_last={last[k]:.0f}")
    out += [f"{k}={v}" for k, v in n.items()]
    out += [f"{k}_sum={v:.0f}" for k, v in sums.items()]
    out.append(f"commit_ms_max={commit_max:.1f}")
    print(" ".join(out))


main()
