#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End to end: a knotd primary NOTIFYs notifyd (TSIG), notifyd puts the request on
# Kafka, xfrd's consumer group transfers the zone (TSIG, IXFR), the change is in
# LMDB and the ZoneUpdated event is in Kafka; the request offsets are committed;
# xfrd's own DNS endpoint serves the new serial and an AXFR equal to the primary's.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
pl_init pl_e2e 4
ND_BIN=$ZX_BUILD/notifyd/notifyd
[ -x "$ND_BIN" ] || bed_die "$ND_BIN not built"
bed_ports 5 nport nhttp kport xhttp xdns
secret=$(head -c 32 /dev/urandom | base64)
cat >"$BED_T/zx.yaml" <<YAML
log: { level: info }
kafka:
  brokers: "$ZX_KAFKA_BOOTSTRAP"
  requests-topic: $PL_REQ
  updates-topic: $PL_UPD
  group: $PL_GROUP
  settings: { "session.timeout.ms": "6000", "heartbeat.interval.ms": "500" }
keys:
  - { name: e2e-key, algorithm: hmac-sha256, secret: "$secret" }
notifyd:
  instance: nd-e2e
  listen: [ "127.0.0.1@$nport" ]
  http: "127.0.0.1:$nhttp"
xfrd:
  replica: x-e2e
  store: $BED_T/x.lmdb
  store-size: 256M
  listen: [ "127.0.0.1@$xdns" ]
  http: "127.0.0.1:$xhttp"
zones:
  - { name: e2e.test, primaries: [ "127.0.0.1@$kport" ], key: e2e-key }
YAML
bed_spawn notifyd "$ND_BIN" -c "$BED_T/zx.yaml"
bed_wait_for 20 curl -fs "http://127.0.0.1:$nhttp/health" || bed_die "notifyd did not start"
pl_xfrd x "$BED_T/zx.yaml"
xpid=$BED_PID
bed_wait_for 30 curl -fs "http://127.0.0.1:$xhttp/ready" || bed_die "xfrd not ready"
"$(bed_tool zonegen)" -z e2e.test -n 200 -s 3 -S 2024010100 -o "$BED_T/zone.db"
PRIMARY_NOTIFY="127.0.0.1@$nport" primary_start knot knot "$kport" e2e.test "$BED_T/zone.db" \
	"hmac-sha256:e2e-key:$secret"
at()
{
	"$PLTOOL" zones "$BED_T/x.lmdb" 2>/dev/null | grep -q "^e2e.test. $1 fresh"
}
bed_wait_for 30 at 2024010100 || bed_die "zone not loaded: $(pl_store_serials x)"
t0=$(date +%s%N)
primary_change knot 1 0 1
bed_wait_for 30 at 2024010101 || bed_die "change not in LMDB: $(pl_store_serials x)"
bed_log "knotd change -> NOTIFY -> notifyd -> Kafka -> xfrd -> LMDB: $((($(date +%s%N) - t0) / 1000000)) ms (reload included)"
grep -q "request_read zone=e2e.test. .* origin=notify serial=2024010101" "$BED_T/x.out" ||
	bed_die "no NOTIFY request for the new serial read"
grep -q "xfr_done zone=e2e.test. kind=ixfr old_serial=2024010100 serial=2024010101" "$BED_T/x.out" ||
	bed_die "not an IXFR"
bed_wait_for 10 sh -c "'$ZXKAFKA' consume '$ZX_KAFKA_BOOTSTRAP' '$PL_UPD' --count 1000 --timeout 2 \
	--from-beginning --type update 2>/dev/null |
	grep -q 'zone=e2e.test. kind=UPDATE_KIND_COMMITTED method=METHOD_IXFR serial=2024010101 .*replica=x-e2e'" ||
	bed_die "no ZoneUpdated IXFR event for the new serial"
bed_wait_for 20 pl_committed_all || bed_die "offsets not committed"
soa=$(kdig +short @127.0.0.1 -p "$xdns" e2e.test SOA | awk '{print $3}')
[ "$soa" = 2024010101 ] || bed_die "xfrd's endpoint answers serial '$soa', want 2024010101"
ours=$(bed_axfr 127.0.0.1 "$xdns" e2e.test) || bed_die "no AXFR from xfrd's endpoint"
theirs=$(bed_axfr 127.0.0.1 "$kport" e2e.test "hmac-sha256:e2e-key:$secret")
[ -n "$ours" ] && [ "$ours" = "$theirs" ] || bed_die "xfrd's AXFR differs from the primary's"
bed_log "xfrd's endpoint: serial $soa, AXFR equal to the primary's ($(grep -c . <<<"$ours") RRs)"
kill -HUP "$xpid"
bed_wait_for 5 grep -q 'event=reloaded' "$BED_T/x.out" || bed_die "SIGHUP not acknowledged"
kill -0 "$xpid" || bed_die "xfrd died of SIGHUP"
bed_log "PASS"
