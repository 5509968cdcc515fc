#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every replica serves every zone (issue 14): three xfrd replicas in one consumer group,
# each with a DNS endpoint. The owner of a zone's partition transfers it from knotd;
# the others copy it from the owner (TSIG-signed with xfrd.peer-key; xfrd.serve
# lets nobody else in). Through a chain of changes, x1 is killed (SIGKILL) and x2
# joins. At the end every live replica serves every zone equal to knotd's (AXFR
# compared record by record, signed with the peer key), no zone was transferred
# from knotd by two replicas at once, and x0, which took x1's partitions over while
# holding followers' copies of their zones, fetched none of them by AXFR from knotd;
# x2, which joins with an empty store, seeds the zones of the partitions it gets
# from x0's copies, so that knotd serves each zone's AXFR once in the whole run.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
pl_init pl_follow 6
ZONES=24
ROUNDS=6
bed_ports 7 kport h0 h1 h2 d0 d1 d2
zones=()
for ((i = 0; i < ZONES; i++)); do
	zones+=("f$i.follow.test")
done
pl_knot "$kport" "${zones[@]}"
declare -A serial
for z in "${zones[@]}"; do
	serial[$z]=1
done
secret=$(head -c 32 /dev/urandom | base64)
peer="hmac-sha256:peer:$secret"
config()
{
	local name=$1 http=$2 dns=$3 z
	{
		echo "log: { level: info }"
		echo "keys:"
		echo "  - { name: peer, algorithm: hmac-sha256, secret: \"$secret\" }"
		echo "kafka:"
		echo "  brokers: \"$ZX_KAFKA_BOOTSTRAP\""
		echo "  requests-topic: $PL_REQ"
		echo "  updates-topic: $PL_UPD"
		echo "  replicas-topic: $PL_REQ.replicas"
		echo "  group: $PL_GROUP"
		echo "  settings: { \"session.timeout.ms\": \"6000\", \"heartbeat.interval.ms\": \"500\" }"
		echo "xfrd:"
		echo "  replica: $name"
		echo "  store: $BED_T/$name.lmdb"
		echo "  store-size: 256M"
		echo "  listen: [ \"127.0.0.1@$dns\" ]"
		echo "  http: \"127.0.0.1:$http\""
		echo "  timeouts: $PL_TIMEOUTS"
		echo "  peer-key: peer"
		echo "  serve: { allow: [] }"
		echo "zones:"
		for z in "${zones[@]}"; do
			echo "  - { name: $z, primaries: [ \"127.0.0.1@$kport\" ] }"
		done
	} >"$BED_T/$name.yaml"
}
config x0 "$h0" "$d0"
config x1 "$h1" "$d1"
config x2 "$h2" "$d2"

# want NAME...: every replica NAME's store holds every zone at its serial[] (the
# owner's FRESH or a follower's FOLLOWING)
want_file()
{
	for z in "${zones[@]}"; do
		echo "$z. ${serial[$z]}"
	done | sort >"$BED_T/want.txt"
}
holds_all()
{
	local x
	for x in "$@"; do
		pl_store_serials "$x" 2>/dev/null | awk '{print $1, $2}' | sort >"$BED_T/$x.have" || return 1
		cmp -s "$BED_T/want.txt" "$BED_T/$x.have" || return 1
	done
}

# owns_all NAME N: replica NAME holds N partitions now (its assignments and
# revocations, incremental or not)
owns_all()
{
	awk '/event=partition_assigned/ { sub(/.*partition=/, ""); own[$1] = 1 }
		/event=partition_(revoked|lost)/ { sub(/.*partition=/, ""); own[$1] = 0 }
		END { for (p in own) n += own[p]; exit n != '"$2"' }' "$BED_T/$1.out"
}
start=$SECONDS
pl_xfrd x0 "$BED_T/x0.yaml"
x0=$BED_PID
pl_xfrd x1 "$BED_T/x1.yaml"
x1=$BED_PID
want_file
bed_wait_for 60 holds_all x0 x1 || {
	diff "$BED_T/want.txt" "$BED_T/x0.have" | head -5 >&2
	diff "$BED_T/want.txt" "$BED_T/x1.have" | head -5 >&2
	bed_die "x0 and x1 do not both hold every zone"
}
for x in x0 x1; do
	bed_log "$x: $(pl_store_serials "$x" | awk '{print $3}' | sort | uniq -c | tr '\n' ' ')"
done
# (which of them follows what depends on who joined the group first: a replica that
# took zones over from the other seeds them from its copy)
nf=$({ pl_store_serials x0; pl_store_serials x1; } | grep -c ' following$' || true)
[ "$nf" -gt 0 ] || bed_die "neither replica follows the other"
axfr_start=$(grep -c 'AXFR, outgoing.*started' "$PL_KNOT_DIR/knotd.log" || true)
bed_log "both hold all $ZONES zones after $((SECONDS - start)) s; knotd served $axfr_start AXFRs"
[ "$axfr_start" -le "$ZONES" ] ||
	bed_die "knotd served $axfr_start AXFRs for $ZONES zones: replicas fetched from it twice"

x0_mark=0
for ((r = 1; r <= ROUNDS; r++)); do
	if [ "$r" = 2 ]; then
		bed_log "round $r: x1 killed"
		x0_mark=$(wc -l <"$BED_T/x0.out")
		kill -KILL "$x1"
		rm -f "$BED_T/x1.pid"
	fi
	if [ "$r" = 3 ]; then
		# x1's partitions are x0's after the session timeout (6 s)
		bed_wait_for 30 owns_all x0 6 || bed_die "x0 did not take x1's partitions"
		bed_log "round $r: x0 owns every partition"
	fi
	if [ "$r" = 4 ]; then
		bed_log "round $r: x2 joins"
		pl_xfrd x2 "$BED_T/x2.yaml"
	fi
	bumped=()
	for ((k = 0; k < 5; k++)); do
		bumped+=("${zones[RANDOM % ZONES]}")
	done
	mapfile -t bumped < <(printf '%s\n' "${bumped[@]}" | sort -u)
	pl_bump "${bumped[@]}"
	for z in "${bumped[@]}"; do
		serial[$z]=$((serial[$z] + 1))
	done
	for z in "${bumped[@]}"; do
		echo "$z ${serial[$z]}"
	done | "$PLTOOL" produce "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" >/dev/null
	sleep 1
done
want_file
# x2 owns what the group gave it, and copies the rest from x0
if ! bed_wait_for 90 holds_all x0 x2; then
	diff "$BED_T/want.txt" "$BED_T/x0.have" | head -5 >&2
	diff "$BED_T/want.txt" "$BED_T/x2.have" | head -5 >&2
	bed_die "the live replicas do not hold every zone's latest serial"
fi
bed_log "x0 and x2 hold every latest serial after $((SECONDS - start)) s"
# (before the comparisons below, which AXFR from knotd themselves)
axfr_end=$(grep -c 'AXFR, outgoing.*started' "$PL_KNOT_DIR/knotd.log" || true)
[ "$axfr_end" -le "$ZONES" ] ||
	bed_die "knotd served $axfr_end AXFRs for $ZONES zones: a replica that took zones over did not seed them from a copy"

for x in x0:$d0 x2:$d2; do
	port=${x#*:}
	for z in "${zones[@]}"; do
		bed_axfr 127.0.0.1 "$PL_KNOT_PORT" "$z" >"$BED_T/knot.zone" || bed_die "AXFR $z from knotd"
		bed_axfr 127.0.0.1 "$port" "$z" "$peer" >"$BED_T/rep.zone" || bed_die "AXFR $z from ${x%:*}"
		bed_zone_compare "$BED_T/knot.zone" "$BED_T/rep.zone" || bed_die "${x%:*} serves $z unlike knotd"
	done
done
# without the peer key xfrd.serve lets nobody in
out=$(kdig @127.0.0.1 -p "$d0" +tcp +timeout=2 +retry=0 AXFR "${zones[0]}" 2>&1 || true)
[[ "$out" == *REFUSED* ]] || bed_die "an unsigned AXFR from x0 was not REFUSED: $out"

python3 "$ZX_SRC/tests/integration/pipeline/overlap.py" --primary "127.0.0.1@$PL_KNOT_PORT" \
	x0="$BED_T/x0.out" x1="$BED_T/x1.out" x2="$BED_T/x2.out" >"$BED_T/overlap.txt" ||
	{ cat "$BED_T/overlap.txt" >&2; bed_die "two replicas transferred a zone from knotd at once"; }
bed_log "$(tail -1 "$BED_T/overlap.txt")"
after=$(tail -n +"$((x0_mark + 1))" "$BED_T/x0.out" |
	grep -c "event=xfr_done .*kind=AXFR .*primary=127.0.0.1@$PL_KNOT_PORT" || true)
[ "$after" = 0 ] || bed_die "x0 fetched $after zones by AXFR from knotd after taking x1's partitions"
copies=$(cat "$BED_T"/x*.out | grep -c 'event=xfr_done .*primary=127.0.0.1@\('"$d0"'\|'"$d1"'\|'"$d2"'\) ' || true)
[ "$copies" -gt 0 ] || bed_die "no replica copied a zone from another"
for x in x0 x1 x2; do
	bed_log "$x: $(grep -c "event=xfr_done .*primary=127.0.0.1@$PL_KNOT_PORT" "$BED_T/$x.out" || true) from knotd, $(grep -c 'event=xfr_done .*primary=127.0.0.1@\('"$d0"'\|'"$d1"'\|'"$d2"'\) ' "$BED_T/$x.out" || true) copies from replicas"
done
bed_log "PASS in $((SECONDS - start)) s: knotd served $axfr_end AXFRs to the replicas"
