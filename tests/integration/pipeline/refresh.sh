#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SOA timers through Kafka: a zone from config starts at once; the primary
# changes with no NOTIFY and the zone follows within its (short) SOA refresh;
# the primary goes away and the zone, retried every SOA retry, expires after its
# SOA expire: marked expired in the store and announced by a ZoneUpdated EXPIRED;
# the primary comes back and the zone is fresh again.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
pl_init pl_refresh 2
bed_ports 2 kport hport
PL_KNOT_TIMERS="2 1 6"   # SOA refresh 2 s, retry 1 s, expire 6 s
pl_knot "$kport" t.test
pl_config "$BED_T/x.yaml" x0 "$hport" "$kport" "$(printf '%s\n' \
	'  refresh: { min: 1s, max: 1h }' '  retry: { min: 1s, max: 1h }' \
	'  expire: { min: 1s, max: 1w }' '  jitter: 10%')" -- t.test
pl_xfrd x0 "$BED_T/x.yaml"
at()
{
	"$PLTOOL" zones "$BED_T/x0.lmdb" 2>/dev/null | grep -q "^t.test. $1 $2\$"
}
bed_wait_for 20 at 1 fresh || bed_die "not loaded at start: $(pl_store_serials x0)"
pl_bump t.test
t0=$SECONDS
bed_wait_for 10 at 2 fresh || bed_die "no refresh without NOTIFY: $(pl_store_serials x0)"
bed_log "followed the primary without NOTIFY in $((SECONDS - t0)) s (SOA refresh 2 s)"
grep -q "request_read zone=t.test. partition=[0-9]* offset=[0-9]* origin=refresh" "$BED_T/x0.out" ||
	bed_die "no REFRESH request read back from Kafka"
kill -KILL "$PL_KNOT_PID"
bed_untrack "$PL_KNOT_PID"
t0=$SECONDS
bed_wait_for 20 at 2 expired || bed_die "not expired: $(pl_store_serials x0)"
bed_log "expired $((SECONDS - t0)) s after the primary went away (SOA expire 6 s)"
bed_wait_for 10 sh -c "'$ZXKAFKA' consume '$ZX_KAFKA_BOOTSTRAP' '$PL_UPD' --count 1000 --timeout 2 \
	--from-beginning --type update 2>/dev/null | grep -q 'zone=t.test. kind=UPDATE_KIND_EXPIRED'" ||
	bed_die "no ZoneUpdated EXPIRED"
n=$(grep -c "event=zone_expired zone=t.test." "$BED_T/x0.out")
sleep 3
[ "$(grep -c "event=zone_expired zone=t.test." "$BED_T/x0.out")" = "$n" ] ||
	bed_die "expiry announced again while nothing changed"
bed_spawn knotd2 knotd -c "$PL_KNOT_DIR/knot.conf"
bed_wait_for 20 at 2 fresh || bed_die "not fresh again after the primary came back"
curl -fsS "http://127.0.0.1:$hport/health" >/dev/null || bed_die "/health"
bed_log "PASS"
