#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A storm: 500 NOTIFYs for 100 zones (several per zone, serials moving on a knotd
# primary) while xfrd is SIGKILLed at random moments, 10 rounds. Afterwards every
# zone holds the primary's latest serial, no zone was transferred more often than
# its distinct serials plus the restarts, and the group's committed offsets
# reached the end of every partition.
#
# STORM_STATIC=1 (default): static membership (group.instance.id), so a restarted
# replica takes its place at once; STORM_STATIC=0: a new member each time, so the
# killed one's partitions move only after its session times out (6 s) and the
# rebalance hands them over (fewer rounds: STORM_ROUNDS).
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
pl_init "pl_storm${STORM_STATIC:-1}" 4
ZONES=100
ROUNDS=${STORM_ROUNDS:-10}
bed_ports 2 kport hport
zones=()
for ((i = 0; i < ZONES; i++)); do
	zones+=("z$i.storm.test")
done
pl_knot "$kport" "${zones[@]}"
declare -A serial distinct
for z in "${zones[@]}"; do
	serial[$z]=1
	distinct[$z]=1
done
if [ "${STORM_STATIC:-1}" = 1 ]; then
	PL_SETTINGS=', "group.instance.id": "x0"'
fi
pl_config "$BED_T/x.yaml" x0 "$hport" "$kport" "" -- "${zones[@]}"
start=$SECONDS
pl_xfrd x0_0 "$BED_T/x.yaml"
xpid=$BED_PID
sent=0
for ((r = 1; r <= ROUNDS; r++)); do
	# 20 zones change, then 50 NOTIFYs: each changed zone with its new serial,
	# the rest random zones with their current one (duplicates on purpose)
	bumped=()
	for ((k = 0; k < 20; k++)); do
		bumped+=("${zones[RANDOM % ZONES]}")
	done
	mapfile -t bumped < <(printf '%s\n' "${bumped[@]}" | sort -u)
	pl_bump "${bumped[@]}"
	for z in "${bumped[@]}"; do
		serial[$z]=$((serial[$z] + 1))
		distinct[$z]=$((distinct[$z] + 1))
	done
	log=$BED_T/x0_$((r - 1)).out
	before=$(grep -c request_read "$log" || true)
	{
		for z in "${bumped[@]}"; do
			echo "$z ${serial[$z]}"
		done
		for ((k = ${#bumped[@]}; k < 50; k++)); do
			z=${zones[RANDOM % ZONES]}
			echo "$z ${serial[$z]}"
		done
	} | "$PLTOOL" produce "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" >/dev/null
	sent=$((sent + 50))
	# a random moment: once this round's requests are being read, within 40 ms
	# (transfers running, events in flight, commits still to be made), or later
	bed_wait_for 10 sh -c "[ \$(grep -c request_read '$log') -gt $before ]" || true
	if [ $((RANDOM % 4)) = 0 ]; then
		sleep "0.$(printf %03d $((RANDOM % 300)))"
	else
		sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
	fi
	kill -KILL "$xpid"
	wait "$xpid" 2>/dev/null || true
	pl_xfrd "x0_$r" "$BED_T/x.yaml"
	xpid=$BED_PID
done
bed_log "sent $sent NOTIFYs, $ROUNDS SIGKILLs; waiting for the store to catch up"
want=$BED_T/want.txt
for z in "${zones[@]}"; do
	echo "$z. ${serial[$z]}"
done | sort >"$want"
caught_up()
{
	"$PLTOOL" zones "$BED_T/x0.lmdb" | awk '{print $1, $2}' | sort >"$BED_T/have.txt"
	cmp -s "$want" "$BED_T/have.txt"
}
if ! bed_wait_for 90 caught_up; then
	diff "$want" "$BED_T/have.txt" | head >&2
	bed_die "the store does not hold the primary's latest serials"
fi
bed_wait_for 30 pl_committed_all || {
	"$ZXKAFKA" offsets "$ZX_KAFKA_BOOTSTRAP" "$PL_GROUP" "$PL_REQ" >&2
	bed_die "committed offsets did not reach the end"
}
# transfers per zone <= distinct serials + restarts
cat "$BED_T"/x0_*.out | sed -n 's/.*event=xfr_done zone=\([^ ]*\) kind=\(axfr\|ixfr\).*/\1/p' |
	sort | uniq -c >"$BED_T/transfers.txt"
bad=0
while read -r n z; do
	lim=$((distinct[${z%.}] + ROUNDS))
	if [ "$n" -gt "$lim" ]; then
		bed_log "$z transferred $n times > $lim"
		bad=1
	fi
done <"$BED_T/transfers.txt"
[ "$bad" = 0 ] || bed_die "too many transfers"
total=$(awk '{s += $1} END {print s}' "$BED_T/transfers.txt")
[ $((SECONDS - start)) -le $((15 * ROUNDS + 30)) ] || bed_die "took $((SECONDS - start)) s"
reread=$(cat "$BED_T"/x0_*.out | sed -n 's/.*request_read zone=[^ ]* partition=\([0-9]*\) offset=\([0-9]*\).*/\1:\2/p' |
	sort | uniq -d | wc -l)
bed_log "PASS: $reread requests read again after a SIGKILL; $ZONES zones at the latest serial after $ROUNDS SIGKILLs in $((SECONDS - start)) s; $total transfers"
