#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/pipeline/bench.sh -- NOTIFY to LMDB commit through notifyd, the real
# broker and xfrd's consumer group (a benchmark, not a test).
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel --target xfrd notifyd pltool zonegen zxkafka
#   ZX_BUILD=$PWD/build-rel ZX_SRC=$PWD tests/bench/pipeline/bench.sh [latency] [burst]
#
# Needs the bed's Kafka (tests/bed/kafka.sh start; its env file in $ZX_BED_DIR).
#   latency  big.test, 1,000,002 RRs (zonegen) on knotd; BENCH_CHANGES (1000) changes
#            of one TXT record, each through knotc zone-begin/set/commit (knotd bumps
#            the serial and NOTIFYs notifyd over TCP, TSIG hmac-sha256); the next
#            change once the store holds the last one (no queue in between).
#            Latency = ZoneUpdated.committed_us - TransferRequest.received_us of
#            the same serial: notifyd's reception of the NOTIFY to xfrd's LMDB
#            commit (Kafka produce + delivery, consume, SOA query, IXFR, commit).
#   burst    10,000 zones of 11 RRs on knotd (8 TCP workers), all loaded; 1,000 of them changed
#            (zone files + one reload, waited for); then 1,000 unsigned NOTIFYs
#            sent at once over UDP to notifyd. Span = first NOTIFY received by
#            notifyd to the last of the 1,000 LMDB commits; answers counted.
# Store sync: ZX_STORE_SYNC (default nometa: a system crash may lose the last
# commit, a process crash loses nothing). Ports from 25900-25999.
set -euo pipefail
export ZX_BED_PORTS="25900 25999"
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
what=${*:-latency burst}
export ZX_STORE_SYNC=${ZX_STORE_SYNC:-nometa}
ND_BIN=$ZX_BUILD/notifyd/notifyd

# config FILE ZONE-LINES (stdin): one file for notifyd and xfrd
config()
{
	cat >"$1" <<YAML
log: { level: info }
kafka:
  brokers: "$ZX_KAFKA_BOOTSTRAP"
  requests-topic: $PL_REQ
  updates-topic: $PL_UPD
  group: $PL_GROUP
keys:
  - { name: bench-key, algorithm: hmac-sha256, secret: "$secret" }
notifyd:
  instance: nd-bench
  listen: [ "127.0.0.1@$nport" ]
  http: "127.0.0.1:$nhttp"
  rate-limit: { per-source: 0, per-zone: 0 }
xfrd:
  replica: x-bench
  store: $BED_T/x.lmdb
  store-size: 8G
  listen: []
  http: "127.0.0.1:$xhttp"
  transfers: { max: 64, per-primary: 32 }
zones:
YAML
	cat >>"$1"
}

start_daemons()
{
	bed_spawn notifyd "$ND_BIN" -c "$BED_T/zx.yaml"
	bed_wait_for 20 curl -fs "http://127.0.0.1:$nhttp/health" || bed_die "notifyd did not start"
	pl_xfrd x "$BED_T/zx.yaml"
	bed_wait_for 60 curl -fs "http://127.0.0.1:$xhttp/ready" || bed_die "xfrd not ready"
}

stop_daemons()
{
	local f
	for f in "$BED_T"/*.pid; do
		[ -f "$f" ] && bed_stop_pid "$(cat "$f")"
	done
	bed_stop_pid "$(pgrep -f "$ND_BIN -c $BED_T/zx.yaml" | head -1)" notifyd 2>/dev/null || true
	rm -f "$BED_T"/*.pid
}

bench_latency()
{
	pl_init bench_latency 8
	secret=$(head -c 32 /dev/urandom | base64)
	bed_ports 4 nport nhttp kport xhttp
	local zg
	zg=$(bed_tool zonegen)
	"$zg" -z big.test -n 1000000 -s 1 -S 2024010100 -o "$BED_T/big.db"
	echo "  - { name: big.test, primaries: [ \"127.0.0.1@$kport\" ], key: bench-key }" |
		config "$BED_T/zx.yaml"
	start_daemons
	PRIMARY_NOTIFY="127.0.0.1@$nport" primary_start knot knot "$kport" big.test \
		"$BED_T/big.db" "hmac-sha256:bench-key:$secret"
	local s0 sock i t0
	s0=$(primary_serial knot)
	bed_wait_for 300 sh -c "'$PLTOOL' zones '$BED_T/x.lmdb' | grep -q '^big.test. $s0 '" ||
		bed_die "big.test not loaded"
	bed_log "big.test loaded at $s0; $BENCH_CHANGES changes"
	sock=$(primary_ctl knot)
	t0=$SECONDS
	for ((i = 1; i <= BENCH_CHANGES; i++)); do
		knotc -s "$sock" zone-begin big.test >/dev/null
		knotc -s "$sock" zone-set big.test "bench-$i" 300 TXT "change $i" >/dev/null
		knotc -s "$sock" zone-commit big.test >/dev/null
		bed_wait_for 20 sh -c "'$PLTOOL' zones '$BED_T/x.lmdb' | grep -q '^big.test. $((s0 + i)) '" ||
			bed_die "change $i not committed"
	done
	bed_log "$BENCH_CHANGES changes in $((SECONDS - t0)) s"
	sleep 1
	echo "latency $("$PLTOOL" latency "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" "$PL_UPD")" | tee -a "$results"
	stop_daemons
	primary_stop knot
}

bench_burst()
{
	pl_init bench_burst 8
	secret=$(head -c 32 /dev/urandom | base64)
	bed_ports 4 nport nhttp kport xhttp
	local zones=() i z t0
	for ((i = 0; i < 10000; i++)); do
		zones+=("b$i.burst.test")
	done
	for z in "${zones[@]}"; do
		echo "  - { name: $z, primaries: [ \"127.0.0.1@$kport\" ], notify-from: [ \"127.0.0.0/8\" ] }"
	done | config "$BED_T/zx.yaml"
	# the primary must not be the bottleneck: knotd's default 2 TCP workers are
	export PL_KNOT_TCP_WORKERS=${PL_KNOT_TCP_WORKERS:-8} PL_KNOT_UDP_WORKERS=${PL_KNOT_UDP_WORKERS:-2}
	pl_knot "$kport" "${zones[@]}"
	t0=$SECONDS
	start_daemons
	bed_wait_for 300 sh -c "[ \$('$PLTOOL' zones '$BED_T/x.lmdb' | grep -c ' 1 fresh') = 10000 ]" ||
		bed_die "10k zones not loaded"
	bed_log "10,000 zones loaded (config start, REFRESH through Kafka) in $((SECONDS - t0)) s"
	local changed=("${zones[@]:0:1000}")
	pl_bump "${changed[@]}"
	bed_log "1,000 zones changed on the primary; NOTIFY burst"
	for z in "${changed[@]}"; do
		echo "$z 2"
	done | "$PLTOOL" notify-burst "$nport" | tee "$BED_T/burst.txt"
	bed_wait_for 60 sh -c "[ \$('$PLTOOL' zones '$BED_T/x.lmdb' | grep -c ' 2 fresh') = 1000 ]" ||
		bed_die "the 1,000 changes were not all committed"
	sleep 1
	echo "burst $(cat "$BED_T/burst.txt") $("$PLTOOL" latency "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" "$PL_UPD")" |
		tee -a "$results"
	stop_daemons
}

BENCH_CHANGES=${BENCH_CHANGES:-1000}
mkdir -p "$ZX_BUILD/bench"
results=$ZX_BUILD/bench/pipeline-$(date +%Y%m%d-%H%M%S).txt
for w in $what; do
	( "bench_$w" )
done
bed_log "results in $results"
