#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bed/kafka.sh starts what it says, every time: 50 mock clusters and a few
# restarts of a private Apache Kafka broker, each checked alive and answering by
# the script's own `status` and its env file.
#
# The bug (issue 11, item 11): right after `setsid java ... &` kafka.sh read
# /proc/$!/cmdline, which is still "bash kafka.sh start" until the exec; a healthy
# broker was declared dead and killed, then the mock raced the same way ("mock
# cluster did not come up"). In a loop the check missed 18 of 200 starts. The
# starts here are the same race: each kafka.sh start checks its process at once.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
bed_init kafka_restarts
[ -x "$ZX_BUILD/tests/bed/kafka_mock" ] || bed_skip "kafka_mock not built"
kafka=$ZX_SRC/tests/bed/kafka.sh

# mock N: N starts, each in a state dir of its own (the mock keeps nothing, and
# stopping takes it ~2 s: stopping in batches keeps the test short).
mocks=${ZX_TEST_MOCK_STARTS:-50}
batch=10
started=0
for ((i = 0; i < mocks; i += batch)); do
	dirs=()
	for ((j = i; j < i + batch && j < mocks; j++)); do
		d=$BED_T/mock-$j
		dirs+=("$d")
		bed_on_exit "ZX_BED_DIR='$d' bash '$kafka' stop"
		if ! ZX_BED_DIR=$d ZX_KAFKA_FORCE=mock bash "$kafka" start >"$d.start" 2>&1; then
			cat "$d.start" >&2
			bed_die "mock start $j failed"
		fi
		ZX_BED_DIR=$d bash "$kafka" status >/dev/null || bed_die "mock $j: status says not running"
		grep -q '^ZX_KAFKA_KIND=mock$' "$d/kafka.env" || bed_die "mock $j: no env file"
		started=$((started + 1))
	done
	for d in "${dirs[@]}"; do
		ZX_BED_DIR=$d bash "$kafka" stop >/dev/null &
	done
	wait
	for d in "${dirs[@]}"; do
		ZX_BED_DIR=$d bash "$kafka" status >/dev/null 2>&1 && bed_die "$d: still running after stop"
	done
done
bed_log "mock: $started of $mocks starts came up"

# The real broker: a port pair of the test's range, a data dir kept across restarts.
if ! command -v java >/dev/null 2>&1 || [ "${ZX_KAFKA_KIND:-}" = mock ]; then
	bed_log "no Java (or the bed runs the mock): the real broker's restarts are not checked"
	bed_log PASS
	exit 0
fi
kport=""
for _ in $(seq 50); do
	p=$(bed_port)
	bed_port_keep "$p"
	if bed_port_free $((p + 1)); then
		kport=$p
		break
	fi
done
[ -n "$kport" ] || bed_die "no port pair for the private broker"
kenv=(ZX_BED_DIR="$BED_T/kb" ZX_KAFKA_PORT="$kport" ZX_KAFKA_FORCE=apache)
bed_on_exit env "${kenv[@]}" bash "$kafka" stop
restarts=${ZX_TEST_BROKER_STARTS:-3}
for ((i = 0; i < restarts; i++)); do
	env "${kenv[@]}" bash "$kafka" start >"$BED_T/kb.start.$i" 2>&1 ||
		{ cat "$BED_T/kb.start.$i" >&2; bed_die "broker start $i failed"; }
	grep -q '^ZX_KAFKA_KIND=apache$' "$BED_T/kb/kafka.env" || bed_die "broker start $i: not Apache Kafka"
	env "${kenv[@]}" bash "$kafka" status >/dev/null || bed_die "broker $i: status says not running"
	env "${kenv[@]}" bash "$kafka" stop >/dev/null
done
bed_log "broker: $restarts starts came up"
bed_log PASS
