#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/xfr/hostile_store.sh -- xfrd --once against the hostile primary with
# the real LMDB store: a diff that does not apply (deleting what we lack, adding what we
# hold) falls back to AXFR; a broken transfer (reset, bad MAC, missing closing SOA, over
# the record limit) is recorded as failed in the store and the last good zone stays
# (xfrctl show/dump). Ports from 21300-21399.
set -euo pipefail
export ZX_BED_PORTS="21300 21399"
. "$ZX_SRC/tests/bed/lib.sh"
bed_init xfr_hostile_store
xfrd=$ZX_BUILD/xfrd/xfrd
xfrctl=$ZX_BUILD/xfrd/xfrctl
hostile=$ZX_BUILD/tests/integration/xfr/hostile_primary
for b in "$xfrd" "$xfrctl" "$hostile"; do
	[ -x "$b" ] || bed_skip "$b not built"
done
secret=c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw==
export ZX_STORE_SYNC=none

# primary MODE SERIAL: (re)start the hostile primary on $port
primary()
{
	[ -n "${hpid:-}" ] && { bed_stop_pid "$hpid" hostile; bed_untrack "$hpid"; }
	bed_spawn hostile "$hostile" -p "$port" -z h.test. -s "$2" -n 300 -y "xfr-key:hmac-sha256:$secret" \
		${1:+-M "$1"}
	hpid=$BED_PID
	bed_wait_for 5 grep -q ready "$BED_T/hostile.out" || bed_die "hostile primary did not start"
}

# once [LIMIT]: one xfrd pass; the outcome line in $last
once()
{
	cat >"$BED_T/zx.yaml" <<EOF2
keys: [ { name: xfr-key, algorithm: hmac-sha256, secret: "$secret" } ]
xfrd:
  store: $BED_T/store
  store-size: 64M
  timeouts: { connect: 1s, read: 1s, transfer: 10s, soa: 1s }
zones:
  - { name: h.test, primaries: [ "127.0.0.1@$port" ], key: xfr-key${1:+, limits: { records: $1 \}} }
EOF2
	"$xfrd" -c "$BED_T/zx.yaml" --once ${2:-} >"$BED_T/run.log" 2>&1 || true
	last=$(grep -E 'event=xfr_(done|uptodate|failed)' "$BED_T/run.log" | tail -1)
}

show() { "$xfrctl" --store "$BED_T/store" show h.test; }

bed_ports 1 port
primary "" 10
once
echo "$last" | grep -q 'kind=axfr .*serial=10 records=304 ' || bed_die "first AXFR: $last"
"$xfrctl" --store "$BED_T/store" dump h.test >"$BED_T/good.dump"

for mode in baddiff dupadd; do
	serial=$(show | sed -n 's/^serial: *//p')
	primary "$mode" $((serial + 1))
	once
	echo "$last" | grep -Eq "kind=axfr old_serial=$serial serial=$((serial + 1)) .*fallback=\"IXFR diff does not apply\"" ||
		bed_die "$mode: no AXFR fallback: $last"
	bed_log "$mode: $last"
done
"$xfrctl" --store "$BED_T/store" dump h.test >"$BED_T/good.dump"
good=$(show | sed -n 's/^serial: *//p')

for case in "reset:1 --force-axfr" "badmac:2 --force-axfr" "noclose" "limit --force-axfr"; do
	mode=${case%% *}
	flag=
	[ "$mode" != "$case" ] && flag=${case#* }
	limit=
	if [ "$mode" = limit ]; then mode=; limit=100; fi
	primary "$mode" $((good + 5))
	once "$limit" "$flag"
	echo "$last" | grep -q 'event=xfr_failed' || bed_die "$case: did not fail: $last"
	show >"$BED_T/show.txt"
	grep -Eq '^state: *failed' "$BED_T/show.txt" || bed_die "$case: failure not recorded: $(cat "$BED_T/show.txt")"
	grep -Eq "^serial: *$good\$" "$BED_T/show.txt" || bed_die "$case: zone not kept"
	"$xfrctl" --store "$BED_T/store" dump h.test | cmp -s - "$BED_T/good.dump" || bed_die "$case: zone data changed"
	bed_log "$case: kept serial $good; $(grep -E '^last-error' "$BED_T/show.txt")"
done
bed_log PASS
