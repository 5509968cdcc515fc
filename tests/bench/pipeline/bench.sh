#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/pipeline/bench.sh -- zx alone, through notifyd, the real broker and xfrd's
# consumer group: NOTIFY sent to new serial served, with the pipeline's own breakdown
# beside it (a benchmark, not a test). The comparison with Knot, BIND and NSD is
# tests/bench/compare.sh; this one looks inside zx.
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel -j2
#   ZX_BUILD=$PWD/build-rel ZX_SRC=$PWD tests/bench/pipeline/bench.sh [latency] [burst]
#
# Needs the bed's Kafka (tests/bed/kafka.sh start; its env file in $ZX_BED_DIR).
#   latency  big.test, 1,000,002 RRs (zonegen) on knotd; BENCH_CHANGES (1000) changes of
#            one TXT record, each through knotc zone-begin/set/commit (knotd bumps the
#            serial; it sends no NOTIFY); then zxpoll sends the NOTIFY (TSIG hmac-sha256)
#            to notifyd and polls xfrd's DNS endpoint: end to end = NOTIFY sent -> new
#            serial answered (p50/p90/p99/max). Beside it, the pipeline's own view:
#            ZoneUpdated.committed_us - TransferRequest.received_us of the same serial
#            (notifyd's reception to xfrd's LMDB commit).
#   burst    10,000 zones of 11 RRs on knotd (the bed's primary: 1 UDP and 2 TCP
#            workers), all loaded; 1,000 of them changed (zone files + one reload, waited
#            for); then zxpoll sends 1,000 unsigned NOTIFYs at once over UDP to notifyd
#            (again every second to those unanswered, up to 5 rounds) and polls xfrd's
#            endpoint: span = first NOTIFY sent -> all 1,000 new serials answered,
#            NOTIFYs unanswered; the pipeline's span (first received -> last commit)
#            beside.
# zx runs with its shipped defaults: disk sync on (ZX_STORE_SYNC is not set unless you set
# it), transfers max 64 / per-primary 8. Ports from ZX_BED_PORTS (default 25900-25999).
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-"25900 25999"}
user_ports=$ZX_BED_PORTS
user_sync=${ZX_STORE_SYNC:-}
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
what=${*:-latency burst}
ND_BIN=$ZX_BUILD/notifyd/notifyd
POLL=$ZX_BUILD/tests/bench/compare/zxpoll
[ -x "$POLL" ] || { echo "$POLL not built" >&2; exit 1; }

# pl_init is the integration tests' setup: it sets ZX_STORE_SYNC=none (no disk sync, for
# the tests' speed) and its own port range. A benchmark keeps the shipped default.
bench_init()
{
	pl_init "$@"
	export ZX_BED_PORTS=$user_ports
	if [ -n "$user_sync" ]; then
		export ZX_STORE_SYNC=$user_sync
	else
		unset ZX_STORE_SYNC
	fi
}

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
  rate-limit: { per-source: 0 }
xfrd:
  replica: x-bench
  store: $BED_T/x.lmdb
  listen: [ "127.0.0.1@$xport" ]
  http: "127.0.0.1:$xhttp"
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
	rm -f "$BED_T"/*.pid
}

# pctl FILE: p50 p90 p99 max (nearest rank) of the numbers in FILE
pctl()
{
	sort -g "$1" | awk '{ a[NR] = $1 } END {
		n = NR; if (n == 0) { print "samples=0"; exit }
		printf "samples=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f", n,
			a[int(n * 0.50 + 0.999)], a[int(n * 0.90 + 0.999)], a[int(n * 0.99 + 0.999)], a[n] }'
}

kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

bench_latency()
{
	bench_init bench_latency 8
	secret=$(head -c 32 /dev/urandom | base64)
	bed_ports 5 nport nhttp kport xhttp xport
	local zg
	zg=$(bed_tool zonegen)
	"$zg" -z big.test -n 1000000 -s 1 -S 2024010100 -o "$BED_T/big.db"
	echo "  - { name: big.test, primaries: [ \"127.0.0.1@$kport\" ], key: bench-key }" |
		config "$BED_T/zx.yaml"
	# the primary first: it sends no NOTIFY, so xfrd's first refresh must find it
	primary_start knot knot "$kport" big.test "$BED_T/big.db" "hmac-sha256:bench-key:$secret"
	start_daemons
	local s0 sock i t0 line
	s0=$(primary_serial knot)
	echo "big.test $s0" | "$POLL" -s "127.0.0.1@$xport" -f - -t 300 >/dev/null ||
		bed_die "big.test not loaded"
	bed_log "big.test loaded at $s0; $BENCH_CHANGES changes"
	sock=$(primary_ctl knot)
	t0=$SECONDS
	: >"$BED_T/e2e.ms"
	for ((i = 1; i <= BENCH_CHANGES; i++)); do
		knotc -s "$sock" zone-begin big.test >/dev/null
		knotc -s "$sock" zone-set big.test "bench-$i" 300 TXT "change $i" >/dev/null
		knotc -s "$sock" zone-commit big.test >/dev/null
		echo "big.test $((s0 + i))" >"$BED_T/target"
		"$POLL" -s "127.0.0.1@$kport" -f "$BED_T/target" -t 20 >/dev/null ||
			bed_die "the primary does not serve $((s0 + i))"
		line=$("$POLL" -s "127.0.0.1@$xport" -f "$BED_T/target" -n "127.0.0.1@$nport" \
			-k "hmac-sha256:bench-key:$secret" -t 20) || bed_die "change $i not served: $line"
		[ "$(kv already "$line")" = 0 ] || bed_die "change $i served before its NOTIFY"
		kv t_ms "$line" >>"$BED_T/e2e.ms"
	done
	bed_log "$BENCH_CHANGES changes in $((SECONDS - t0)) s"
	sleep 1
	echo "latency NOTIFY sent -> served (end to end): $(pctl "$BED_T/e2e.ms")" | tee -a "$results"
	echo "latency pipeline (notifyd received -> xfrd committed): $("$PLTOOL" latency "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" "$PL_UPD")" |
		tee -a "$results"
	stop_daemons
	primary_stop knot
}

bench_burst()
{
	bench_init bench_burst 8
	secret=$(head -c 32 /dev/urandom | base64)
	bed_ports 5 nport nhttp kport xhttp xport
	local zones=() i z t0
	for ((i = 0; i < 10000; i++)); do
		zones+=("b$i.burst.test")
	done
	for z in "${zones[@]}"; do
		echo "  - { name: $z, primaries: [ \"127.0.0.1@$kport\" ], notify-from: [ \"127.0.0.0/8\" ] }"
	done | config "$BED_T/zx.yaml"
	pl_knot "$kport" "${zones[@]}"
	t0=$SECONDS
	start_daemons
	printf '%s 1\n' "${zones[@]}" >"$BED_T/all.target"
	"$POLL" -s "127.0.0.1@$xport" -f "$BED_T/all.target" -t 300 >"$BED_T/load.txt" ||
		bed_die "10k zones not loaded: $(cat "$BED_T/load.txt")"
	bed_log "10,000 zones loaded (xfrd ready, then REFRESH through Kafka) in $((SECONDS - t0)) s"
	local changed=("${zones[@]:0:1000}")
	pl_bump "${changed[@]}"
	bed_log "1,000 zones changed on the primary; NOTIFY burst"
	printf '%s 2\n' "${changed[@]}" >"$BED_T/changed.target"
	local line
	line=$("$POLL" -s "127.0.0.1@$xport" -f "$BED_T/changed.target" -n "127.0.0.1@$nport" -t 120) ||
		bed_die "the 1,000 changes were not all served: $line"
	sleep 1
	echo "burst NOTIFY sent -> all served (end to end): t_ms=$(kv t_ms "$line") res_ms=$(kv res_ms "$line") notify_lost_first=$(kv notify_lost_first "$line") notify_lost=$(kv notify_lost "$line")" |
		tee -a "$results"
	echo "burst pipeline (first received -> last commit): $("$PLTOOL" latency "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" "$PL_UPD")" |
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
