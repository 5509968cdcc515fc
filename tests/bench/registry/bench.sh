#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/registry/bench.sh -- the zone registry at 100,000 zones (a benchmark, not a
# test): what a zone costs each process, how long a start takes to read the registry
# back, how long one change takes to reach every process.
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel --target xfrd notifyd pltool zxkafka
#   ZX_BUILD=$PWD/build-rel ZX_SRC=$PWD tests/bench/registry/bench.sh
#
# Needs the bed's Kafka (tests/bed/kafka.sh start; its env file in $ZX_BED_DIR).
# BENCH_ZONES (100000) zones are written to a compacted topic of 6 partitions
# (zxkafka produce-zones), each with one primary on a loopback port nothing listens
# on (their transfers fail at once: the registry is measured, not transfers). Then:
#   memory    notifyd's and xfrd's RSS with the registry against the same process with
#             an empty one, per zone; and the bytes the code itself accounts
#             (<prog>_registry_bytes: records, resolved settings, table;
#             xfrd_zones_bytes: the runtime's zone records and their settings)
#   load      process start to /ready (registry read to its end, zones in force)
#   change    BENCH_CHANGES (20) single-record writes, each timed from the write to
#             the moment both notifyd and xfrd count it (their *_registry_records_total,
#             polled every 2 ms): p50 and max
# There is no peer to compare with in the same run (Knot's and BIND's catalog zones
# are another mechanism), so the figures are absolute and make no speed claim.
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-25800 25899}
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/registry/lib.sh"
N=${BENCH_ZONES:-100000}
CHANGES=${BENCH_CHANGES:-20}
rg_init bench_registry 6
export ZX_STORE_SYNC=none
bed_ports 5 dead RG_ND_PORT RG_ND_HTTP xhttp xdns
EMPTY="$RG_TOPIC.empty"
"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$EMPTY" 6 --compact >/dev/null
bed_on_exit "$ZXKAFKA" delete-topic "$ZX_KAFKA_BOOTSTRAP" "$EMPTY"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { s += $2 } END { print s + 0 }'; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

t0=$(ms_now)
for ((i = 0; i < N; i++)); do rg_zone "z$i.bench.test" "$dead"; done >"$BED_T/zones.jsonl"
"$ZXKAFKA" produce-zones "$ZX_KAFKA_BOOTSTRAP" "$RG_TOPIC" "$BED_T/zones.jsonl" >/dev/null
bed_log "wrote $N registry records in $(($(ms_now) - t0)) ms"

# run PROG TOPIC NAME: start PROG with the registry TOPIC; prints "pid ms-to-ready"
run()
{
	local prog=$1 topic=$2 name=$3 http t
	rg_config "$BED_T/$name.yaml" "$name" "$xhttp" "$xdns"
	sed -i "s|topic: $RG_TOPIC,|topic: $topic,|" "$BED_T/$name.yaml"
	t=$(ms_now)
	if [ "$prog" = notifyd ]; then
		bed_spawn "$name" "$ND_BIN" -c "$BED_T/$name.yaml"
		http=$RG_ND_HTTP
	else
		bed_spawn "$name" "$XFRD" -c "$BED_T/$name.yaml" --pipeline
		http=$xhttp
	fi
	echo "$BED_PID" >"$BED_T/$name.pid"
	bed_wait_for 300 curl -fs "http://127.0.0.1:$http/ready" || bed_die "$name not ready"
	echo "$BED_PID $(($(ms_now) - t))"
}

declare -A rss ready
for prog in notifyd xfrd; do
	read -r pid _ < <(run $prog "$EMPTY" "$prog-empty")
	sleep 2
	base=$(rss_kb "$pid")
	bed_stop_pid "$pid" "$prog-empty"
	read -r pid ms < <(run $prog "$RG_TOPIC" "$prog-full")
	sleep 2
	full=$(rss_kb "$pid")
	rss[$prog]=$(((full - base) * 1024 / N))
	ready[$prog]=$ms
	if [ $prog = notifyd ]; then
		nd_pid=$pid
		nd_bytes=$(metric "$RG_ND_HTTP" notifyd_registry_bytes)
	else
		x_pid=$pid
		x_bytes=$(metric "$xhttp" xfrd_registry_bytes)
		z_bytes=$(metric "$xhttp" xfrd_zones_bytes)
	fi
done

# change: one record at a time, until both processes counted it
lat=()
put=()
for ((k = 0; k < CHANGES; k++)); do
	a=$(metric "$RG_ND_HTTP" notifyd_registry_records_total)
	b=$(metric "$xhttp" xfrd_registry_records_total)
	t=$(date +%s%N)
	rg_put "$(rg_zone "probe$k.bench.test" "$dead")"
	put+=($((($(date +%s%N) - t) / 1000000)))
	while [ "$(metric "$RG_ND_HTTP" notifyd_registry_records_total)" = "$a" ] ||
		[ "$(metric "$xhttp" xfrd_registry_records_total)" = "$b" ]; do
		sleep 0.002
	done
	lat+=($((($(date +%s%N) - t) / 1000000)))
done
mapfile -t sorted < <(printf '%s\n' "${lat[@]}" | sort -n)
p50=${sorted[$((CHANGES / 2))]}
max=${sorted[$((CHANGES - 1))]}
mapfile -t sorted < <(printf '%s\n' "${put[@]}" | sort -n)
put50=${sorted[$((CHANGES / 2))]}

cat <<REPORT
registry bench: $N zones, $(nproc) cores, kafka $(basename "${ZX_KAFKA_KIND:-apache}")
  notifyd  ready ${ready[notifyd]} ms   RSS +${rss[notifyd]} B/zone   accounted $((nd_bytes / N)) B/zone
  xfrd     ready ${ready[xfrd]} ms   RSS +${rss[xfrd]} B/zone   accounted registry $((x_bytes / N)) + zones $((z_bytes / N)) B/zone
  change   write -> seen by notifyd and xfrd: p50 $p50 ms, max $max ms ($CHANGES writes)
           of which the writer (a zxkafka process: start, produce, acks=all, exit): p50 $put50 ms
REPORT
