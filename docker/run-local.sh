#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docker/run-local.sh -- run the service on this machine, without containers:
# Kafka, notifyd and xfrd, and (with the example config) a small knotd primary
# serving example.test with a TSIG key, all on loopback. Ctrl-C stops everything
# it started.
#
#   docker/run-local.sh              the example: docker/local.yaml + docker/local.zone
#   docker/run-local.sh my.yaml      your config (no primary is started; its Kafka
#                                    topics are created on the local broker)
#
# Steps: tests/bed/install-deps.sh (Debian packages; needs root or sudo), a build
# without sanitizers in build-run/, Kafka as the tests run it (tests/bed/kafka.sh,
# state in build-run/local/bed, port 19092 or the next free one), the topics
# (zxkafka create-topic), notifyd and xfrd (its Kafka mode), then the primary, whose NOTIFY at
# start makes xfrd fetch the zone. Logs: build-run/local/*.log. The example starts
# with an empty store and Kafka each time; with your config both are kept.
#
# Environment (all optional):
#   ZX_RUN_BUILD         build dir (default <repo>/build-run)
#   ZX_RUN_DIR           state dir: config copy, store, logs, Kafka (default $ZX_RUN_BUILD/local)
#   ZX_RUN_NO_DEPS=1     skip install-deps.sh;  ZX_RUN_NO_BUILD=1  use the binaries as built
#   ZX_KAFKA_PORT        broker port (controller: +1); default 19092, or the next free pair
#   ZX_RUN_NOTIFYD_PORT, ZX_RUN_XFRD_PORT, ZX_RUN_PRIMARY_PORT, ZX_RUN_NOTIFYD_HTTP,
#   ZX_RUN_XFRD_HTTP     ports of the example (default 5300, 5354, 5353, 9153, 9154)
#   ZX_KAFKA_FORCE=mock  librdkafka's mock cluster instead of Apache Kafka
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ZX_RUN_BUILD:-$src/build-run}
state=${ZX_RUN_DIR:-$build/local}
user_cfg=${1:-}
export ZX_SRC=$src ZX_BUILD=$build ZX_BED_DIR=$state/bed

say() { echo "run-local: $*"; }
die() { echo "run-local: error: $*" >&2; exit 1; }

[ $# -le 1 ] || die "usage: $0 [CONFIG]"
[ -z "$user_cfg" ] || [ -f "$user_cfg" ] || die "no such config: $user_cfg"

# ---------------------------------------------------------------- stopping
pids=()          # "pid name", in start order
kafka_started=0
primary_started=0
stopping=0
stop_all()
{
	local rc=$? i entry pid name
	[ "$stopping" = 1 ] && return
	stopping=1
	trap - EXIT INT TERM
	echo
	say "stopping"
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		entry=${pids[i]}
		pid=${entry%% *}
		name=${entry#* }
		stop_pid "$pid" "$name"
	done
	if [ "$primary_started" = 1 ]; then
		primary_stop local || true
		say "stopped the knotd primary"
	fi
	if [ "$kafka_started" = 1 ]; then
		"$src/tests/bed/kafka.sh" stop || true
	fi
	say "everything stopped"
	exit "$rc"
}
stop_pid()
{
	local pid=$1 name=$2 i
	kill -0 "$pid" 2>/dev/null || { say "$name (pid $pid) had already exited"; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || { say "stopped $name (pid $pid)"; return 0; }
		sleep 0.1
	done
	say "$name (pid $pid) ignored SIGTERM for 15 s: SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! ss -Htuln "sport = :$1" 2>/dev/null | grep -q .; }

# ---------------------------------------------------------------- build
if [ "${ZX_RUN_NO_DEPS:-0}" != 1 ]; then
	say "Debian packages (tests/bed/install-deps.sh)"
	bash "$src/tests/bed/install-deps.sh"
fi
if [ "${ZX_RUN_NO_BUILD:-0}" != 1 ]; then
	if [ ! -f "$build/CMakeCache.txt" ]; then
		say "configuring $build (no sanitizers)"
		cmake -S "$src" -B "$build" -DZX_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	fi
	say "building notifyd, xfrd, xfrctl, zx-follow and the bed's tools in $build"
	cmake --build "$build" -j2 --target notifyd xfrd xfrctl zx-follow zxkafka kafka_mock
fi
for b in notifyd/notifyd xfrd/xfrd xfrd/xfrctl tests/bed/zxkafka; do
	[ -x "$build/$b" ] || die "$build/$b is missing (build it, or unset ZX_RUN_NO_BUILD)"
done
mkdir -p "$state"
# A previous run that was killed may have left its daemons: stop them by their PID files.
for f in "$state"/*.pid; do
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null && grep -qa "$build" "/proc/$pid/cmdline" 2>/dev/null; then
		stop_pid "$pid" "leftover $(basename "$f" .pid)"
	fi
	rm -f "$f"
done

# ---------------------------------------------------------------- config
cfg=$state/zx.yaml
if [ -z "$user_cfg" ]; then
	notifyd_port=${ZX_RUN_NOTIFYD_PORT:-5300}
	xfrd_port=${ZX_RUN_XFRD_PORT:-5354}
	primary_port=${ZX_RUN_PRIMARY_PORT:-5353}
	notifyd_http=${ZX_RUN_NOTIFYD_HTTP:-9153}
	xfrd_http=${ZX_RUN_XFRD_HTTP:-9154}
	for p in "notifyd_port ZX_RUN_NOTIFYD_PORT" "xfrd_port ZX_RUN_XFRD_PORT" \
		"primary_port ZX_RUN_PRIMARY_PORT" "notifyd_http ZX_RUN_NOTIFYD_HTTP" \
		"xfrd_http ZX_RUN_XFRD_HTTP"; do
		v=${p% *}
		port_free "${!v}" || die "port ${!v} is taken; pick another with ${p#* }=PORT"
	done
fi

# Kafka's port: 19092 unless taken, then the next free pair from 29092.
if [ -n "${ZX_KAFKA_PORT:-}" ]; then
	kport=$ZX_KAFKA_PORT
elif [ -s "$state/bed/kafka/kafka.pid" ] && [ -f "$state/bed/kafka/server.properties" ]; then
	kport=$(sed -n 's/^listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\),.*/\1/p' \
		"$state/bed/kafka/server.properties") # our own broker from a killed run
else
	kport=19092
	if ! port_free 19092 || ! port_free 19093; then
		kport=29092
		while ! port_free "$kport" || ! port_free $((kport + 1)); do
			kport=$((kport + 2))
			[ "$kport" -lt 29200 ] || die "no free port pair for Kafka in 29092-29199"
		done
		say "port 19092 is taken (another Kafka, e.g. the test bed's?): Kafka goes to 127.0.0.1:$kport"
	fi
fi
export ZX_KAFKA_PORT=$kport

if [ -z "$user_cfg" ]; then
	sed -e "s|127.0.0.1:19092|127.0.0.1:$kport|" \
		-e "s|/tmp/zx-local/zones.lmdb|$state/zones.lmdb|" \
		-e "s|127.0.0.1@5300|127.0.0.1@$notifyd_port|" \
		-e "s|127.0.0.1@5354|127.0.0.1@$xfrd_port|" \
		-e "s|127.0.0.1@5353|127.0.0.1@$primary_port|" \
		-e "s|127.0.0.1:9153|127.0.0.1:$notifyd_http|" \
		-e "s|127.0.0.1:9154|127.0.0.1:$xfrd_http|" \
		-e "s|kdig @127.0.0.1 -p 5354|kdig @127.0.0.1 -p $xfrd_port|" \
		"$src/docker/local.yaml" >"$cfg"
	say "config: $cfg (from docker/local.yaml)"
else
	cfg=$(realpath "$user_cfg") # used in place: relative key-file paths stay right
	say "config: $cfg"
fi
"$build/notifyd/notifyd" -c "$cfg" --check || die "the config does not load"

# yaml_get [SECTION] KEY DEFAULT: the first "KEY: value" of the config, or of the
# top-level SECTION's block (a plain scalar, or the first string of a flow list).
yaml_get()
{
	local range='1,$' v
	if [ $# -eq 3 ]; then
		range="/^$1:/,/^[a-z]/"
		shift
	fi
	v=$(sed -n "${range}s/^[[:space:]-]*$1:[[:space:]]*\[\{0,1\}[[:space:]]*\"\{0,1\}\([^\" #,}]*\).*/\1/p" \
		"$cfg" | head -1)
	echo "${v:-$2}"
}
req_topic=$(yaml_get requests-topic xfr.requests)
upd_topic=$(yaml_get updates-topic xfr.updates)

# ---------------------------------------------------------------- Kafka
if [ -z "$user_cfg" ]; then
	# The example starts from nothing each time: its primary starts again at serial 1,
	# which a store kept from the last run would hold as older than its own.
	rm -rf "$state/zones.lmdb"
	"$src/tests/bed/kafka.sh" clean >/dev/null
fi
say "Kafka (tests/bed/kafka.sh, state $state/bed/kafka, port $kport)"
kafka_started=1
"$src/tests/bed/kafka.sh" start
# shellcheck disable=SC1091
. "$state/bed/kafka.env"
export ZX_KAFKA_MOCK_CTL
boot=$ZX_KAFKA_BOOTSTRAP
if [ -z "$user_cfg" ] && [ "$boot" != "127.0.0.1:$kport" ]; then
	sed -i "s|127.0.0.1:$kport|$boot|" "$cfg" # the mock cluster picks its own port
fi
[ -n "$user_cfg" ] && say "your config's kafka.brokers: $(yaml_get brokers '?'); the local broker: $boot"
for t in "$req_topic" "$upd_topic"; do
	"$build/tests/bed/zxkafka" create-topic "$boot" "$t" 6 || die "cannot create topic $t"
done

# ---------------------------------------------------------------- daemons
start()
{
	local name=$1
	shift
	setsid "$@" >"$state/$name.log" 2>&1 </dev/null &
	pids+=("$! $name")
	echo $! >"$state/$name.pid"
	say "started $name (pid $!), log $state/$name.log"
}
# ready NAME URL: wait up to 60 s for 200 from URL, failing early when NAME died.
ready()
{
	local name=$1 url=$2 i pid
	pid=$(cat "$state/$name.pid")
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$state/$name.log" >&2; die "$name exited"; }
		curl -sf -o /dev/null "$url" && return 0
		sleep 0.1
	done
	tail -n 20 "$state/$name.log" >&2
	die "$name is not ready ($url) after 60 s"
}

start notifyd "$build/notifyd/notifyd" -c "$cfg"
# The Kafka mode: xfrd's default where it has --standalone, named by --pipeline
# where it has that; a build with neither runs on SOA timers only.
xfrd_args=(-c "$cfg")
xfrd_usage=$("$build/xfrd/xfrd" --help 2>&1 || true)
kafka_mode=0
if grep -q -- '--pipeline' <<<"$xfrd_usage"; then
	xfrd_args+=(--pipeline)
	kafka_mode=1
elif grep -q -- '--standalone' <<<"$xfrd_usage"; then
	kafka_mode=1
fi
start xfrd "$build/xfrd/xfrd" "${xfrd_args[@]}"
notifyd_http_ep=$(yaml_get notifyd http 127.0.0.1:9153 | sed 's/@/:/')
xfrd_http_ep=$(yaml_get xfrd http 127.0.0.1:9154 | sed 's/@/:/')
ready notifyd "http://$notifyd_http_ep/health" # notifyd has no /ready
if [ "$kafka_mode" = 1 ]; then
	ready xfrd "http://$xfrd_http_ep/ready"
else # a build without the Kafka mode serves no HTTP: its start line will do
	for ((i = 0; i < 100; i++)); do
		grep -q 'event=xfrd_started' "$state/xfrd.log" && break
		sleep 0.1
	done
	say "warning: this xfrd has no Kafka mode (--pipeline): it refreshes on its SOA timers only"
fi
xfrd_dns=$(yaml_get xfrd listen 127.0.0.1@5354)
xfrd_addr=${xfrd_dns%@*}
xfrd_addr=${xfrd_addr#[}
xfrd_addr=${xfrd_addr%]}
xfrd_dport=${xfrd_dns##*@}

# ---------------------------------------------------------------- the primary
zone=$(yaml_get zones name ZONE)
xfrctl=("$build/xfrd/xfrctl" -c "$cfg")
if [ -z "$user_cfg" ]; then
	# shellcheck disable=SC1091
	. "$src/tests/bed/primary.sh"
	key=$(sed -n 's/.*name: xfr-key, algorithm: \([^,]*\), secret: "\([^"]*\)".*/\1:xfr-key:\2/p' "$cfg")
	primary_started=1
	PRIMARY_NOTIFY=127.0.0.1@$notifyd_port primary_start knot local "$primary_port" \
		example.test "$src/docker/local.zone" "$key"
	sock=$(primary_ctl local)
	# The primary NOTIFYs notifyd at start: wait for xfrd to hold serial 1.
	for ((i = 0; i < 300; i++)); do
		"${xfrctl[@]}" show example.test 2>/dev/null | grep -q '^serial: *1$' && break
		sleep 0.1
	done
	"${xfrctl[@]}" show example.test 2>/dev/null | grep -q '^serial:' ||
		say "warning: xfrd does not hold example.test yet (see $state/xfrd.log)"
fi

# ---------------------------------------------------------------- ready
cat <<EOF

run-local: ready. Kafka at $boot, notifyd and xfrd with $cfg.
EOF
if [ -z "$user_cfg" ]; then
	cat <<EOF
Try it:

  # 1. change the zone on the primary: knotd raises the serial and NOTIFYs notifyd
  K="knotc -s $sock"; \$K zone-begin example.test && \\
    \$K zone-set example.test hello 300 TXT '"hi from knotc"' && \$K zone-commit example.test

  # 2. see the change in xfrd, on its DNS endpoint (SOA, AXFR, IXFR):
  kdig @$xfrd_addr -p $xfrd_dport +short SOA example.test; kdig @$xfrd_addr -p $xfrd_dport AXFR example.test

Also: ${xfrctl[*]} zones
      curl -s http://$xfrd_http_ep/metrics
EOF
else
	cat <<EOF
Try it:
  ${xfrctl[*]} zones
  kdig @$xfrd_addr -p $xfrd_dport +short SOA ${zone:-ZONE}
EOF
fi
echo
echo "Ctrl-C stops everything this script started."
# Wait for Ctrl-C; a daemon that dies ends the run too.
while :; do
	for entry in "${pids[@]}"; do
		if ! kill -0 "${entry%% *}" 2>/dev/null; then
			say "${entry#* } exited; last lines of $state/${entry#* }.log:"
			tail -n 10 "$state/${entry#* }.log" >&2
			exit 1
		fi
	done
	sleep 1
done
