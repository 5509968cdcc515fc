#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/serve/readers.sh -- no number of AXFR clients starves xfrd's
# transfers (issue 11 item 1). xfrd --standalone holds a 100k-record zone from a real
# knotd primary; 140 clients from one allowed address AXFR it and read 2 KB/s.
#   1. transfers capped high (150): all 140 are served at once, yet the store's
#      reader table shows only a few snapshots (a transfer whose client stalls lets
#      go of its own), and meanwhile a change on the primary is transferred, SOA
#      queries over UDP and TCP are answered, and xfrctl reads the store;
#   2. the default caps: 16 of 140 clients of one address are served and 124 get
#      REFUSED at once; spread over 140 addresses, 64 are served.
# Before (126 LMDB reader slots, no caps, one snapshot per AXFR to its end) the
# 140 clients took every slot: the refresh failed "limit reached why=store read",
# SOA answers failed and xfrctl could not open the store.
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-24000 24399}
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/bed/primary.sh"
bed_init serve_readers
export ZX_STORE_SYNC=none
xfrd=$ZX_BUILD/xfrd/xfrd
xfrctl=$ZX_BUILD/xfrd/xfrctl
[ -x "$xfrd" ] && [ -x "$xfrctl" ] || bed_skip "xfrd not built"
for c in knotd kdig mdb_stat python3; do
	command -v "$c" >/dev/null || bed_skip "$c missing"
done
slow=$ZX_SRC/tests/integration/serve/slowaxfr.py
zone=big.test
bed_ports 2 kport xport
"$(bed_tool zonegen)" -z "$zone" -n 100000 -s 11 -S 1 -o "$BED_T/zone.db"
primary_start knot up "$kport" "$zone" "$BED_T/zone.db"
key=$(primary_key up) # alg:name:secret
_primary_split "$key"

# config SERVE_YAML: the xfrd config with that serve section
config()
{
	cat >"$BED_T/zx.yaml" <<YAML
keys:
  - { name: $k_name, algorithm: $k_alg, secret: "$k_secret" }
xfrd:
  store: $BED_T/x.lmdb
  store-size: 1G
  listen: [ "127.0.0.1@$xport" ]
  http: "127.0.0.1:$(bed_port)"
  refresh: { min: 1s, max: 1s }
  jitter: 0
  serve: $1
zones:
  - { name: $zone, primaries: [ "127.0.0.1@$kport" ], key: $k_name }
YAML
}
soa() { kdig @127.0.0.1 -p "$xport" "$@" +short +time=2 +retry=0 SOA "$zone" 2>/dev/null | awk '{print $3}'; }
has_serial() { [ "$(soa +notcp)" = "$1" ]; }
# active readers of the store: reader table lines with a transaction id
readers() { { mdb_stat -r "$BED_T/x.lmdb" || true; } | awk '$3 ~ /^[0-9]+$/ { n++ } END { print n + 0 }'; }
start_xfrd()
{
	bed_spawn xfrd "$xfrd" -c "$BED_T/zx.yaml" --standalone
	XPID=$BED_PID
	bed_wait_for 60 has_serial "$1" || bed_die "xfrd does not serve $zone serial $1: $(tail -n 5 "$BED_T/xfrd.out")"
}
stop_xfrd()
{
	bed_stop_pid "$XPID" xfrd
	bed_untrack "$XPID"
}

# 1. 140 slow clients, all served.
config '{ allow: [ "127.0.0.0/8" ], transfers: 150, transfers-per-source: 150 }'
start_xfrd 1
python3 "$slow" 127.0.0.1 "$xport" "$zone" 140 2048 25 --status "$BED_T/slow.status" >"$BED_T/slow.out" &
sp=$!
bed_track "$sp" slowaxfr
served() { grep -q 'answered=140 noerror=140' "$BED_T/slow.status" 2>/dev/null; }
bed_wait_for 20 served || bed_die "140 slow AXFRs not all started: $(cat "$BED_T/slow.status" 2>/dev/null)"
# Each transfer fills its socket and output buffers, then stalls: after snapshot-hold
# (1 s) it lets go of its snapshot.
few_readers() { [ "$(readers)" -le 8 ]; }
bed_wait_for 20 few_readers || bed_die "$(readers) store snapshots held with 140 stalled transfers"
bed_log "140 slow AXFRs in progress: $(cat "$BED_T/slow.status"); store snapshots held: $(readers)"
primary_change up 10 0 10 >/dev/null 2>&1
bed_wait_for 20 has_serial 2 || bed_die "the primary's change did not reach xfrd: $(grep -E 'error|fail' "$BED_T/xfrd.out" | tail -n 3)"
[ "$(soa +tcp)" = 2 ] || bed_die "no SOA over TCP during the slow transfers"
"$xfrctl" -c "$BED_T/zx.yaml" zones >"$BED_T/zones.out" 2>&1 || bed_die "xfrctl failed: $(cat "$BED_T/zones.out")"
grep -q "$zone.* 2 " "$BED_T/zones.out" || bed_die "xfrctl does not show serial 2: $(cat "$BED_T/zones.out")"
! grep -q 'limit reached' "$BED_T/xfrd.out" || bed_die "xfrd ran out of something: $(grep 'limit reached' "$BED_T/xfrd.out" | head -2)"
bed_log "meanwhile: serial 2 transferred, SOA over UDP and TCP, xfrctl zones"
wait "$sp" || true
bed_untrack "$sp"
stop_xfrd

# 2. The default caps: per source, then overall.
config '{ allow: [ "127.0.0.0/8" ] }'
start_xfrd 2
got=$(python3 "$slow" 127.0.0.1 "$xport" "$zone" 140 2048 4)
bed_log "one address: $got"
[[ "$got" == *"answered=140 noerror=16 refused=124"* ]] || bed_die "one address, default caps: $got"
# the 16 are gone once xfrd writes to their closed connections
aborted() { [ "$(grep -c 'event=serve_xfr .*outcome=aborted' "$BED_T/xfrd.out")" -ge 16 ]; }
bed_wait_for 15 aborted || bed_die "the closed transfers were not ended"
got=$(python3 "$slow" 127.0.0.1 "$xport" "$zone" 140 2048 4 --spread 140)
bed_log "140 addresses: $got"
[[ "$got" == *"answered=140 noerror=64 refused=76"* ]] || bed_die "140 addresses, default caps: $got"
grep -q 'event=serve_denied .*reason=busy_source' "$BED_T/xfrd.out" || bed_die "busy_source not logged"
grep -q 'event=serve_denied .*reason=busy ' "$BED_T/xfrd.out" || bed_die "busy not logged"
has_serial 2 || bed_die "SOA not answered after the refusals"
stop_xfrd
bed_log PASS
