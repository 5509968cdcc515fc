#!/usr/bin/env bash
# tests/bench/store/run.sh -- the zone store's benchmark (not a timed test).
#
#   cmake --build build --target bench_zdb && tests/bench/store/run.sh [BUILD_DIR] [WORK_DIR]
#
# Measures, with the store's default settings (sync NOMETA, chunks of 50,000 RRs / 4 MiB):
#  - AXFR write of 100k and 1M records (zonegen's big.test mix), in canonical order (as
#    Knot, BIND and NSD send it) and, for 1M, in generation order; time, VmHWM, RssAnon
#    (the input is mmap'd: RssAnon is the store's own memory) and how long a concurrent
#    commit of another zone waited for the write lock;
#  - the same 1M AXFR fed at 1.3M RR/s (kdig's floor rate): tail_s = what the store adds
#    after the last RR;
#  - IXFR of 1 and 1,000 changed A records into the 1M zone, and of 1 into a 1k zone:
#    zdb_ixfr_begin() to the return of zdb_ixfr_commit() (median of 21);
#  - 10,000 zones of 11 RRs stored by 1, 2 and 8 threads (one commit per zone, commits
#    that overlap grouped: one sync for several zones), and by 1 thread without sync;
#  - the 1M RRs in three raw LMDB layouts (per-RRset values, DUPSORT, RDATA in the key);
#  - point lookups (zdb_view_*) in the 1M zone: lookups per second (bench_zdb lookup).
set -euo pipefail
build=${1:-$(cd "$(dirname "$0")/../../.." && pwd)/build}
work=${2:-$(mktemp -d /tmp/bench_zdb.XXXXXX)}
bin=$build/tests/bench/store/bench_zdb
[ -x "$bin" ] || { echo "build bench_zdb first: cmake --build $build --target bench_zdb" >&2; exit 2; }
cd "$work"
[ -f z1k.bin ] || "$bin" prep -n 1000 -o z1k.bin --sorted >/dev/null
[ -f z100k.bin ] || "$bin" prep -n 100000 -o z100k.bin --sorted >/dev/null
[ -f z1m.bin ] || "$bin" prep -n 1000000 -o z1m.bin --sorted >/dev/null
[ -f z1m-gen.bin ] || "$bin" prep -n 1000000 -o z1m-gen.bin >/dev/null
run() { rm -rf "$1"; "$bin" axfr -s "$1" -i "$2" "${@:3}"; }
run s1k z1k.bin
run s100k z100k.bin
run s1m-gen z1m-gen.bin
run s1m-full z1m.bin --sync full
run s1m z1m.bin
run s1m-paced z1m.bin --pace 1300000
run s1m-gen-paced z1m-gen.bin --pace 1300000
"$bin" ixfr -s s1m -n 1
"$bin" ixfr -s s1m -n 1000
"$bin" ixfr -s s1m -n 1 --sync full
"$bin" ixfr -s s1k -n 1
"$bin" layout -i z1m.bin -s layout
run slk z1m.bin --sync none
"$bin" lookup -s slk -i z1m.bin -n 1000000
many() { rm -rf smany; "$bin" many -s smany "$@"; }
many -n 10000 -t 1
many -n 10000 -t 2
many -n 10000 -t 8
many -n 10000 -t 1 --sync none
rm -rf s1k s100k s1m slk s1m-gen s1m-full s1m-paced s1m-gen-paced layout smany
echo "inputs kept in $work"
