#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scale-out: two xfrd replicas in one consumer group take a storm of NOTIFYs; a
# third joins and the first leaves (SIGTERM) mid-storm. Nothing is lost (every
# zone's newest copy and its last ZoneUpdated event hold the primary's latest
# serial; offsets committed to the end) and no zone is refreshed by two replicas
# at once (from the replicas' logs); /health (commit progress, 3 s stall) holds
# on every live replica through the rebalances.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
pl_init pl_replicas 8
ZONES=100
ROUNDS=10
bed_ports 4 kport h0 h1 h2
zones=()
for ((i = 0; i < ZONES; i++)); do
	zones+=("r$i.rep.test")
done
pl_knot "$kport" "${zones[@]}"
declare -A serial
for z in "${zones[@]}"; do
	serial[$z]=1
done
# a short commit-stall: liveness must hold through the rebalances (Cloudflare's
# cascade: a partition that moved away must not make its old owner look stuck)
stall="  health: { commit-stall: 3s }"
pl_config "$BED_T/x0.yaml" x0 "$h0" "$kport" "$stall" -- "${zones[@]}"
pl_config "$BED_T/x1.yaml" x1 "$h1" "$kport" "$stall" -- "${zones[@]}"
pl_config "$BED_T/x2.yaml" x2 "$h2" "$kport" "$stall" -- "${zones[@]}"
unhealthy=0
checks=0
check_health()
{
	local pid port code
	for pair in "$x0:$h0" "$x1:$h1" "${x2:-0}:$h2"; do
		pid=${pair%:*}
		port=${pair#*:}
		[ "$pid" != 0 ] && kill -0 "$pid" 2>/dev/null || continue
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
		checks=$((checks + 1))
		if [ "$code" = 503 ]; then
			bed_log "unhealthy: $(curl -s "http://127.0.0.1:$port/health")"
			unhealthy=$((unhealthy + 1))
		fi
	done
}
start=$SECONDS
pl_xfrd x0 "$BED_T/x0.yaml"
x0=$BED_PID
pl_xfrd x1 "$BED_T/x1.yaml"
x1=$BED_PID
x2=0
for ((r = 1; r <= ROUNDS; r++)); do
	if [ "$r" = 4 ]; then
		bed_log "round $r: x2 joins"
		pl_xfrd x2 "$BED_T/x2.yaml"
		x2=$BED_PID
	fi
	if [ "$r" = 7 ]; then
		bed_log "round $r: x0 leaves"
		kill -TERM "$x0"
	fi
	bumped=()
	for ((k = 0; k < 20; k++)); do
		bumped+=("${zones[RANDOM % ZONES]}")
	done
	mapfile -t bumped < <(printf '%s\n' "${bumped[@]}" | sort -u)
	pl_bump "${bumped[@]}"
	for z in "${bumped[@]}"; do
		serial[$z]=$((serial[$z] + 1))
	done
	{
		for z in "${bumped[@]}"; do
			echo "$z ${serial[$z]}"
		done
		for ((k = ${#bumped[@]}; k < 50; k++)); do
			z=${zones[RANDOM % ZONES]}
			echo "$z ${serial[$z]}"
		done
	} | "$PLTOOL" produce "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" >/dev/null
	sleep 0.7
	check_health
done
bed_wait_for 15 sh -c "! kill -0 $x0 2>/dev/null" || bed_die "x0 did not leave on SIGTERM"
grep -q "partition_revoked" "$BED_T/x0.out" || bed_die "x0 revoked nothing"
for z in "${zones[@]}"; do
	echo "$z. ${serial[$z]}"
done | sort >"$BED_T/want.txt"
newest()
{
	# the newest copy of each zone over the three stores
	for x in x0 x1 x2; do
		"$PLTOOL" zones "$BED_T/$x.lmdb" 2>/dev/null || true
	done | awk '$2 != "-" { if (!($1 in m) || $2 > m[$1]) m[$1] = $2 }
		END { for (z in m) print z, m[z] }' | sort >"$BED_T/have.txt"
	cmp -s "$BED_T/want.txt" "$BED_T/have.txt"
}
if ! bed_wait_for 90 newest; then
	diff "$BED_T/want.txt" "$BED_T/have.txt" | head >&2
	bed_die "a change was lost"
fi
bed_wait_for 30 pl_committed_all || {
	"$ZXKAFKA" offsets "$ZX_KAFKA_BOOTSTRAP" "$PL_GROUP" "$PL_REQ" >&2
	bed_die "committed offsets did not reach the end"
}
pl_updates | sed -n 's/.*zone=\([^ ]*\) kind=UPDATE_KIND_COMMITTED .* serial=\([0-9]*\) .*/\1 \2/p' |
	awk '{ last[$1] = $2 } END { for (z in last) print z, last[z] }' | sort >"$BED_T/events.txt"
cmp -s "$BED_T/want.txt" "$BED_T/events.txt" || {
	diff "$BED_T/want.txt" "$BED_T/events.txt" | head >&2
	bed_die "the last ZoneUpdated of a zone is not its latest serial"
}
check_health
[ "$unhealthy" = 0 ] || bed_die "/health failed $unhealthy times around the rebalances"
python3 "$ZX_SRC/tests/integration/pipeline/overlap.py" x0="$BED_T/x0.out" x1="$BED_T/x1.out" \
	x2="$BED_T/x2.out" >"$BED_T/overlap.txt" || { cat "$BED_T/overlap.txt" >&2; bed_die "overlap"; }
bed_log "$(tail -1 "$BED_T/overlap.txt")"
for x in x0 x1 x2; do
	bed_log "$x: $(grep -c partition_assigned "$BED_T/$x.out") assigned, $(grep -c partition_revoked "$BED_T/$x.out") revoked, $(grep -c 'event=xfr_done' "$BED_T/$x.out") transfers"
done
bed_log "PASS in $((SECONDS - start)) s; /health checked $checks times, never stalled"
