#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The registry at size (issue 13): 10,000 zones registered through x1's REST API (32
# curl processes at a time) while two xfrd replicas and a notifyd run. Each zone is transferred from the primary exactly once, by the replica
# that owns its partition, and copied from it by the other (issue 14: every replica
# serves every zone); notifyd accepts NOTIFY for them. Then 1,000 are removed: no replica
# serves them, each is announced REMOVED once and purged after the grace. A primary
# list changes live. Every process restarts and reads the registry back: nothing is
# lost and nothing is transferred again.
#
# RG_SCALE_ZONES (default 10000), RG_SCALE_REMOVE (default 1000) size it down for a
# quick look.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/registry/lib.sh"
rg_init rg_scale 6
N=${RG_SCALE_ZONES:-10000}
R=${RG_SCALE_REMOVE:-1000}
[ -x "$ND_BIN" ] || bed_die "$ND_BIN not built"
bed_ports 9 kport kport2 h1 d1 h2 d2 RG_ND_PORT RG_ND_HTTP spare
zones=()
for ((i = 0; i < N; i++)); do zones+=("z$i.scale.test"); done
t0=$SECONDS
PL_KNOT_UDP_WORKERS=2 pl_knot "$kport" "${zones[@]}"
bed_log "knotd serves $N zones ($((SECONDS - t0)) s)"

TOKEN=scale-Token-0123456789-abcdefgh
printf 'admin write %s\n' "$TOKEN" >"$BED_T/tokens"
chmod 600 "$BED_T/tokens"
RG_XFRD_EXTRA="  api: { tokens: tokens, allow: [ \"127.0.0.1\" ] }" \
	rg_config "$BED_T/x1.yaml" x1 "$h1" "$d1" 8s
rg_config "$BED_T/x2.yaml" x2 "$h2" "$d2" 8s
start_all()
{
	pl_xfrd x1 "$BED_T/x1.yaml"
	pl_xfrd x2 "$BED_T/x2.yaml"
	bed_spawn notifyd "$ND_BIN" -c "$BED_T/x1.yaml"
	echo "$BED_PID" >"$BED_T/notifyd.pid"
	bed_wait_for 60 curl -fs "http://127.0.0.1:$h1/ready" || bed_die "x1 not ready"
	bed_wait_for 60 curl -fs "http://127.0.0.1:$h2/ready" || bed_die "x2 not ready"
	bed_wait_for 60 curl -fs "http://127.0.0.1:$RG_ND_HTTP/ready" || bed_die "notifyd not ready"
}
stop_all()
{
	local n
	for n in x1 x2 notifyd; do
		bed_stop_pid "$(cat "$BED_T/$n.pid")" "$n"
		mv "$BED_T/$n.out" "$BED_T/$n.$1.out"
	done
}
stored() { "$PLTOOL" zones "$BED_T/$1.lmdb" 2>/dev/null | awk -v s="$2" '$3 == s' | wc -l; }
both() { echo $(($(stored x1 "$1") + $(stored x2 "$1"))); }

start_all
# both replicas in the group before the zones come, so each owns its share
bed_wait_for 30 sh -c "grep -q partition_assigned '$BED_T/x1.out' && grep -q partition_assigned '$BED_T/x2.out'" ||
	bed_die "the replicas did not share the partitions"
t0=$(date +%s%N)
# 32 curl processes, each a sequence of PUTs on one kept connection (curl's own
# --parallel mode aborts transfers with "Failed initialization" at this size); a PUT
# is answered once xfrd read the record back from the topic (tens of ms)
S=32
for ((i = 0; i < N; i++)); do
	{
		echo "url = \"http://127.0.0.1:$h1/v1/zones/${zones[i]}\""
		echo "request = \"PUT\""
		echo "header = \"Authorization: Bearer $TOKEN\""
		echo "header = \"Content-Type: application/json\""
		echo "data = \"{\\\"primaries\\\": [\\\"127.0.0.1@$kport\\\"]}\""
		echo "output = \"/dev/null\""
		echo "write-out = \"%{http_code} %{errormsg}\\n\""
		if [ "$i" -lt $((N - S)) ]; then echo "next"; fi # none after a file's last URL
	} >>"$BED_T/puts.$((i % S)).curl"
done
curls=()
for ((k = 0; k < S && k < N; k++)); do
	curl -s -K "$BED_T/puts.$k.curl" >"$BED_T/puts.$k.codes" &
	curls+=($!)
done
wait "${curls[@]}" || true # the curls only: a bare wait waits for the daemons too
cat "$BED_T"/puts.*.codes >"$BED_T/puts.codes"
codes=$(sort "$BED_T/puts.codes" | uniq -c | tr '\n' ' ')
[ "$(grep -c '^201 $' "$BED_T/puts.codes")" -eq "$N" ] || bed_die "PUT answers: $codes"
bed_log "$N zones PUT through the API in $((($(date +%s%N) - t0) / 1000000)) ms: $codes"
bed_wait_for 180 sh -c "[ \$(( \$('$PLTOOL' zones '$BED_T/x1.lmdb' | grep -c ' fresh$') + \$('$PLTOOL' zones '$BED_T/x2.lmdb' | grep -c ' fresh$') )) -ge $N ]" ||
	bed_die "not every zone transferred: x1=$(stored x1 fresh) x2=$(stored x2 fresh)"
ms=$((($(date +%s%N) - t0) / 1000000))
n1=$(stored x1 fresh)
n2=$(stored x2 fresh)
bed_log "$N zones registered -> all transferred in $ms ms (x1 $n1, x2 $n2)"
[ $((n1 + n2)) -eq "$N" ] || bed_die "a zone is owned by both: x1=$n1 x2=$n2"
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || bed_die "one replica took every zone"
holds_all() { [ $(($(stored "$1" fresh) + $(stored "$1" following))) -eq "$N" ]; }
t0=$(date +%s%N)
bed_wait_for 180 sh -c "$(declare -f stored holds_all); PLTOOL='$PLTOOL' BED_T='$BED_T' N=$N; holds_all x1 && holds_all x2" ||
	bed_die "a replica does not hold every zone: x1 $(stored x1 following) x2 $(stored x2 following) following"
bed_log "each replica holds all $N zones $((($(date +%s%N) - t0) / 1000000)) ms later (x1 follows $(stored x1 following), x2 $(stored x2 following))"
# from the primary exactly once, by its owner
dups=$(cat "$BED_T/x1.out" "$BED_T/x2.out" | grep "xfr_done .*primary=127.0.0.1@$kport " |
	grep -o 'xfr_done zone=[^ ]*' | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] || bed_die "$dups zones transferred from the primary more than once"
for i in 0 $((N / 2)) $((N - 1)); do
	z=z$i.scale.test
	kdig @127.0.0.1 -p "$RG_ND_PORT" +timeout=2 +retry=1 -t NOTIFY "$z" | grep -q 'status: NOERROR' ||
		bed_die "notifyd refuses NOTIFY for $z"
done
grep -h "registry_loaded\|registry_caught_up" "$BED_T/x1.out" | head -2 >&2

# -- a primary list changed live: z1 moves to a second knotd with a newer serial ----------
PL_KNOT_NAME=knot2 pl_knot "$kport2" z1.scale.test
for i in 1 2 3 4; do pl_bump z1.scale.test >/dev/null; done
rg_put "$(rg_zone z1.scale.test "$kport2")"
sleep 1
"$ZXKAFKA" produce-request "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" z1.scale.test >/dev/null
bed_wait_for 20 sh -c "cat '$BED_T'/x1.out '$BED_T'/x2.out | grep -q 'xfr_done zone=z1.scale.test. .*serial=5 .*primary=127.0.0.1@$kport2'" ||
	bed_die "z1.scale.test not transferred from its new primary"

# -- 1,000 removed --------------------------------------------------------------------------
t0=$(date +%s%N)
for ((i = N - R; i < N; i++)); do echo "-z$i.scale.test"; done >"$BED_T/rm.txt"
"$ZXKAFKA" produce-zones "$ZX_KAFKA_BOOTSTRAP" "$RG_TOPIC" "$BED_T/rm.txt" >/dev/null ||
	bed_die "tombstones failed"
bed_wait_for 60 sh -c "[ \$(( \$('$PLTOOL' zones '$BED_T/x1.lmdb' | grep -c ' removed$') + \$('$PLTOOL' zones '$BED_T/x2.lmdb' | grep -c ' removed$') )) -ge $((2 * R)) ]" ||
	bed_die "not every removed zone marked: $(both removed)"
bed_log "$R zones removed -> all marked in $((($(date +%s%N) - t0) / 1000000)) ms"
for i in $((N - R)) $((N - 1)); do
	z=z$i.scale.test
	for d in "$d1" "$d2"; do
		r=$(rg_soa "$d" "$z")
		[ "${r%% *}" = NOTAUTH ] || bed_die "removed $z still served on $d: $r"
	done
	kdig @127.0.0.1 -p "$RG_ND_PORT" +timeout=2 +retry=1 -t NOTIFY "$z" | grep -q 'status: REFUSED' ||
		bed_die "notifyd accepts NOTIFY for the removed $z"
done
removed_events()
{
	"$ZXKAFKA" consume "$ZX_KAFKA_BOOTSTRAP" "$PL_UPD" --count 100000000 --timeout 3 --from-beginning \
		--type update 2>/dev/null | grep -c 'kind=UPDATE_KIND_REMOVED' || true
}
bed_wait_for 30 sh -c "[ \$('$ZXKAFKA' consume '$ZX_KAFKA_BOOTSTRAP' '$PL_UPD' --count 100000000 --timeout 3 --from-beginning --type update 2>/dev/null | grep -c kind=UPDATE_KIND_REMOVED) -ge $R ]" ||
	bed_die "REMOVED events: $(removed_events) of $R"
ev=$(removed_events)
[ "$ev" -eq "$R" ] || bed_die "$ev REMOVED events for $R zones"
bed_wait_for 60 sh -c "[ \$(( \$('$PLTOOL' zones '$BED_T/x1.lmdb' | wc -l) + \$('$PLTOOL' zones '$BED_T/x2.lmdb' | wc -l) )) -eq $((2 * (N - R))) ]" ||
	bed_die "not purged after the grace: $(both removed) still removed"
bed_log "purged after the grace"

# -- every process restarts: the registry is read back, nothing lost or redone -------------
stop_all 1
start_all
sleep 3
for n in x1 x2; do
	grep -q "registry_loaded .* zones=$((N - R)) " "$BED_T/$n.out" ||
		bed_die "$n read back: $(grep registry_loaded "$BED_T/$n.out")"
	# nothing is transferred again, not even the zones of a partition that moved at
	# the restart: each replica holds every zone (issue 14)
	! grep -q "xfr_done " "$BED_T/$n.out" || bed_die "$n transferred a zone it held: $(grep -m1 'xfr_done ' "$BED_T/$n.out")"
	! grep -q "zone_removed .*stored=yes" "$BED_T/$n.out" || bed_die "$n removed zones at restart"
done
grep -h "registry_loaded" "$BED_T/x1.out" "$BED_T/notifyd.out" >&2
held() { "$PLTOOL" zones "$BED_T/$1.lmdb" | awk '$3 == "fresh" || $3 == "following"' | wc -l; }
complete() { [ "$(held x1)" -eq $((N - R)) ] && [ "$(held x2)" -eq $((N - R)) ]; }
bed_wait_for 60 complete || bed_die "zones lost at restart: x1 $(held x1), x2 $(held x2) of $((N - R))"
r=$(rg_soa "$d1" z0.scale.test)$(rg_soa "$d2" z0.scale.test)
[[ "$r" == *"NOERROR 1"* ]] || bed_die "z0 not served after a restart: $r"
kdig @127.0.0.1 -p "$RG_ND_PORT" +timeout=2 +retry=1 -t NOTIFY z0.scale.test | grep -q 'status: NOERROR' ||
	bed_die "notifyd lost the registry at restart"
bed_log "registry at scale ok"
