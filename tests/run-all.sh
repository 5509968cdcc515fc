#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/run-all.sh -- THE test command: from nothing on Debian 12 (as root, or
# with sudo), install the packages, build with the sanitizers, start the test
# bed's Kafka, run every test, stop everything, exit non-zero on any failure.
#
#   tests/run-all.sh                 unit + integration, then a short fuzz campaign
#   tests/run-all.sh -L unit         arguments go to ctest (-L, -R, -E, ...); no fuzzing
#
# Environment: ZX_BUILD (default <repo>/build), ZX_BED_DIR (default
# $ZX_BUILD/bed), ZX_CACHE (jar cache, default ~/.cache/zx), ZX_KAFKA_FORCE=mock
# (run the mock cluster instead of Apache Kafka), ZX_JOBS (default 2),
# ZX_FUZZ_SECONDS (seconds per fuzz target, tests/fuzz/campaign.sh; default 10 for a
# full run, 0 with ctest arguments; 0 skips), ZX_FUZZ_BUILD (the clang fuzz build,
# default $ZX_BUILD-fuzz).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ZX_SRC=$src
export ZX_BUILD=${ZX_BUILD:-$src/build}
export ZX_BED_DIR=${ZX_BED_DIR:-$ZX_BUILD/bed}
jobs=${ZX_JOBS:-2}
fuzz_secs=${ZX_FUZZ_SECONDS:-}
if [ -z "$fuzz_secs" ]; then
	fuzz_secs=10
	[ $# -eq 0 ] || fuzz_secs=0
fi
fuzz_build=${ZX_FUZZ_BUILD:-$ZX_BUILD-fuzz}

t_start=$SECONDS
t_mark=$SECONDS
timings=()
phase()
{
	timings+=("$(printf '%-10s %4ds' "$1" $((SECONDS - t_mark)))")
	t_mark=$SECONDS
}
say() { echo "=== run-all: $*"; }

kafka_started=0
ctest_pid=""
mkdir -p "$ZX_BED_DIR"
run_mark=$(mktemp "$ZX_BED_DIR/.run-all.XXXXXX") # pid lists newer than this are ours
cleanup()
{
	local rc=$? f pid name i
	trap - EXIT INT TERM
	# Interrupted during ctest: stop it and its tests (their own traps clean up).
	if [ -n "$ctest_pid" ] && kill -0 "$ctest_pid" 2>/dev/null; then
		say "stopping ctest (pid $ctest_pid) and its tests"
		kill -TERM -- "-$ctest_pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$ctest_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$ctest_pid" 2>/dev/null || true
	fi
	# Daemons of a test that was itself killed (a ctest timeout) are still listed
	# (a test that exits removes its list); only lists of this run count.
	for f in "$ZX_BED_DIR"/t/*/pids; do
		[ -f "$f" ] && [ "$f" -nt "$run_mark" ] || continue
		while read -r pid name; do
			if kill -0 "$pid" 2>/dev/null; then
				say "stopping leftover $name (pid $pid)"
				kill -TERM "$pid" 2>/dev/null || true
			fi
		done <"$f"
	done
	# Their unix-socket dirs (tests/bed/lib.sh: short dirs outside the checkout).
	for f in "$ZX_BED_DIR"/t/*/sockdir; do
		[ -f "$f" ] && [ "$f" -nt "$run_mark" ] || continue
		d=$(cat "$f")
		case "$d" in */zx.??????) rm -rf "$d" ;; esac
	done
	rm -f "$run_mark"
	if [ "$kafka_started" = 1 ]; then
		"$src/tests/bed/kafka.sh" stop || true
	fi
	phase stop
	say "timings:"
	printf '    %s\n' "${timings[@]}"
	say "total $((SECONDS - t_start))s; kafka: ${ZX_KAFKA_KIND:-none} ${ZX_KAFKA_VERSION:-}; exit $rc"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "dependencies"
bash "$src/tests/bed/install-deps.sh"
phase deps

say "configure + build ($ZX_BUILD, ZX_SANITIZE=ON)"
cmake -S "$src" -B "$ZX_BUILD" -DZX_SANITIZE=ON
phase configure
cmake --build "$ZX_BUILD" -j"$jobs"
phase build

say "test bed: Kafka"
kafka_started=1
"$src/tests/bed/kafka.sh" start
set -a
# shellcheck disable=SC1091
. "$ZX_BED_DIR/kafka.env"
set +a
phase kafka

# Sanitizers: stop at the first error with a stack; leaks are errors. The
# suppressions cover library globals we do not own (see tests/bed/lsan.supp).
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/tests/bed/lsan.supp:print_suppressions=0}

say "ctest ($ZX_KAFKA_KIND Kafka at $ZX_KAFKA_BOOTSTRAP)"
# In its own process group, waited for in the background: an INT or TERM to this
# script then runs the cleanup at once, which stops ctest and its tests.
rc=0
setsid ctest --test-dir "$ZX_BUILD" --output-on-failure -j"$jobs" "$@" &
ctest_pid=$!
wait "$ctest_pid" || rc=$?
ctest_pid=""
phase ctest

# Each fuzz target for a few seconds, from its corpus, in a clang build of its own
# (the libraries instrumented): a crash fails the run like a failed test.
if [ "$fuzz_secs" != 0 ]; then
	say "fuzz campaign: ${fuzz_secs} s per target (clang build in $fuzz_build)"
	ZX_JOBS=$jobs bash "$src/tests/fuzz/campaign.sh" -t "$fuzz_secs" -b "$fuzz_build" || rc=1
	phase fuzz
fi
exit "$rc"
