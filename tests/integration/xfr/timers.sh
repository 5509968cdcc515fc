#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/xfr/timers.sh -- xfrd --standalone (no Kafka): every zone is
# transferred at start, then refreshed by its SOA timers (refresh clamped to 1-2 s
# here), retried after a failure, marked expired once its last success is older
# than the expire (3 s here), its DNS endpoint serves what it holds (SERVFAIL once
# expired), and SIGTERM stops it.
# Knot primary with TSIG; ports from 21400-21499.
set -euo pipefail
export ZX_BED_PORTS="21400 21499"
. "$ZX_SRC/tests/bed/primary.sh"
bed_init xfr_timers
xfrd=$ZX_BUILD/xfrd/xfrd
[ -x "$xfrd" ] || bed_skip "$xfrd not built"
command -v knotd >/dev/null || bed_skip "knotd missing"

zone=timers.test
secret=$(head -c 32 /dev/urandom | base64)
bed_ports 3 port dport hport
"$(bed_tool zonegen)" -z "$zone" -n 200 -s 3 -S 10 -o "$BED_T/zone.db"
primary_start knot p1 "$port" "$zone" "$BED_T/zone.db" "hmac-sha256:xfr-key:$secret"
cat >"$BED_T/zx.yaml" <<EOF2
keys: [ { name: xfr-key, algorithm: hmac-sha256, secret: "$secret" } ]
xfrd:
  store: $BED_T/store
  store-size: 64M
  listen: [ "127.0.0.1@$dport" ]
  http: "127.0.0.1:$hport"
  timeouts: { connect: 1s, read: 1s, transfer: 10s, soa: 1s }
  refresh: { min: 1s, max: 2s }
  retry: { min: 1s, max: 1s }
  expire: { min: 3s, max: 3s }
  jitter: 0%
zones:
  - { name: $zone, primaries: [ "127.0.0.1@$port" ], key: xfr-key }
EOF2
ZX_STORE_SYNC=none bed_spawn xfrd "$xfrd" -c "$BED_T/zx.yaml" --standalone
pid=$BED_PID
log=$BED_T/xfrd.out
bed_wait_for 10 grep -q 'event=xfr_done .*kind=axfr .*serial=10 ' "$log" || bed_die "no first AXFR"
bed_wait_for 10 grep -q 'event=xfr_uptodate' "$log" || bed_die "no refresh by timer"
primary_change p1 2 1 1
bed_wait_for 10 grep -q 'event=xfr_done .*kind=ixfr old_serial=10 serial=11 ' "$log" ||
	bed_die "the change was not picked up by the refresh timer"
serial=$(kdig +short @127.0.0.1 -p "$dport" "$zone" SOA | awk '{print $3}')
[ "$serial" = 11 ] || bed_die "the standalone DNS endpoint answers serial '$serial', want 11"
primary_stop p1
bed_wait_for 10 grep -q 'event=xfr_failed' "$log" || bed_die "no failed refresh once the primary is gone"
n1=$(grep -c 'event=xfr_failed' "$log")
bed_wait_for 10 bash -c "[ \$(grep -c 'event=xfr_failed' '$log') -gt $n1 ]" || bed_die "no retry after the failure"
bed_wait_for 10 grep -q 'event=zone_expired zone=timers.test. serial=11' "$log" ||
	bed_die "the zone did not expire 3 s after its last success"
"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" show "$zone" | grep -Eq '^state: *expired' ||
	bed_die "expired state not in the store"
rcode=$(kdig @127.0.0.1 -p "$dport" "$zone" SOA | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
[ "$rcode" = SERVFAIL ] || bed_die "an expired zone is answered with '$rcode', want SERVFAIL"
kill -HUP "$pid"
bed_wait_for 5 grep -q 'event=reload_unsupported' "$log" || bed_die "SIGHUP not acknowledged in the log"
kill -0 "$pid" || bed_die "xfrd died of SIGHUP"
kill -TERM "$pid"
bed_wait_for 5 bash -c "! kill -0 $pid 2>/dev/null" || bed_die "xfrd did not stop on SIGTERM"
bed_log "timers: $(grep -c 'event=xfr_' "$log") refresh outcomes logged, stopped on SIGTERM"
bed_log PASS
