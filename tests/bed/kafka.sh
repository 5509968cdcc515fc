#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bed/kafka.sh -- the test bed's Kafka: a real Apache Kafka broker (KRaft,
# one node that is broker and controller) on 127.0.0.1, or librdkafka's mock
# cluster where Java or Maven is missing or the jars cannot be fetched.
#
#   kafka.sh start    start (or find running) and wait until it answers metadata
#   kafka.sh stop     stop by PID (SIGTERM, SIGKILL after 15 s); data dir kept
#   kafka.sh restart  stop + start (a broker outage mid-test; data kept)
#   kafka.sh status   say what runs; exit 0 when it answers, 1 otherwise
#   kafka.sh env      print the env file (ZX_KAFKA_BOOTSTRAP, ZX_KAFKA_KIND, ...)
#   kafka.sh clean    stop, then wipe the data dir (the next start formats anew)
#
# Environment (all optional):
#   ZX_BED_DIR        state dir (default $ZX_BUILD/bed); Kafka lives in $ZX_BED_DIR/kafka
#   ZX_CACHE          jar cache root (default ~/.cache/zx); jars in kafka-<version>/
#   ZX_BUILD          build dir holding tests/bed/kafka_mock (default <repo>/build)
#   ZX_KAFKA_PORT     broker port (default 19092); the controller uses port+1
#   ZX_KAFKA_VERSION  Apache Kafka version (default 4.1.1)
#   ZX_KAFKA_FORCE    "mock" runs the mock cluster even where Java is present;
#                     "apache" runs Apache Kafka or fails (no fallback to the mock)
#   ZX_MAVEN_REPO     Maven local repository for the fetch (default Maven's own)
#   ZX_KAFKA_JVM_OPTS JVM options of the broker (default: small heap, C1 only, for a fast
#                     start; benchmarks pass server options)
#
# The env file ($ZX_BED_DIR/kafka.env) is what tests source. With the mock the
# port is random and nothing survives a stop: re-read the env file after a start.
# The mock answers no Admin API: `zxkafka create-topic` goes through its control
# FIFO (ZX_KAFKA_MOCK_CTL in the env file); topics cannot be deleted there.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
state=${ZX_BED_DIR:-${ZX_BUILD:-$src/build}/bed}
kdir=$state/kafka
envfile=$state/kafka.env
pidfile=$kdir/kafka.pid
exefile=$kdir/kafka.exe # what /proc/PID/exe of the broker or mock must be
version=${ZX_KAFKA_VERSION:-4.1.1}
cache=${ZX_CACHE:-$HOME/.cache/zx}/kafka-$version
port=${ZX_KAFKA_PORT:-19092}
cport=$((port + 1))
build=${ZX_BUILD:-$src/build}

say() { echo "kafka.sh: $*"; }
die() { echo "kafka.sh: error: $*" >&2; exit 1; }

# alive: the PID in the pid file runs, and is our broker or mock (not a reused PID):
# it runs the program launch() started (/proc/PID/exe) with our broker's or mock's
# arguments. (A pid file of a kafka.sh without exe files: the arguments alone.)
alive()
{
	local pid exe
	[ -s "$pidfile" ] || return 1
	pid=$(cat "$pidfile")
	kill -0 "$pid" 2>/dev/null || return 1
	if [ -s "$exefile" ]; then
		exe=$(cat "$exefile")
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] || return 1
	fi
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq 'kafka\.Kafka|kafka_mock'
}

# launch LOG PROGRAM ARGS...: start PROGRAM in a session of its own, in the background,
# output to LOG, and return once that process runs PROGRAM. Until the exec, $! is a fork
# of this shell whose /proc/PID/cmdline still reads "bash kafka.sh start": a check right
# after the fork took a healthy broker for dead (18 of 200 starts in a loop). Waits at
# most 10 s; 1 when the process died or never ran PROGRAM.
launch()
{
	local log=$1 exe pid i
	shift
	exe=$(readlink -f "$(command -v "$1")") || return 1
	setsid "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	echo "$exe" >"$exefile"
	echo "$pid" >"$pidfile"
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	say "pid $pid did not exec $exe within 10 s"
	kill -KILL "$pid" 2>/dev/null || true # our own fork, before its exec
	return 1
}

# answers BOOTSTRAP: 0 when a metadata request succeeds within ~2 s.
answers()
{
	kcat -b "$1" -L -m 2 >/dev/null 2>&1
}

# fetch_jars: fill $cache with the broker's classpath, atomically (a temp dir
# renamed into place), so an interrupted fetch leaves no half cache.
fetch_jars()
{
	[ -f "$cache/kafka_2.13-$version.jar" ] && return 0
	command -v mvn >/dev/null 2>&1 || { say "mvn not found"; return 1; }
	mkdir -p "$(dirname "$cache")"
	local tmp repo=()
	tmp=$(mktemp -d "$(dirname "$cache")/.kafka-$version.fetch.XXXXXX")
	[ -n "${ZX_MAVEN_REPO:-}" ] && repo=("-Dmaven.repo.local=$ZX_MAVEN_REPO")
	say "fetching Apache Kafka $version jars from Maven Central into $cache"
	if ! mvn -q -B "${repo[@]}" -f "$here/kafka/pom.xml" -Dkafka.version="$version" \
		dependency:copy-dependencies -DoutputDirectory="$tmp/jars" >"$tmp/mvn.log" 2>&1 ||
		[ ! -f "$tmp/jars/kafka_2.13-$version.jar" ]; then
		tail -20 "$tmp/mvn.log" >&2
		rm -rf "$tmp"
		say "jar fetch failed"
		return 1
	fi
	mv -T "$tmp/jars" "$cache" 2>/dev/null || true # a concurrent fetch may have won
	rm -rf "$tmp"
	[ -f "$cache/kafka_2.13-$version.jar" ]
}

write_props()
{
	cat >"$kdir/server.properties" <<EOF
# Written by tests/bed/kafka.sh: a one-node KRaft broker for tests, tuned for speed.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$kdir/data
num.partitions=8
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# No forced flushes: the page cache is enough for tests (these are the defaults, said aloud).
log.flush.interval.messages=9223372036854775807
log.flush.interval.ms=9223372036854775807
log.segment.bytes=16777216
log.retention.check.interval.ms=300000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
EOF
}

write_env()
{
	local kind=$1 boot=$2 ver=$3 ctl=""
	[ "$kind" = mock ] && ctl=$kdir/mock.ctl
	cat >"$envfile.tmp" <<EOF
ZX_KAFKA_BOOTSTRAP=$boot
ZX_KAFKA_KIND=$kind
ZX_KAFKA_VERSION=$ver
ZX_KAFKA_MOCK_CTL=$ctl
EOF
	mv "$envfile.tmp" "$envfile"
}

# wait_ready BOOTSTRAP: bounded wait (~60 s) for a metadata answer, failing early
# when the process died.
wait_ready()
{
	local boot=$1 i
	for ((i = 0; i < 60; i++)); do
		if ! alive; then
			return 1
		fi
		if answers "$boot"; then
			return 0
		fi
		sleep 1
	done
	return 1
}

start_apache()
{
	local jars=$cache
	if ss -Htln "sport = :$port or sport = :$cport" 2>/dev/null | grep -q .; then
		die "port $port or $cport is taken by another process (another bed's broker? ZX_KAFKA_PORT moves it)"
	fi
	mkdir -p "$kdir"
	write_props
	if [ ! -f "$kdir/data/meta.properties" ]; then
		local cid
		cid=$(java -cp "$jars/*" kafka.tools.StorageTool random-uuid)
		say "formatting $kdir/data (cluster $cid)"
		java -cp "$jars/*" -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" \
			-Dkafka.logs.dir="$kdir" kafka.tools.StorageTool format -t "$cid" \
			-c "$kdir/server.properties" --standalone >"$kdir/format.log" 2>&1 ||
			{ cat "$kdir/format.log" >&2; return 1; }
	fi
	# One log per run; the previous run's (a broker restarted mid-test) is kept as server.log.1.
	[ -f "$kdir/server.log" ] && mv -f "$kdir/server.log" "$kdir/server.log.1"
	# Tests want a fast start (C1 only, small heap); benchmarks pass server flags.
	local jvm=${ZX_KAFKA_JVM_OPTS:--Xmx512m -Xms256m -XX:+UseG1GC -XX:TieredStopAtLevel=1}
	# shellcheck disable=SC2086 # the options are words
	if ! launch "$kdir/stdout.log" java $jvm \
		-Djava.awt.headless=true -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" \
		-Dkafka.logs.dir="$kdir" -cp "$jars/*" kafka.Kafka "$kdir/server.properties"; then
		say "the broker did not start; last log lines:"
		tail -n 30 "$kdir/stdout.log" >&2 || true
		stop_pid
		return 1
	fi
	echo apache >"$kdir/kind"
	if ! wait_ready "127.0.0.1:$port"; then
		say "broker did not answer metadata within 60 s; last log lines:"
		tail -n 30 "$kdir/server.log" "$kdir/stdout.log" >&2 || true
		stop_pid
		return 1
	fi
	local ver
	ver=$(sed -n 's/.*Kafka version: \([^ ]*\).*/\1/p' "$kdir/server.log" | head -1)
	write_env apache "127.0.0.1:$port" "${ver:-$version}"
	say "Apache Kafka ${ver:-$version} (KRaft, one node) runs at 127.0.0.1:$port, pid $(cat "$pidfile"), log $kdir/server.log"
}

start_mock()
{
	local bin=$build/tests/bed/kafka_mock boot=""
	[ -x "$bin" ] || die "no Java/Maven/jars and no mock either: build the target kafka_mock ($bin)"
	mkdir -p "$kdir"
	rm -f "$kdir/mock.addr"
	if ! launch "$kdir/mock.log" "$bin" --addr-file "$kdir/mock.addr" --ctl "$kdir/mock.ctl"; then
		cat "$kdir/mock.log" >&2 || true
		stop_pid
		die "mock cluster did not start"
	fi
	echo mock >"$kdir/kind"
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$kdir/mock.addr" ] && break
		alive || break
		sleep 0.1
	done
	boot=$(cat "$kdir/mock.addr" 2>/dev/null || true)
	if [ -z "$boot" ] || ! wait_ready "$boot"; then
		cat "$kdir/mock.log" >&2 || true
		stop_pid
		die "mock cluster did not come up"
	fi
	write_env mock "$boot" "librdkafka-mock-$(pkg-config --modversion rdkafka 2>/dev/null || echo '?')"
	say "######## MOCK: librdkafka's mock cluster (NOT Apache Kafka) runs at $boot, pid $(cat "$pidfile") ########"
}

start()
{
	mkdir -p "$state"
	if alive; then
		# shellcheck disable=SC1090
		. "$envfile" 2>/dev/null || true
		if [ -n "${ZX_KAFKA_BOOTSTRAP:-}" ] && answers "$ZX_KAFKA_BOOTSTRAP"; then
			say "already running: $ZX_KAFKA_KIND at $ZX_KAFKA_BOOTSTRAP (pid $(cat "$pidfile"))"
			return 0
		fi
		stop_pid
	fi
	rm -f "$envfile"
	if [ "${ZX_KAFKA_FORCE:-}" != mock ] && command -v java >/dev/null 2>&1 && fetch_jars; then
		start_apache && return 0
		[ "${ZX_KAFKA_FORCE:-}" = apache ] && die "Apache Kafka failed to start (ZX_KAFKA_FORCE=apache: no mock)"
		say "Apache Kafka failed to start; falling back to the mock cluster"
	elif [ "${ZX_KAFKA_FORCE:-}" = apache ]; then
		die "no Java, Maven or Kafka jars, and ZX_KAFKA_FORCE=apache"
	else
		say "no Java, Maven or Kafka jars (or ZX_KAFKA_FORCE=mock): using the mock cluster"
	fi
	start_mock
}

stop_pid()
{
	local pid i
	[ -s "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if alive; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 150; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			say "pid $pid ignored SIGTERM for 15 s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile" "$exefile"
}

stop()
{
	if alive; then
		say "stopping $(cat "$kdir/kind" 2>/dev/null || echo kafka) (pid $(cat "$pidfile"))"
	fi
	stop_pid
	rm -f "$envfile"
}

status()
{
	if ! alive; then
		say "not running"
		return 1
	fi
	# shellcheck disable=SC1090
	. "$envfile" 2>/dev/null || true
	if [ -n "${ZX_KAFKA_BOOTSTRAP:-}" ] && answers "$ZX_KAFKA_BOOTSTRAP"; then
		say "running: ${ZX_KAFKA_KIND} ${ZX_KAFKA_VERSION:-} at $ZX_KAFKA_BOOTSTRAP (pid $(cat "$pidfile"))"
		return 0
	fi
	say "pid $(cat "$pidfile") alive but not answering metadata"
	return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
restart)
	stop
	start
	;;
env) [ -f "$envfile" ] && cat "$envfile" || die "not running (no $envfile)" ;;
clean)
	stop
	rm -rf "$kdir"
	say "wiped $kdir"
	;;
*)
	echo "usage: $0 start|stop|restart|status|env|clean" >&2
	exit 2
	;;
esac
