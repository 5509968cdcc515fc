#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/notify/bench.sh -- NOTIFY answering rate: notifyd (through Kafka, answer after
# delivery) and knotd measured in the same run, as ANCHORS.md does it.
#
#   tests/bench/notify/bench.sh BUILD_DIR        (a build without ZX_SANITIZE)
#
# Method (ANCHORS.md "NOTIFY answering rate"): notify_load pinned to CPU 0, the daemon to
# CPU 1 (knotd whole; notifyd's event loop, see below); 1,000 zones z0000.test..., TSIG hmac-sha256 NOTIFYs with an SOA serial, UDP from
# 4 source addresses, every reply's TSIG verified. For each daemon the rates in
# ZX_BENCH_RATES are tried for ZX_BENCH_SECS each; the maximum is the highest answered
# rate with at most 1% loss; then 50% and 90% of it are run for latency.
# knotd's primary is a socket that never answers (refreshes hang, NOTIFYs merge).
# notifyd's Kafka: ZX_KAFKA_BOOTSTRAP if set, else a broker started with tests/bed/kafka.sh
# (state in $BUILD_DIR/bench-notify). Per-thread CPU of notifyd (loop vs librdkafka's
# rdk:* threads) is read from /proc around the run at the maximum.
set -euo pipefail
build=$(cd "${1:?usage: bench.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../../.." && pwd)
secs=${ZX_BENCH_SECS:-3}
rates=${ZX_BENCH_RATES:-"20000 30000 40000 50000 60000 70000 80000 90000 100000 110000 120000 140000"}
# The broker as one would run it for latency: a fixed heap with a young generation
# large enough that a young collection comes every tens of seconds, not every second
# (with the test bed's 512 MiB heap, G1's pauses put p99 at 40-100 ms). C1 only: C2's
# compilations would take CPU from the daemon during the run.
kafka_jvm=${ZX_KAFKA_JVM_OPTS:-"-Xms3g -Xmx3g -Xmn2g -XX:+UseG1GC -XX:TieredStopAtLevel=1"}
state=$build/bench-notify
rm -rf "$state/run"
mkdir -p "$state/run"
run=$state/run
gen=$build/tests/bench/notify/notify_load
secret=$(head -c 32 /dev/urandom | base64)
port_nd=${ZX_BENCH_PORT:-20553}
port_knot=$((port_nd + 1))
port_http=$((port_nd + 2))
port_black=$((port_nd + 3))
pids=()
own_kafka=0
cleanup()
{
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "$own_kafka" = 1 ]; then # the broker this run started goes with it
		ZX_BED_DIR=$state ZX_KAFKA_PORT=${ZX_BENCH_KAFKA_PORT:-20592} \
			bash "$src/tests/bed/kafka.sh" stop >&2 || true
	fi
}
trap cleanup EXIT
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

if [ -z "${ZX_KAFKA_BOOTSTRAP:-}" ]; then
	own_kafka=1
	ZX_BED_DIR=$state ZX_KAFKA_PORT=${ZX_BENCH_KAFKA_PORT:-20592} ZX_BUILD=$build \
		ZX_KAFKA_JVM_OPTS=$kafka_jvm bash "$src/tests/bed/kafka.sh" start >&2
	set -a
	. "$state/kafka.env"
	set +a
fi
topic=bench.notify.$$
"$build/tests/bed/zxkafka" create-topic "$ZX_KAFKA_BOOTSTRAP" "$topic" 4 >/dev/null ||
	log "create-topic failed: relying on auto-creation"
log "Kafka ${ZX_KAFKA_KIND:-?} at $ZX_KAFKA_BOOTSTRAP, topic $topic"

# A primary that never answers: a bound UDP/TCP port nobody reads.
python3 -c '
import socket, sys, time
p = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", p)); t.listen(1)
time.sleep(100000)' "$port_black" &
pids+=($!)

{
	echo "log: { level: info }"
	echo "kafka: { brokers: \"$ZX_KAFKA_BOOTSTRAP\", requests-topic: \"$topic\", delivery-timeout: 5s, settings: { ${ZX_BENCH_KAFKA_SETTINGS:-} } }"
	echo "keys: [ { name: bench, algorithm: hmac-sha256, secret: \"$secret\" } ]"
	echo "notifyd:"
	echo "  instance: bench"
	echo "  listen: [ \"127.0.0.1@$port_nd\" ]"
	echo "  http: \"127.0.0.1:$port_http\""
	echo "  rate-limit: { per-source: 0, per-zone: 0 }"
	echo "  udp: { receive-buffer: 8M }"
	echo "zone-defaults: { primaries: [ \"127.0.0.1@$port_black\" ], key: bench, notify-from: [ \"127.0.0.0/8\" ] }"
	echo "zones:"
	for ((i = 0; i < 1000; i++)); do
		printf '  - { name: z%04d.test }\n' "$i"
	done
} >"$run/zx.yaml"

mkdir -p "$run/knot"
{
	cat <<KNOT
server:
    rundir: "$run/knot"
    listen: 127.0.0.1@$port_knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: "$run/knot/knotd.log"
    any: warning
database:
    storage: "$run/knot/db"
key:
  - id: bench
    algorithm: hmac-sha256
    secret: $secret
remote:
  - id: black
    address: 127.0.0.1@$port_black
    key: bench
acl:
  - id: notify
    address: 127.0.0.0/8
    key: bench
    action: notify
template:
  - id: default
    storage: "$run/knot"
    master: black
    acl: notify
    zonefile-load: none
    journal-content: none
zone:
KNOT
	for ((i = 0; i < 1000; i++)); do
		printf '  - domain: z%04d.test\n' "$i"
	done
} >"$run/knot.conf"

rdk_cpu()
{ # "main_ticks rdk_ticks" of process $1
	local pid=$1 t main=0 rdk=0 comm ticks
	[ -d "/proc/$pid/task" ] || { echo "0 0"; return; }
	for t in /proc/"$pid"/task/*; do
		comm=$(cat "$t/comm")
		ticks=$(awk '{ print $14 + $15 }' "$t/stat")
		if [[ $comm == rdk:* ]]; then
			rdk=$((rdk + ticks))
		else
			main=$((main + ticks))
		fi
	done
	echo "$main $rdk"
}

# measure NAME PORT PID: the rate sweep, then 50% and 90% of the maximum.
measure()
{
	local name=$1 port=$2 pid=$3 r line max=0 maxline="" ans loss
	for r in $rates; do
		line=$(taskset -c 0 "$gen" -p "$port" -r "$r" -d "$secs" -k "bench:$secret")
		echo "$name sweep $line" | tee -a "$run/results" >&2
		ans=$(sed 's/.*answered_per_s=\([0-9]*\).*/\1/' <<<"$line")
		loss=$(sed 's/.*loss_pct=\([0-9.]*\).*/\1/' <<<"$line")
		if awk -v l="$loss" 'BEGIN { exit !(l <= 1.0) }'; then
			max=$ans
			maxline=$line
		else
			break
		fi
		sleep 1
	done
	echo "$name max answered_per_s=$max ($maxline)" | tee -a "$run/results" >&2
	[ "$max" -gt 0 ] || return 0
	local c0 c1
	c0=$(rdk_cpu "$pid")
	for pct in 50 90; do
		r=$((max * pct / 100))
		line=$(taskset -c 0 "$gen" -p "$port" -r "$r" -d "$secs" -k "bench:$secret")
		echo "$name at${pct}% $line" | tee -a "$run/results" >&2
		sleep 1
	done
	c1=$(rdk_cpu "$pid")
	read -r m0 k0 <<<"$c0"
	read -r m1 k1 <<<"$c1"
	echo "$name cpu_ticks_during_50_90_runs main=$((m1 - m0)) rdkafka=$((k1 - k0))" |
		tee -a "$run/results" >&2
	# TCP (4 connections, pipelined) at half the UDP maximum.
	line=$(taskset -c 0 "$gen" -p "$port" -r $((max / 2)) -d "$secs" -T 4 -k "bench:$secret")
	echo "$name tcp_at50% $line" | tee -a "$run/results" >&2
}

# notifyd's event loop (its main thread) on CPU 1, as the issue asks; librdkafka's
# threads, started with the process, keep both CPUs as the unpinned broker does and
# are reported apart. ZX_BENCH_PIN=all pins every notifyd thread to CPU 1 instead.
pin_all=()
[ "${ZX_BENCH_PIN:-loop}" = all ] && pin_all=(taskset -c 1)
"${pin_all[@]}" "$build/notifyd/notifyd" -c "$run/zx.yaml" >"$run/notifyd.log" 2>&1 &
nd=$!
pids+=($nd)
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port_http/health" >/dev/null && break
	sleep 0.1
done
# librdkafka's threads exist once notifyd answers health: only then pin the main one.
[ ${#pin_all[@]} -gt 0 ] || taskset -p -c 1 "$nd" >/dev/null
# warm up (idempotent producer PID, topic metadata)
taskset -c 0 "$gen" -p "$port_nd" -r 1000 -d 2 -k "bench:$secret" >/dev/null
measure notifyd "$port_nd" "$nd"
curl -sf "http://127.0.0.1:$port_http/metrics" | grep -E '^notifyd_(answered|unanswered|drops)' |
	grep -v ' 0$' >"$run/notifyd.metrics" || true
kill "$nd"
wait "$nd" 2>/dev/null || true

if [ "${ZX_BENCH_KNOT:-1}" = 1 ] && command -v knotd >/dev/null; then
	taskset -c 1 knotd -c "$run/knot.conf" >"$run/knotd.out" 2>&1 &
	kn=$!
	pids+=($kn)
	for _ in $(seq 100); do
		kdig @127.0.0.1 -p "$port_knot" +time=1 +retry=0 z0000.test SOA >/dev/null 2>&1 && break
		sleep 0.1
	done
	taskset -c 0 "$gen" -p "$port_knot" -r 1000 -d 2 -k "bench:$secret" >/dev/null
	measure knotd "$port_knot" "$kn"
	kill "$kn"
fi
echo "---- results ($run/results)"
cat "$run/results"
cat "$run/notifyd.metrics" 2>/dev/null || true
