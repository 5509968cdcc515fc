#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/xfr/primaries.sh KIND -- xfrd's engine against a real primary
# (knot, bind or nsd from the bed), TSIG hmac-sha256 on everything:
#   1. first AXFR into an empty store
#   2. IXFR of one change
#   3. IXFR of several change sets at once
#   4. a primary that cannot serve the IXFR (restarted without its journal) -> AXFR
#   5. the first primary down, the second up: the second is used and recorded
#   6. a wrong key: the failure is recorded, the zone kept
# After each success `xfrctl dump` of the stored zone equals the primary's own AXFR
# (canonical sorted record sets). Ports from 21500-21999.
set -euo pipefail
kind=${1:?usage: primaries.sh knot|bind|nsd}
export ZX_BED_PORTS="21500 21999"
. "$ZX_SRC/tests/bed/primary.sh"
bed_init "xfr_$kind"

xfrd=$ZX_BUILD/xfrd/xfrd
xfrctl=$ZX_BUILD/xfrd/xfrctl
for b in "$xfrd" "$xfrctl"; do
	[ -x "$b" ] || bed_skip "$b not built"
done
command -v ldns-read-zone >/dev/null || bed_skip "ldns-read-zone (ldnsutils) missing"
case "$kind" in
knot) command -v knotd >/dev/null || bed_skip "knotd missing" ;;
bind) command -v named >/dev/null || [ -x /usr/sbin/named ] || bed_skip "named missing" ;;
nsd) command -v nsd >/dev/null || bed_skip "nsd missing" ;;
esac

zone=xfr-$kind.test
secret=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$secret"
bed_ports 2 port dead_port
"$(bed_tool zonegen)" -z "$zone" -n 2000 -s 7 -S 100 -o "$BED_T/zone.db"
primary_start "$kind" p1 "$port" "$zone" "$BED_T/zone.db" "$key"
export ZX_STORE_SYNC=none

# conf NAME PRIMARIES SECRET: an xfrd config for the zone.
conf()
{
	cat >"$BED_T/$1.yaml" <<EOF
keys:
  - { name: xfr-key, algorithm: hmac-sha256, secret: "$3" }
xfrd:
  store: $BED_T/store
  store-size: 256M
  transfers: { max: 4, per-primary: 2 }
  timeouts: { connect: 1s, read: 3s, transfer: 60s, soa: 1s }
zones:
  - { name: $zone, primaries: [ $2 ], key: xfr-key }
EOF
}
conf good "\"127.0.0.1@$port\"" "$secret"
conf two "\"127.0.0.1@$dead_port\", \"127.0.0.1@$port\"" "$secret"
conf wrong "\"127.0.0.1@$port\"" "$(head -c 32 /dev/urandom | base64)"

# run CONF [ARGS]: one pass of xfrd; its log kept in $BED_T/xfrd.log, last line in $last.
run()
{
	local cfg=$1 rc=0
	shift
	"$xfrd" -c "$BED_T/$cfg.yaml" --once "$@" >"$BED_T/run.log" 2>&1 || rc=$?
	cat "$BED_T/run.log" >>"$BED_T/xfrd.log"
	last=$(grep -E 'event=xfr_(done|uptodate|failed)' "$BED_T/run.log" | tail -1 || true)
	return $rc
}

# same STEP: the stored zone equals the primary's AXFR.
same()
{
	"$xfrctl" --store "$BED_T/store" dump "$zone" >"$BED_T/$1.dump" || bed_die "$1: xfrctl dump failed"
	bed_zone_canon "$BED_T/$1.dump" >"$BED_T/$1.ours"
	primary_axfr p1 >"$BED_T/$1.theirs"
	bed_zone_compare "$BED_T/$1.theirs" "$BED_T/$1.ours" || bed_die "$1: stored zone differs from the primary's AXFR"
	bed_log "$kind $1: $(wc -l <"$BED_T/$1.ours") RRs equal; $last"
}

expect() # expect STEP PATTERN: the last outcome line matches
{
	echo "$last" | grep -Eq "$2" || bed_die "$1: expected /$2/, got: $last"
}

run good || bed_die "first AXFR failed: $last"
expect axfr 'event=xfr_done .*kind=axfr old_serial=0 serial=100 '
same axfr

primary_change p1 3 2 4
run good || bed_die "IXFR failed: $last"
expect ixfr1 'kind=ixfr old_serial=100 serial=101 .*changesets=1 '
same ixfr1

run good || bed_die "up-to-date check failed: $last"
expect uptodate 'event=xfr_uptodate .*serial=101 primary_serial=101'

primary_change p1 1 1 1
primary_change p1 2 0 3
primary_change p1 0 2 2
run good || bed_die "IXFR of several change sets failed: $last"
case "$kind" in
nsd) expect ixfr3 'kind=(ixfr|axfr) old_serial=101 serial=104 ' ;; # NSD re-adds apex RRs: may fall back
*) expect ixfr3 'kind=ixfr old_serial=101 serial=104 .*changesets=3 ' ;;
esac
same ixfr3

# The primary loses its journal: restarted from a changed zone file in a fresh dir.
cp "$(primary_zonefile p1)" "$BED_T/zone2.db"
primary_stop p1
_primary_edit "$BED_T/zone2.db" 0 0 5 110
primary_start "$kind" p1 "$port" "$zone" "$BED_T/zone2.db" "$key"
run good || bed_die "transfer after the journal loss failed: $last"
expect nojournal 'kind=axfr old_serial=104 serial=110 '
same nojournal

primary_change p1 1 0 0
run two || bed_die "second primary not used: $last"
expect two "kind=ixfr old_serial=110 serial=111 .*primary=127.0.0.1@$port "
grep -q "event=xfr_primary_failed .*primary=127.0.0.1@$dead_port" "$BED_T/run.log" ||
	bed_die "the dead primary was not tried first"
"$xfrctl" --store "$BED_T/store" show "$zone" | grep -q "127.0.0.1@$port" ||
	bed_die "the primary used is not recorded"
same two

primary_change p1 1 0 0
if run wrong; then
	bed_die "a wrong key transferred: $last"
fi
# the TSIG error, and the primary's rcode (NOTAUTH), not rcode=0
expect wrongkey 'event=xfr_failed .*error=TSIG BAD[A-Z]+ .*rcode=9 '
"$xfrctl" --store "$BED_T/store" show "$zone" >"$BED_T/show.txt"
grep -Eq '^state: *failed' "$BED_T/show.txt" || bed_die "failure not recorded: $(cat "$BED_T/show.txt")"
grep -Eq '^serial: *111$' "$BED_T/show.txt" || bed_die "zone not kept: $(cat "$BED_T/show.txt")"
bed_log "$kind wrong key: $last"
bed_log PASS
