#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/fuzz/campaign.sh -- build the fuzz targets with clang and libFuzzer
# (-DZX_FUZZ=ON: the libraries instrumented, ASan/UBSan) and run each for a while.
#
#   tests/fuzz/campaign.sh                    every target, 10 s each (tests/run-all.sh)
#   tests/fuzz/campaign.sh -t 300 serve ixfr  those two, 5 minutes each (a long campaign)
#
# Options:
#   -t SECONDS  per target (default 10)
#   -b DIR      the fuzz build dir (default $ZX_FUZZ_BUILD, else <repo>/build-fuzz)
#   -w DIR      work dir (default DIR-of--b/campaign): per target the inputs found
#               (WORK/<t>/corpus) and crashes (WORK/<t>/crash-*), kept across runs
#   -n          do not build (use the binaries in the build dir as they are)
# Each target starts from tests/fuzz/corpus/<t>/ plus what earlier runs in the work
# dir found, and runs one process at a time (the machines are small). It prints per
# target the edges libFuzzer saw (cov), features (ft), executions and executions per
# second; a crash, a leak, a timeout or an out-of-memory fails the run and says how
# to replay the input (tests/fuzz/README.md: how a crash becomes a corpus file).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=10
build=${ZX_FUZZ_BUILD:-$src/build-fuzz}
work=""
do_build=1
while getopts "t:b:w:n" o; do
	case "$o" in
	t) secs=$OPTARG ;;
	b) build=$OPTARG ;;
	w) work=$OPTARG ;;
	n) do_build=0 ;;
	*) sed -n '3,9p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
work=${work:-$build/campaign}
all=(proxy notify tsig serve xfr ixfr cfg events socks5 xot)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
say() { echo "fuzz: $*"; }

if [ "$do_build" = 1 ]; then
	cc=${ZX_FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
	[ -n "$cc" ] || { say "clang not found (tests/bed/install-deps.sh installs clang-14)"; exit 1; }
	if [ ! -f "$build/CMakeCache.txt" ]; then
		CC=$cc cmake -S "$src" -B "$build" -DZX_FUZZ=ON >/dev/null
	fi
	cmake --build "$build" -j"${ZX_JOBS:-2}" --target fuzz_targets >"$build/fuzz-build.log" 2>&1 ||
		{ tail -30 "$build/fuzz-build.log" >&2; say "fuzz build failed ($build/fuzz-build.log)"; exit 1; }
fi

# libFuzzer stops at the first sanitizer report; leaks count (the suppressions cover
# library globals, as in the unit tests).
export ASAN_OPTIONS=${ZX_FUZZ_ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/tests/bed/lsan.supp:print_suppressions=0}

failed=()
printf '%-8s %6s %7s %12s %9s %s\n' target cov ft execs exec/s result
for t in "${targets[@]}"; do
	bin=$build/tests/fuzz/fuzz_$t
	[ -x "$bin" ] || { say "$bin not built"; exit 1; }
	d=$work/$t
	mkdir -p "$d/corpus"
	log=$d/last.log
	rc=0
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$d/" "$d/corpus" "$src/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
	done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	result=ok
	if [ "$rc" -ne 0 ]; then
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		result="FAILED (exit $rc) ${art:-see $log}"
		failed+=("$t")
	fi
	printf '%-8s %6s %7s %12s %9s %s\n' "$t" "${cov:-?}" "${ft:-?}" "${execs:-?}" "${rate:-?}" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
	say "failed: ${failed[*]}; logs in $work/<target>/last.log"
	say "replay: $build/tests/fuzz/fuzz_<target> <crash file>; then fix it and keep the input"
	say "as tests/fuzz/corpus/<target>/crash_<what> (tests/fuzz/README.md)"
	exit 1
fi
say "${#targets[@]} targets, ${secs} s each: no crash"
