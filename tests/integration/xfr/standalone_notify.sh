#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/xfr/standalone_notify.sh -- xfrd --standalone NOTIFYs its
# downstream: a knotd secondary of xfrd's DNS endpoint (TSIG on the NOTIFY and the
# transfer) gets the zone and follows three changes the refresh timer picks up,
# without a manual refresh. Ports from 21500-21599.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/bed/primary.sh"
export ZX_BED_PORTS="21500 21599" ZX_STORE_SYNC=none
bed_init xfr_standalone_notify
xfrd=$ZX_BUILD/xfrd/xfrd
[ -x "$xfrd" ] || bed_skip "$xfrd not built"
command -v knotd >/dev/null || bed_skip "knotd missing"
bed_ports 3 kport xdns dport
zone=sa.test
psecret=$(head -c 32 /dev/urandom | base64)
dsecret=$(head -c 32 /dev/urandom | base64)
cat >"$BED_T/zx.yaml" <<YAML
keys:
  - { name: up-key, algorithm: hmac-sha256, secret: "$psecret" }
  - { name: ds-key, algorithm: hmac-sha256, secret: "$dsecret" }
xfrd:
  store: $BED_T/x.lmdb
  store-size: 256M
  listen: [ "127.0.0.1@$xdns" ]
  http: "127.0.0.1:$(bed_port)"
  refresh: { min: 1s, max: 1s }
  jitter: 0
zones:
  - { name: $zone, primaries: [ "127.0.0.1@$kport" ], key: up-key,
      serve: { keys: [ ds-key ] }, notify: [ "127.0.0.1@$dport" ], notify-key: ds-key }
YAML
kd=$BED_T/downstream
secondary_knot_conf "$kd" "$dport" "$zone" "127.0.0.1@$xdns" ds-key "$dsecret"
"$(bed_tool zonegen)" -z "$zone" -n 50 -s 5 -S 100 -o "$BED_T/zone.db"
primary_start knot up "$kport" "$zone" "$BED_T/zone.db" "hmac-sha256:up-key:$psecret"
bed_spawn downstream knotd -c "$kd/knot.conf"
bed_wait_for 20 knotc -s "$(knot_ctl "$kd")" status || bed_die "downstream knotd did not start"
bed_spawn x "$xfrd" -c "$BED_T/zx.yaml" --standalone
dsoa() { kdig @127.0.0.1 -p "$dport" +short +time=1 +retry=0 SOA "$zone" 2>/dev/null | awk '{print $3}'; }
ds_has() { [ "$(dsoa)" = "$1" ]; }
bed_wait_for 15 ds_has 100 || bed_die "downstream not at 100: $(tail -n 3 "$kd/knotd.log"); $(tail -n 5 "$BED_T/x.out")"
for s in 101 102 103; do
	primary_change up 1 0 1 >/dev/null 2>&1
	bed_wait_for 5 ds_has "$s" || bed_die "downstream not at $s: $(tail -n 3 "$kd/knotd.log")"
done
answered=$(grep -c 'event=notify_done .*outcome=answered' "$BED_T/x.out" || true)
[ "$answered" -ge 4 ] || bed_die "$answered NOTIFYs answered, want >= 4"
ixfrs=$(grep -c 'IXFR, incoming.*finished' "$kd/knotd.log" || true)
[ "$ixfrs" -ge 3 ] || bed_die "downstream logged $ixfrs incoming IXFRs, want >= 3"
bed_log "standalone: $answered NOTIFYs answered, downstream followed by $ixfrs IXFRs"
bed_log PASS
