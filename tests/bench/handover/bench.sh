#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/handover/bench.sh -- a partition handover at size (issue 14; a benchmark, not
# a test): two xfrd replicas share BENCH_ZONES (10000) zones of one knotd over 6
# partitions (b transfers them all first, then a joins and takes half); then b leaves
# (SIGTERM) and a takes its partitions over.
# Measured, each mode in the same run on the same knotd:
#
#   follow    the replicas follow each other (every replica serves every zone): the
#             new owner holds copies, so each zone it takes costs an SOA query
#   alone     the same replicas with nothing to copy from (a wildcard listen and no
#             xfrd.advertise: the behaviour before issue 14): the new owner AXFRs them
#
# For each: the seconds from SIGTERM until the new owner has checked every zone with
# the primary (its store shows them all FRESH), and the AXFRs knotd served in that time.
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel --target xfrd pltool zxkafka
#   ZX_BUILD=$PWD/build-rel ZX_SRC=$PWD tests/bench/handover/bench.sh
#
# Needs the bed's Kafka (tests/bed/kafka.sh start; its env file in $ZX_BED_DIR).
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-25900 25999}
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
N=${BENCH_ZONES:-10000}
pl_init bench_handover 6
unset ZX_STORE_SYNC # shipped defaults: disk sync on
bed_ports 5 kport ha hb da db
zones=()
for ((i = 0; i < N; i++)); do zones+=("h$i.handover.test"); done
t0=$SECONDS
PL_KNOT_UDP_WORKERS=2 pl_knot "$kport" "${zones[@]}"
bed_log "knotd serves $N zones ($((SECONDS - t0)) s)"
ms_now() { echo $(($(date +%s%N) / 1000000)); }
axfrs() { grep -c 'AXFR, outgoing.*started' "$PL_KNOT_DIR/knotd.log" || true; }
count() { "$PLTOOL" zones "$BED_T/$1.lmdb" 2>/dev/null | awk -v s="$2" '$3 == s' | wc -l; }

# config NAME HTTP DNS LISTEN-ADDR GROUP
config()
{
	local z
	{
		echo "log: { level: info }"
		echo "kafka:"
		echo "  brokers: \"$ZX_KAFKA_BOOTSTRAP\""
		echo "  requests-topic: $PL_REQ"
		echo "  updates-topic: $PL_UPD"
		echo "  replicas-topic: $PL_REQ.replicas"
		echo "  group: $5"
		echo "  settings: { \"session.timeout.ms\": \"6000\", \"heartbeat.interval.ms\": \"500\" }"
		echo "xfrd:"
		echo "  replica: $1"
		echo "  store: $BED_T/$1.lmdb"
		echo "  store-size: 1G"
		echo "  listen: [ \"$4@$3\" ]"
		echo "  http: \"127.0.0.1:$2\""
		echo "  serve: { allow: [ 127.0.0.0/8 ] }"
		echo "zones:"
		for z in "${zones[@]}"; do
			echo "  - { name: $z, primaries: [ \"127.0.0.1@$kport\" ] }"
		done
	} >"$BED_T/$1.yaml"
}

# owned NAME: xfrd_zones_owned of replica NAME (its HTTP port in $NAME_http)
owned() { curl -sf "http://127.0.0.1:$1/metrics" | awk '$1 == "xfrd_zones_owned" { print $2 }'; }

# run MODE LISTEN: prints "MODE handover_ms axfrs_at_handover axfrs_before"
# b starts alone and transfers every zone; a joins and gets half the partitions (a
# copies or AXFRs them); once a holds its share, b leaves and a takes the rest over.
run()
{
	local mode=$1 addr=$2 a=a_$1 b=b_$1 t ms before
	config "$a" "$ha" "$da" "$addr" "$PL_GROUP.$mode"
	config "$b" "$hb" "$db" "$addr" "$PL_GROUP.$mode"
	pl_xfrd "$b" "$BED_T/$b.yaml"
	bed_wait_for 600 sh -c "[ \$('$PLTOOL' zones '$BED_T/$b.lmdb' 2>/dev/null | grep -c ' fresh$') -ge $N ]" ||
		bed_die "$mode: $b did not transfer every zone"
	pl_xfrd "$a" "$BED_T/$a.yaml"
	# a's share: it owns some partitions and holds each of their zones FRESH
	settled()
	{
		local o f g
		o=$(owned "$ha") && [ -n "$o" ] && [ "${o%.*}" -gt 0 ] || return 1
		f=$(count "$a" fresh)
		g=$(count "$a" following)
		[ "$f" -ge "${o%.*}" ] || return 1
		[ "$mode" != follow ] || [ $((f + g)) -ge "$N" ]
	}
	bed_wait_for 600 settled || bed_die "$mode: $a did not settle: owns $(owned "$ha"), $(count "$a" fresh) fresh"
	sleep 2
	before=$(axfrs)
	bed_log "$mode: $a owns $(owned "$ha") zones ($(count "$a" fresh) fresh, $(count "$a" following) following); knotd served $before AXFRs so far"
	t=$(ms_now)
	bed_stop_pid "$(cat "$BED_T/$b.pid")" "$b"
	rm -f "$BED_T/$b.pid"
	bed_wait_for 600 sh -c "[ \$('$PLTOOL' zones '$BED_T/$a.lmdb' | grep -c ' fresh$') -ge $N ]" ||
		bed_die "$mode: $a did not check every zone: $(count "$a" fresh) fresh"
	ms=$(($(ms_now) - t))
	echo "$mode $ms $(($(axfrs) - before)) $before"
	bed_stop_pid "$(cat "$BED_T/$a.pid")" "$a"
	rm -f "$BED_T/$a.pid"
}

uptime >&2
r1=$(run follow 127.0.0.1)
r2=$(run alone 0.0.0.0)
uptime >&2
read -r _ f_ms f_ax _ <<<"$r1"
read -r _ a_ms a_ax _ <<<"$r2"
cat <<EOF
| $N zones, one of two replicas leaves | handover to all FRESH | AXFRs from the primary at handover |
|---|---|---|
| replicas follow each other (issue 14) | $f_ms ms | $f_ax |
| alone (nothing to copy from) | $a_ms ms | $a_ax |
| ratio follow/alone | $(awk -v a="$f_ms" -v b="$a_ms" 'BEGIN { printf "%.2fx", a / b }') | |
EOF
