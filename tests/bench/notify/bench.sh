#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/notify/bench.sh -- NOTIFY answering rate: notifyd (through Kafka, answer after
# delivery) and knotd measured in the same run, as ANCHORS.md does it.
#
#   tests/bench/notify/bench.sh BUILD_DIR        (a build without ZX_SANITIZE)
#
# Method (ANCHORS.md "NOTIFY answering rate"): notify_load pinned to CPU 0, the thread
# that answers NOTIFYs on CPU 1 (see "Pinning"); 1,000 zones z0000.test..., TSIG
# hmac-sha256 NOTIFYs with an SOA serial, UDP from 4 source addresses, every reply's TSIG
# verified. For each daemon the rates in ZX_BENCH_RATES are tried for ZX_BENCH_SECS each;
# the maximum is the highest answered rate with at most 1% loss; then 50% and 90% of it
# are run for latency, and the CPU spent during those two runs is divided by the NOTIFYs
# answered: notifyd's loop, its librdkafka threads, the Kafka broker's JVM, knotd.
# knotd's primary is a socket that never answers (refreshes hang, NOTIFYs merge).
# notifyd's Kafka: ZX_KAFKA_BOOTSTRAP if set, else a broker started with tests/bed/kafka.sh
# (state in $BUILD_DIR/bench-notify). Both daemons keep their UDP receive buffers'
# defaults (notifyd: udp.receive-buffer 4M; knotd: the system's, 208 KiB here): this
# bench set notifyd's to 8M before 2026-12-02, beyond its shipped default. notifyd's
# rate limits are off (per-source and per-zone 0): a rate test is no test of them.
#
# Pinning (ZX_BENCH_PIN, default loop), applied AFTER each daemon started and read back
# from /proc/PID/task/*/status (Cpus_allowed_list) before and after the measurement; the
# run fails when a thread is not where it should be:
#   loop  the answering thread alone on CPU 1: notifyd's event loop (its main thread),
#         knotd's UDP worker (udp-workers 1; the thread knotd pins itself at start, onto
#         CPU 0 whatever taskset said); every other thread of either daemon (librdkafka's,
#         knotd's TCP, background and main threads) may run on any CPU
#   all   every thread of either daemon on CPU 1
# The broker is not pinned; its affinity is reported. Output: ZX_BENCH_OUT (default
# $BUILD_DIR/bench-notify/run): results (every step), affinity.txt, summary.tsv (one line
# per daemon: max answered/s, latency, CPU per NOTIFY).
set -euo pipefail
build=$(cd "${1:?usage: bench.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../../.." && pwd)
secs=${ZX_BENCH_SECS:-3}
rates=${ZX_BENCH_RATES:-"5000 10000 15000 20000 25000 30000 35000 40000 45000 50000 60000 70000 80000 90000 100000 110000 120000 140000"}
# The broker as one would run it for latency: a fixed heap with a young generation
# large enough that a young collection comes every tens of seconds, not every second
# (with the test bed's 512 MiB heap, G1's pauses put p99 at 40-100 ms). C1 only: C2's
# compilations would take CPU from the daemon during the run.
kafka_jvm=${ZX_KAFKA_JVM_OPTS:-"-Xms3g -Xmx3g -Xmn2g -XX:+UseG1GC -XX:TieredStopAtLevel=1"}
state=$build/bench-notify
run=${ZX_BENCH_OUT:-$state/run}
rm -rf "$run"
mkdir -p "$run"
pin=${ZX_BENCH_PIN:-loop}
case "$pin" in loop | all) ;; *) echo "ZX_BENCH_PIN: loop or all" >&2; exit 2 ;; esac
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

# cpu_split PID: "main_ticks other_ticks" of process PID: the thread that answers (for
# notifyd its main thread, for knotd the UDP worker in $ANSWER_TID) and all the others
cpu_split()
{
	local pid=$1 t main=0 other=0 ticks tid
	[ -d "/proc/$pid/task" ] || { echo "0 0"; return; }
	for t in /proc/"$pid"/task/*; do
		tid=${t##*/}
		ticks=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "$t/stat" 2>/dev/null || echo 0)
		if [ "$tid" = "$ANSWER_TID" ]; then
			main=$((main + ticks))
		else
			other=$((other + ticks))
		fi
	done
	echo "$main $other"
}

# ticks PID: user + system clock ticks of the whole process (0 when unknown)
ticks() { [ -n "$1" ] && awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

ncpu=$(nproc)
allcpus=0-$((ncpu - 1))

# affinity NAME PID: one line per thread "NAME tid comm cpus"
affinity()
{
	local t
	for t in /proc/"$2"/task/*; do
		printf '%s %s %s %s\n' "$1" "${t##*/}" "$(cat "$t/comm" 2>/dev/null)" \
			"$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status" 2>/dev/null)"
	done
}

# pin_daemon NAME PID: apply the policy to every thread; sets ANSWER_TID. knotd pins its
# UDP worker itself once it starts: that thread is the one whose mask is a single CPU
# while the process was started on all of them.
pin_daemon()
{
	local name=$1 pid=$2 tid comm cpus
	ANSWER_TID=$pid
	if [ "$name" = knotd ]; then
		ANSWER_TID=""
		while read -r _ tid comm cpus; do
			[ "$tid" != "$pid" ] && [[ $cpus =~ ^[0-9]+$ ]] && [ "$ncpu" -gt 1 ] && ANSWER_TID=$tid
		done < <(affinity "$name" "$pid")
		[ -n "$ANSWER_TID" ] || { echo "knotd: no self-pinned UDP worker found" >&2; affinity "$name" "$pid" >&2; exit 1; }
	fi
	if [ "$pin" = all ]; then
		taskset -a -p -c 1 "$pid" >/dev/null
	else
		taskset -a -p -c "$allcpus" "$pid" >/dev/null
		taskset -p -c 1 "$ANSWER_TID" >/dev/null
	fi
	check_pins "$name" "$pid" "after start"
}

# check_pins NAME PID WHEN: every thread where the policy puts it, else the run fails
check_pins()
{
	local name=$1 pid=$2 tid comm cpus want bad=0
	while read -r _ tid comm cpus; do
		want=$allcpus
		[ "$pin" = all ] || [ "$tid" = "$ANSWER_TID" ] && want=1
		echo "$3 $name tid=$tid comm=$comm cpus=$cpus want=$want" >>"$run/affinity.txt"
		[ "$cpus" = "$want" ] || bad=1
	done < <(affinity "$name" "$pid")
	if [ "$bad" = 1 ]; then
		echo "$name: a thread is not pinned as it should be ($3):" >&2
		grep "^$3 $name " "$run/affinity.txt" >&2
		exit 1
	fi
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
	if [ "$max" -eq 0 ]; then
		printf '%s\t0\tNA\tNA\tNA\tNA\tNA\t%s\n' "$name" "$pin" >>"$run/summary.tsv"
		return 0
	fi
	local c0 c1 b0 b1 n=0 lat50="" lat90=""
	c0=$(cpu_split "$pid")
	b0=$(ticks "$broker_pid")
	for pct in 50 90; do
		r=$((max * pct / 100))
		line=$(taskset -c 0 "$gen" -p "$port" -r "$r" -d "$secs" -k "bench:$secret")
		echo "$name at${pct}% $line" | tee -a "$run/results" >&2
		n=$((n + $(sed 's/.* answered=\([0-9]*\).*/\1/' <<<"$line")))
		local lat
		lat="$(sed 's/.*p50_us=\([0-9]*\).*p99_us=\([0-9]*\).*/\1\/\2/' <<<"$line")"
		[ "$pct" = 50 ] && lat50=$lat || lat90=$lat
		sleep 1
	done
	c1=$(cpu_split "$pid")
	b1=$(ticks "$broker_pid")
	read -r m0 k0 <<<"$c0"
	read -r m1 k1 <<<"$c1"
	# µs of CPU per NOTIFY answered: the answering thread, the daemon's other threads,
	# and (for notifyd) the broker's JVM, which is part of the answer's path
	local us_tick=$((1000000 / $(getconf CLK_TCK))) br=NA
	[ "$name" = notifyd ] && [ -n "$broker_pid" ] && br=$(((b1 - b0) * us_tick * 100 / (n > 0 ? n : 1)))
	local am=$(((m1 - m0) * us_tick * 100 / (n > 0 ? n : 1))) ao=$(((k1 - k0) * us_tick * 100 / (n > 0 ? n : 1)))
	echo "$name cpu_during_50_90_runs answered=$n answering_thread_ticks=$((m1 - m0)) other_thread_ticks=$((k1 - k0)) broker_ticks=$((b1 - b0))" |
		tee -a "$run/results" >&2
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$max" "$lat50" "$lat90" \
		"$(fmt100 "$am")" "$(fmt100 "$ao")" "$([ "$br" = NA ] && echo NA || fmt100 "$br")" "$pin" >>"$run/summary.tsv"
	# TCP (4 connections, pipelined) at half the UDP maximum.
	line=$(taskset -c 0 "$gen" -p "$port" -r $((max / 2)) -d "$secs" -T 4 -k "bench:$secret")
	echo "$name tcp_at50% $line" | tee -a "$run/results" >&2
}

fmt100() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); } # hundredths -> "x.yy"
printf 'daemon\tmax_answered_per_s\tp50_p99_us_at_50\tp50_p99_us_at_90\tanswering_thread_us_per_notify\tother_threads_us_per_notify\tbroker_us_per_notify\tpin\n' >"$run/summary.tsv"
broker_pid=$(ss -Htlnp "sport = :${ZX_KAFKA_BOOTSTRAP##*:}" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
[ -n "$broker_pid" ] && affinity broker "$broker_pid" | sed 's/^/start /' >>"$run/affinity.txt"

# Started on every CPU, pinned once its threads exist (librdkafka's start with the
# process; knotd pins its UDP worker itself during its start).
"$build/notifyd/notifyd" -c "$run/zx.yaml" >"$run/notifyd.log" 2>&1 &
nd=$!
pids+=($nd)
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port_http/health" >/dev/null && break
	sleep 0.1
done
pin_daemon notifyd "$nd"
# warm up (idempotent producer PID, topic metadata)
taskset -c 0 "$gen" -p "$port_nd" -r 1000 -d 2 -k "bench:$secret" >/dev/null
measure notifyd "$port_nd" "$nd"
check_pins notifyd "$nd" "after the run"
curl -sf "http://127.0.0.1:$port_http/metrics" | grep -E '^notifyd_(answered|unanswered|drops)' |
	grep -v ' 0$' >"$run/notifyd.metrics" || true
kill "$nd"
wait "$nd" 2>/dev/null || true

if [ "${ZX_BENCH_KNOT:-1}" = 1 ] && command -v knotd >/dev/null; then
	knotd -c "$run/knot.conf" >"$run/knotd.out" 2>&1 &
	kn=$!
	pids+=($kn)
	for _ in $(seq 100); do
		kdig @127.0.0.1 -p "$port_knot" +time=1 +retry=0 z0000.test SOA >/dev/null 2>&1 && break
		sleep 0.1
	done
	pin_daemon knotd "$kn"
	taskset -c 0 "$gen" -p "$port_knot" -r 1000 -d 2 -k "bench:$secret" >/dev/null
	measure knotd "$port_knot" "$kn"
	check_pins knotd "$kn" "after the run"
	kill "$kn"
fi
[ -n "$broker_pid" ] && affinity broker "$broker_pid" | sed 's/^/end /' >>"$run/affinity.txt"
echo "---- results ($run/results)"
cat "$run/results"
echo "---- summary ($run/summary.tsv)"
cat "$run/summary.tsv"
cat "$run/notifyd.metrics" 2>/dev/null || true
