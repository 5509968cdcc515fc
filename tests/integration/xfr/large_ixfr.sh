#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/xfr/large_ixfr.sh -- an IXFR whose diff passes 1 MiB in a running
# xfrd, then a small one in the same process.
#
# A diff past 1 MiB opens the store's write transaction while the IXFR is still being
# read, on the worker's thread; LMDB ties the transaction to that thread, so its
# commit must not move to the commit threads (xfrd/xfr/commitq.h, zdb_ixfr_holds_lock()).
# Were it moved, LMDB's writer lock would be released from the wrong thread and the
# next commit would hang or fail: the small IXFR after the big one checks that. Both
# stored zones are compared with knotd's own AXFR. Ports from 22000-22099.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/bed/primary.sh"
export ZX_BED_PORTS="22000 22099" ZX_STORE_SYNC=none
bed_init xfr_large_ixfr
xfrd=$ZX_BUILD/xfrd/xfrd
xfrctl=$ZX_BUILD/xfrd/xfrctl
[ -x "$xfrd" ] || bed_skip "$xfrd not built"
command -v knotd >/dev/null || bed_skip "knotd missing"
command -v ldns-read-zone >/dev/null || bed_skip "ldns-read-zone (ldnsutils) missing"
bed_ports 3 kport xport hport
zone=large.test
secret=$(head -c 32 /dev/urandom | base64)
# 60,000 records, about 22,000 of them A: changing them all is well over 1 MiB of diff
"$(bed_tool zonegen)" -z "$zone" -n 60000 -s 11 -S 100 -o "$BED_T/zone.db"
primary_start knot p1 "$kport" "$zone" "$BED_T/zone.db" "hmac-sha256:xfr-key:$secret"
cat >"$BED_T/zx.yaml" <<YAML
keys: [ { name: xfr-key, algorithm: hmac-sha256, secret: "$secret" } ]
xfrd:
  store: $BED_T/store
  store-size: 1G
  listen: [ "127.0.0.1@$xport" ]
  http: "127.0.0.1:$hport"
  refresh: { min: 1s, max: 1s }
  jitter: 0
zones: [ { name: $zone, primaries: [ "127.0.0.1@$kport" ], key: xfr-key } ]
YAML
bed_spawn x "$xfrd" -c "$BED_T/zx.yaml" --standalone
done_at() { grep -Eq "event=xfr_done .*kind=$1 .* serial=$2 " "$BED_T/x.out"; }
same()
{
	"$xfrctl" --store "$BED_T/store" dump "$zone" >"$BED_T/$1.dump" || bed_die "$1: xfrctl dump failed"
	bed_zone_canon "$BED_T/$1.dump" >"$BED_T/$1.ours"
	primary_axfr p1 >"$BED_T/$1.theirs"
	bed_zone_compare "$BED_T/$1.theirs" "$BED_T/$1.ours" || bed_die "$1: stored zone differs"
}
bed_wait_for 30 done_at axfr 100 || bed_die "no first AXFR: $(tail -n 3 "$BED_T/x.out")"

primary_change p1 0 0 60000 >/dev/null 2>&1
bed_wait_for 30 done_at ixfr 101 || bed_die "no large IXFR: $(tail -n 3 "$BED_T/x.out")"
same large
added=$(sed -n 's/.*event=xfr_done .* serial=101 .*added=\([0-9]*\) .*/\1/p' "$BED_T/x.out")
[ "${added:-0}" -ge 20000 ] || bed_die "the diff was not large: added=${added:-?}"

primary_change p1 1 0 1 >/dev/null 2>&1
bed_wait_for 30 done_at ixfr 102 || bed_die "no IXFR after the large one (store lock?): $(tail -n 3 "$BED_T/x.out")"
same small
bed_log "large IXFR ($added records changed) then a small one in the same xfrd: both stored, equal to knotd's"
bed_log PASS
