#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real downstream follows xfrd by NOTIFY: a knotd primary NOTIFYs notifyd (TSIG),
# Kafka, xfrd's pipeline transfers (TSIG, IXFR) and, after each commit, NOTIFYs a
# second knotd (TSIG-signed with notify-key) configured as a SECONDARY of xfrd's DNS
# endpoint (transfers signed with the same key). No knotc zone-refresh anywhere:
# the secondary takes the zone first (AXFR) when xfrd's NOTIFY says it is there,
# then follows a chain of 10 changes on the primary by IXFR, each within a few
# seconds; its final AXFR equals the primary's. xfrd logs one notify_done line per
# NOTIFY (answered, first try) and counts them in /metrics.
# ZX_DOWNSTREAM_PORTS="LO HI" moves this test's ports out of the pipeline tests' range.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
pl_init pl_downstream 4
export ZX_BED_PORTS=${ZX_DOWNSTREAM_PORTS:-$ZX_BED_PORTS}
ND_BIN=$ZX_BUILD/notifyd/notifyd
[ -x "$ND_BIN" ] || bed_die "$ND_BIN not built"
for c in knotd knotc kdig; do
	command -v "$c" >/dev/null || bed_skip "$c not installed"
done
bed_ports 6 nport nhttp kport xhttp xdns dport
zone=ds.test
psecret=$(head -c 32 /dev/urandom | base64)  # primary <-> notifyd, xfrd
dsecret=$(head -c 32 /dev/urandom | base64)  # xfrd <-> the downstream secondary
cat >"$BED_T/zx.yaml" <<YAML
log: { level: info }
kafka:
  brokers: "$ZX_KAFKA_BOOTSTRAP"
  requests-topic: $PL_REQ
  updates-topic: $PL_UPD
  group: $PL_GROUP
  settings: { "session.timeout.ms": "6000", "heartbeat.interval.ms": "500" }
keys:
  - { name: up-key, algorithm: hmac-sha256, secret: "$psecret" }
  - { name: ds-key, algorithm: hmac-sha256, secret: "$dsecret" }
notifyd:
  instance: nd-ds
  listen: [ "127.0.0.1@$nport" ]
  http: "127.0.0.1:$nhttp"
xfrd:
  replica: x-ds
  store: $BED_T/x.lmdb
  store-size: 256M
  listen: [ "127.0.0.1@$xdns" ]
  http: "127.0.0.1:$xhttp"
zones:
  - name: $zone
    primaries: [ "127.0.0.1@$kport" ]
    key: up-key
    serve: { allow: [ "127.0.0.0/8" ], keys: [ ds-key ] }
    notify: [ "127.0.0.1@$dport" ]
    notify-key: ds-key
YAML

# The downstream: a knotd secondary of xfrd's endpoint; NOTIFY accepted only
# signed with ds-key; AXFR out to anyone on loopback (for the final comparison).
kd=$BED_T/downstream
secondary_knot_conf "$kd" "$dport" "$zone" "127.0.0.1@$xdns" ds-key "$dsecret"

bed_spawn notifyd "$ND_BIN" -c "$BED_T/zx.yaml"
bed_wait_for 20 curl -fs "http://127.0.0.1:$nhttp/health" || bed_die "notifyd did not start"
pl_xfrd x "$BED_T/zx.yaml"
bed_wait_for 30 curl -fs "http://127.0.0.1:$xhttp/ready" || bed_die "xfrd not ready"
# The secondary starts first: xfrd does not hold the zone yet, so its bootstrap
# fails; xfrd's NOTIFY after the first commit is what brings the zone.
bed_spawn downstream knotd -c "$kd/knot.conf"
bed_wait_for 20 knotc -s "$(knot_ctl "$kd")" status || bed_die "downstream knotd did not start"
"$(bed_tool zonegen)" -z "$zone" -n 200 -s 5 -S 2025010100 -o "$BED_T/zone.db"
PRIMARY_NOTIFY="127.0.0.1@$nport" primary_start knot up "$kport" "$zone" "$BED_T/zone.db" \
	"hmac-sha256:up-key:$psecret"

dsoa() { kdig @127.0.0.1 -p "$dport" +short +time=1 +retry=0 SOA "$zone" 2>/dev/null | awk '{print $3}'; }
ds_has() { [ "$(dsoa)" = "$1" ]; }
bed_wait_for 30 ds_has 2025010100 ||
	bed_die "downstream did not take the zone: $(tail -5 "$kd/knotd.log"); $(grep notify_ "$BED_T/x.out" | tail -3)"
grep -q "notify_done zone=$zone. serial=2025010100 target=127.0.0.1@$dport .*outcome=answered" \
	"$BED_T/x.out" || bed_die "no answered NOTIFY for the first serial: $(grep notify_ "$BED_T/x.out")"
bed_log "downstream holds $zone 2025010100 after xfrd's NOTIFY"

worst=0
for i in $(seq 1 10); do
	serial=$((2025010100 + i))
	primary_change up 1 0 1 >/dev/null 2>&1
	t0=$(date +%s%N)
	bed_wait_for 5 ds_has "$serial" ||
		bed_die "downstream not at $serial within 5 s: $(dsoa); $(tail -3 "$kd/knotd.log"); $(grep -E 'notify_|xfr_done' "$BED_T/x.out" | tail -3)"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -gt "$worst" ] && worst=$ms
done
bed_log "downstream followed 10 changes; slowest primary-serves -> downstream-serves: $worst ms"

ixfrs=$(grep -c "IXFR, incoming, remote 127.0.0.1@$xdns.*finished" "$kd/knotd.log" || true)
axfrs=$(grep -c "AXFR, incoming, remote 127.0.0.1@$xdns.*finished" "$kd/knotd.log" || true)
[ "$ixfrs" -ge 10 ] || bed_die "downstream logged $ixfrs IXFRs, want 10: $(grep -i xfr "$kd/knotd.log" | tail -5)"
[ "$axfrs" = 1 ] || bed_die "downstream logged $axfrs AXFRs, want only the first: $(grep AXFR "$kd/knotd.log" | tail -5)"
if grep -q "fallback to AXFR" "$kd/knotd.log"; then
	bed_die "downstream fell back to AXFR: $(grep -B2 'fallback to AXFR' "$kd/knotd.log" | head -6)"
fi
notifies=$(grep -c "notify, incoming" "$kd/knotd.log" || true)
[ "$notifies" -ge 11 ] || bed_die "downstream logged $notifies NOTIFYs, want 11"
answered=$(grep -c "notify_done zone=$zone\. .*target=127.0.0.1@$dport .*outcome=answered" "$BED_T/x.out" || true)
[ "$answered" -ge 11 ] || bed_die "xfrd logged $answered answered NOTIFYs, want >= 11"
if grep "notify_done" "$BED_T/x.out" | grep -qv "outcome=answered"; then
	bed_die "a NOTIFY did not end answered: $(grep notify_done "$BED_T/x.out" | grep -v outcome=answered | head -3)"
fi
metrics=$(curl -fs "http://127.0.0.1:$xhttp/metrics")
m_ans=$(awk -v t="xfrd_notify_answered_total{target=\"127.0.0.1@$dport\"}" '$1 == t {print $2}' <<<"$metrics")
m_fail=$(awk -v t="xfrd_notify_failed_total{target=\"127.0.0.1@$dport\"}" '$1 == t {print $2}' <<<"$metrics")
[ "${m_ans:-0}" -ge 11 ] && [ "${m_fail:-x}" = 0 ] ||
	bed_die "metrics: answered=$m_ans failed=$m_fail: $(grep xfrd_notify <<<"$metrics")"
bed_log "xfrd: $answered NOTIFYs answered (TSIG-signed, reply verified), metrics answered=$m_ans failed=$m_fail; downstream: $notifies NOTIFYs, $axfrs AXFR, $ixfrs IXFRs"

theirs=$(primary_axfr up) || bed_die "no AXFR from the primary"
ours=$(bed_axfr 127.0.0.1 "$dport" "$zone") || bed_die "no AXFR from the downstream"
[ -n "$ours" ] && [ "$ours" = "$theirs" ] || {
	diff <(echo "$theirs") <(echo "$ours") | head -10 >&2
	bed_die "the downstream's AXFR differs from the primary's"
}
bed_log "downstream AXFR equals the primary's ($(grep -c . <<<"$ours") RRs, serial $(dsoa))"

# A restarted xfrd re-announces the serial it holds on its first look at the zone
# (here an operator's refresh): the downstream is NOTIFYd again, as it would be
# after a crash between a commit and its NOTIFY, and finds itself up to date.
bed_stop_pid "$(cat "$BED_T/x.pid")" x
mv "$BED_T/x.out" "$BED_T/x.1.out"
pl_xfrd x "$BED_T/zx.yaml"
bed_wait_for 30 curl -fs "http://127.0.0.1:$xhttp/ready" || bed_die "xfrd not ready after restart"
"$ZX_BUILD/xfrd/xfrctl" -c "$BED_T/zx.yaml" refresh "$zone" >/dev/null || bed_die "xfrctl refresh"
bed_wait_for 20 grep -q "notify_done zone=$zone. serial=2025010110 target=127.0.0.1@$dport .*outcome=answered" \
	"$BED_T/x.out" || bed_die "no NOTIFY after the restart: $(grep -E 'notify_|xfr_done' "$BED_T/x.out" | tail -3)"
bed_wait_for 5 sh -c "grep -c 'notify, incoming' '$kd/knotd.log' | grep -qx $((notifies + 1))" ||
	bed_die "the downstream did not get the NOTIFY after the restart"
grep -q "IXFR, incoming\|AXFR, incoming" <(tail -n +"$(grep -n 'serial 2025010110' "$kd/knotd.log" | tail -1 | cut -d: -f1)" "$kd/knotd.log" | sed 1d) &&
	bed_die "the downstream transferred again although up to date"
bed_log "after an xfrd restart: the held serial re-announced, the downstream NOTIFYd and up to date"
bed_log "PASS"
