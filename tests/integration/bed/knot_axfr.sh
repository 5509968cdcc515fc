#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bed's primaries (knotd, named, nsd) serve a generated zone by AXFR under
# TSIG, equal to the zone file, refuse an unsigned transfer, after a change
# and reload answer IXFR=old with the difference only, and send signed NOTIFYs
# to the configured target.
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
bed_init knot_axfr

zonegen=$(bed_tool zonegen)
zone=axfr.test
"$zonegen" -z "$zone" -n 1000 -s 42 -S 2024010100 -o "$BED_T/zone.db"
bed_zone_canon "$BED_T/zone.db" >"$BED_T/zone.canon"
[ "$(wc -l <"$BED_T/zone.canon")" = 1005 ] || bed_die "zonegen: expected 1005 RRs"

# check KIND ALG: one primary through its paces.
check()
{
	local kind=$1 alg=$2 port sink d
	bed_ports 2 port sink
	bed_notify_sink "$sink"
	PRIMARY_NOTIFY=127.0.0.1@$sink PRIMARY_TSIG_ALG=$alg \
		primary_start "$kind" "$kind" "$port" "$zone" "$BED_T/zone.db"
	d=$BED_T/$kind
	mkdir -p "$d"

	primary_axfr "$kind" >"$d/axfr1" || bed_die "$kind: AXFR with $alg failed"
	bed_zone_compare "$BED_T/zone.canon" "$d/axfr1" || bed_die "$kind: AXFR differs from the zone file"
	if bed_axfr 127.0.0.1 "$port" "$zone" >/dev/null 2>&1; then
		bed_die "$kind: unsigned AXFR was served"
	fi
	if bed_axfr 127.0.0.1 "$port" "$zone" "$alg:tsig-$kind:$(head -c 32 /dev/urandom | base64)" \
		>/dev/null 2>&1; then
		bed_die "$kind: AXFR with a wrong secret was served"
	fi

	primary_change "$kind" 5 3 7
	[ "$(primary_serial "$kind")" = 2024010101 ] || bed_die "$kind: serial not bumped"
	primary_ixfr "$kind" 2024010100 >"$d/ixfr"
	# IXFR form: new SOA, old SOA, deletions, new SOA, additions, new SOA.
	local soas rrs
	soas=$(awk '$4 == "SOA" { printf "%s ", $7 }' "$d/ixfr")
	rrs=$(grep -c . "$d/ixfr")
	[ "$soas" = "2024010101 2024010100 2024010101 2024010101 " ] ||
		bed_die "$kind: not an incremental answer (SOA serials: $soas)"
	# 3 deleted + 7 modified out, 7 modified + 5 added in, 4 SOA (NSD may re-add apex RRs).
	[ "$rrs" -ge 26 ] && [ "$rrs" -le 32 ] || bed_die "$kind: IXFR has $rrs RRs, expected 26"
	primary_axfr "$kind" >"$d/axfr2" || bed_die "$kind: AXFR after the change failed"
	bed_zone_canon "$(primary_zonefile "$kind")" >"$d/zone2.canon"
	bed_zone_compare "$d/zone2.canon" "$d/axfr2" || bed_die "$kind: AXFR after the change differs"
	[ "$(wc -l <"$d/axfr2")" = $((1005 + 5 - 3)) ] || bed_die "$kind: wrong RR count after the change"

	# Up to date: IXFR=current is the single SOA.
	[ "$(primary_ixfr "$kind" 2024010101 | grep -c .)" = 1 ] || bed_die "$kind: up-to-date IXFR not one SOA"
	: >"$BED_SINK_LOG"
	primary_notify "$kind" || bed_die "$kind: notify command failed"
	bed_wait_for 15 grep -q "opcode=4 qname=$zone\. .* tsig=yes" "$BED_SINK_LOG" ||
		bed_die "$kind: no signed NOTIFY reached the target"
	bed_log "$kind NOTIFY: $(head -1 "$BED_SINK_LOG")"
	primary_stop "$kind"
	bed_log "$kind with $alg: AXFR equal, IXFR $rrs RRs"
}

check knot hmac-sha256
check bind hmac-sha512
check nsd hmac-sha256
bed_log PASS
