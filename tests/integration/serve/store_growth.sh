#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/serve/store_growth.sh -- a slow AXFR reader does not make the
# store grow (issue 11 item 1). xfrd --standalone holds a 100k-record zone from a
# knotd primary that keeps no diffs (so every change comes as a full zone, a new
# version in the store); a client AXFRs it at 12 KB/s while the zone changes six
# times. The store grows by about two zone versions at most (the one the reader is
# on, pinned, and the one being written), not by one per retransfer: no more after
# the third retransfer than after the sixth. The slow transfer goes on undisturbed
# from its version.
# Before, the reader's snapshot (held to its last record) kept every page freed
# meanwhile from reuse: 173 -> 351 MB over six retransfers in outside testing.
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-24000 24399}
. "$ZX_SRC/tests/bed/lib.sh"
bed_init serve_store_growth
export ZX_STORE_SYNC=none
xfrd=$ZX_BUILD/xfrd/xfrd
[ -x "$xfrd" ] || bed_skip "xfrd not built"
for c in knotd knotc kdig mdb_stat python3; do
	command -v "$c" >/dev/null || bed_skip "$c missing"
done
slow=$ZX_SRC/tests/integration/serve/slowaxfr.py
zone=big.test
bed_ports 2 kport xport
kd=$BED_T/knot
mkdir -p "$kd/db"
"$(bed_tool zonegen)" -z "$zone" -n 100000 -s 13 -S 1 -o "$kd/zone.db"
cat >"$kd/knot.conf" <<KNOT
server:
    rundir: "$kd"
    listen: 127.0.0.1@$kport
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$(bed_sock knot.sock)"
database:
    storage: "$kd/db"
log:
  - target: "$kd/knotd.log"
    any: info
acl:
  - id: xfr
    address: [ 127.0.0.0/8 ]
    action: transfer
template:
  - id: default
    storage: "$kd"
    zonefile-load: whole
    journal-content: none
    zonefile-sync: -1
    semantic-checks: off
    acl: xfr
zone:
  - domain: $zone
    file: "$kd/zone.db"
KNOT
bed_spawn knotd knotd -c "$kd/knot.conf"
ksoa() { kdig @127.0.0.1 -p "$kport" +short +time=1 +retry=0 SOA "$zone" 2>/dev/null | awk '{print $3}'; }
kserves() { [ "$(ksoa)" = "$1" ]; }
bed_wait_for 30 kserves 1 || bed_die "knotd does not serve $zone"

cat >"$BED_T/zx.yaml" <<YAML
xfrd:
  store: $BED_T/x.lmdb
  store-size: 1G
  listen: [ "127.0.0.1@$xport" ]
  http: "127.0.0.1:$(bed_port)"
  refresh: { min: 1s, max: 1s }
  jitter: 0
zones:
  - { name: $zone, primaries: [ "127.0.0.1@$kport" ] }
YAML
xsoa() { kdig @127.0.0.1 -p "$xport" +short +time=1 +retry=0 SOA "$zone" 2>/dev/null | awk '{print $3}'; }
xhas() { [ "$(xsoa)" = "$1" ]; }
pages() { { mdb_stat -e "$BED_T/x.lmdb" || true; } | awk '/Number of pages used/ { print $5 }'; }
bed_spawn xfrd "$xfrd" -c "$BED_T/zx.yaml" --standalone
bed_wait_for 60 xhas 1 || bed_die "xfrd does not serve $zone: $(tail -n 3 "$BED_T/xfrd.out")"
sleep 1
p0=$(pages)

python3 "$slow" 127.0.0.1 "$xport" "$zone" 1 12000 600 --status "$BED_T/slow.status" >"$BED_T/slow.out" &
sp=$!
bed_track "$sp" slowaxfr
bed_wait_for 10 grep -q 'noerror=1' "$BED_T/slow.status" || bed_die "the slow AXFR did not start"
sleep 3 # it stalls and lets go of its snapshot

for s in 2 3 4 5 6 7; do
	awk -v s="$s" '$4 == "SOA" && !done { $7 = s; done = 1 } { print }' "$kd/zone.db" >"$kd/zone.new"
	echo "changed-$s.$zone. 3600 IN TXT \"serial $s\"" >>"$kd/zone.new"
	mv "$kd/zone.new" "$kd/zone.db"
	touch -d "@$(($(date +%s) + s))" "$kd/zone.db"
	knotc -s "$(bed_sock knot.sock)" zone-reload "$zone" >/dev/null || bed_die "knotc zone-reload failed"
	bed_wait_for 30 kserves "$s" || bed_die "knotd does not serve serial $s"
	bed_wait_for 30 xhas "$s" || bed_die "xfrd did not get serial $s: $(tail -n 3 "$BED_T/xfrd.out")"
	[ "$s" = 4 ] && sleep 2 && p3=$(pages) # after three retransfers
done
axfrs=$(grep -c 'event=xfr_done .*kind=axfr' "$BED_T/xfrd.out" || true)
[ "$axfrs" -ge 7 ] || bed_die "$axfrs full transfers, want 7 (the primary keeps no diffs)"
sleep 2 # the gc deletes the last replaced version
p6=$(pages)
status=$(cat "$BED_T/slow.status")
bed_log "store pages: $p0 with the zone, $p3 after three retransfers, $p6 after six, under a 12 KB/s reader ($status)"
[[ "$status" == *"noerror=1 refused=0 closed=0"* ]] || bed_die "the slow transfer did not go on: $status"
# Bounded: the reader's pinned version, the zone, the one being written; and no
# more after three further retransfers (before: about one zone per retransfer).
[ "$p6" -le $((p0 * 4)) ] || bed_die "the store grew from $p0 to $p6 pages (more than 4x the zone)"
[ $((p6 - p3)) -le $((p0 / 2)) ] || bed_die "the store kept growing: $p3 -> $p6 pages over three retransfers"
! grep -q 'event=serve_xfr .*outcome=failed' "$BED_T/xfrd.out" || bed_die "a transfer failed"
kill "$sp" 2>/dev/null || true
bed_log PASS
