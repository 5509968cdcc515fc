#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/pipeline/kafka_errors.sh -- a broker that is down is said once:
# xfrd (its consumer and its producer) and notifyd pointed at a port where nothing
# listens log each librdkafka error once (kafka_error client= error= reason=), not at
# every reconnect and not twice (librdkafka's own FAIL/ERROR lines beside the error
# callback's); /ready says why meanwhile. No broker is needed.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
bed_init kafka_errors
bed_ports 4 DEAD XHTTP NPORT NHTTP
cat >"$BED_T/zx.yaml" <<YAML
log: { level: info }
kafka: { brokers: "127.0.0.1:$DEAD", requests-topic: ke.req, updates-topic: ke.upd, group: ke }
notifyd:
  listen: [ "127.0.0.1@$NPORT" ]
  http: "127.0.0.1:$NHTTP"
xfrd:
  replica: ke
  store: $BED_T/ke.lmdb
  store-size: 64M
  listen: []
  http: "127.0.0.1:$XHTTP"
zones:
  - { name: ke.test, primaries: [ "127.0.0.1@53" ] }
YAML
bed_spawn xfrd "$ZX_BUILD/xfrd/xfrd" -c "$BED_T/zx.yaml" --pipeline
bed_spawn notifyd "$ZX_BUILD/notifyd/notifyd" -c "$BED_T/zx.yaml"
bed_wait_for 20 grep -q 'event=kafka_error client=consumer' "$BED_T/xfrd.out" || bed_die "xfrd: no kafka_error"
bed_wait_for 20 grep -q 'event=kafka_error client=producer' "$BED_T/notifyd.out" || bed_die "notifyd: no kafka_error"
sleep 12 # librdkafka reconnects every 0.1 .. 10 s: a dozen attempts or so
for d in xfrd notifyd; do
	dup=$(grep 'event=kafka_error' "$BED_T/$d.out" | sed 's/.*event=kafka_error //' | sort | uniq -d)
	[ -z "$dup" ] || bed_die "$d logged an error twice: $dup"
	! grep -Eq 'event=rdkafka .*facility=(FAIL|ERROR) ' "$BED_T/$d.out" ||
		bed_die "$d: librdkafka's own line beside the callback's: $(grep -E 'facility=(FAIL|ERROR)' "$BED_T/$d.out" | head -2)"
	bed_log "$d: $(grep -c 'event=kafka_error' "$BED_T/$d.out") kafka_error lines"
done
grep -q "event=kafka_error client=consumer error=_TRANSPORT reason=\"127.0.0.1:$DEAD/bootstrap: Connect to ipv4#127.0.0.1:$DEAD failed: Connection refused\"" \
	"$BED_T/xfrd.out" || bed_die "xfrd: the connect failure: $(grep kafka_error "$BED_T/xfrd.out")"
bed_log "ok"
