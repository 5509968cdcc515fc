#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/notifyd/knot.sh -- a knotd primary notifies notifyd (TSIG-signed,
# Knot 3.2 sends its NOTIFYs over TCP): at start-up and after a change + reload, an
# event with the new serial lands in Kafka, and knotd logs the NOTIFY as answered.
set -euo pipefail
. "$ZX_SRC/tests/integration/notifyd/lib.sh"
. "$ZX_SRC/tests/bed/primary.sh"
nd_setup nd_knot
command -v knotd >/dev/null || bed_skip "knotd missing"

secret=$(head -c 32 /dev/urandom | base64)
nd_config "$BED_T/zx.yaml" <<YAML
kafka: { brokers: "@KAFKA@", requests-topic: "@TOPIC@", delivery-timeout: 5s }
keys:
  - { name: nk, algorithm: hmac-sha256, secret: "$secret" }
notifyd:
  instance: nd-knot
  listen: [ "127.0.0.1@@PORT@" ]
  http: "127.0.0.1:@HTTP@"
zone-defaults: { primaries: [ "127.0.0.1@53" ], notify-from: [ "127.0.0.0/8" ] }
zones:
  - { name: knot.test, key: nk }
YAML
nd_start "$BED_T/zx.yaml"

"$(bed_tool zonegen)" -z knot.test -n 20 -s 7 -S 2024010100 -o "$BED_T/zone.db"
bed_ports 1 kport
PRIMARY_NOTIFY="127.0.0.1@$ND_PORT" primary_start knot knot "$kport" knot.test "$BED_T/zone.db" \
	"hmac-sha256:nk:$secret"

# Knot notifies at start-up.
bed_wait_for 20 test "$(nd_metric notifyd_answered_total)" -ge 1 ||
	bed_die "no NOTIFY from knotd answered at start-up"
primary_change knot 1 0 0
bed_wait_for 20 test "$(nd_metric notifyd_answered_total)" -ge 2 ||
	bed_die "no NOTIFY from knotd answered after the change"

events=$(nd_events 2)
echo "$events" >&2
grep -q 'key=knot.test. .*serial=2024010100 .*transport=TRANSPORT_TCP key=nk\.' <<<"$events" ||
	bed_die "start-up event missing or not TCP/signed"
grep -q 'key=knot.test. .*serial=2024010101 ' <<<"$events" || bed_die "event for the new serial missing"

# knotd saw the answers (no "failed" NOTIFY, no TSIG complaint).
log=$(_primary_dir knot)/knotd.log
grep -i 'notify' "$log" >&2 || true
grep -qi "notify.*serial 2024010101" "$log" || bed_die "knotd did not log the NOTIFY"
grep -i 'notify' "$log" | grep -qiE 'failed|error|tsig' && bed_die "knotd reports a failed NOTIFY"
bed_log "PASS"
