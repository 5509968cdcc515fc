#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/egress/socks_dante.sh -- xfrd's egress through dante (danted) with
# username/password (RFC 1929), reached over IPv6 (::1), going out from 127.0.0.2
# (IPv4 targets) and ::1 (IPv6 targets). The primary (knotd, TSIG) allows transfers
# from 127.0.0.2 and ::1 only; direct from 127.0.0.1 is refused.
#   1. a wrong password: auth refused, counted as such, nothing stored
#   2. the right one: the first AXFR through dante
#   3. after a change: the SOA over dante's UDP relay, the IXFR by CONNECT
#   4. the primary by its IPv6 address through dante (CONNECT to an IPv6 target)
#   5. a primary dante's rules block: CONNECT refused with reply 2, said in the
#      outcome; with a second primary after it, the second is used
#   6. a primary that is down behind dante: reply 5 (connection refused), counted as
#      the primary's unreachability, not the proxy's
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/egress/lib.sh"
bed_init egress_dante
egress_need danted knotd kdig ldns-read-zone
[ -x "$ZX_BUILD/xfrd/xfrd" ] || bed_skip "xfrd not built"

zone=egress-dante.test
EGRESS_SECRET=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$EGRESS_SECRET"
bed_ports 4 port socks blocked down
"$(bed_tool zonegen)" -z "$zone" -n 1000 -s 5 -S 10 -o "$BED_T/zone.db"
export PRIMARY_ALLOW_FROM="127.0.0.2, ::1" ZX_STORE_SYNC=none
PRIMARY_LISTEN_V6=1 primary_start knot p1 "$port" "$zone" "$BED_T/zone.db" "$key"

user=zxsocks$$
pass=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
egress_user "$user" "$pass"
echo "$pass" >"$BED_T/socks.pw"
echo "not-the-password" >"$BED_T/wrong.pw"
chmod 600 "$BED_T/socks.pw" "$BED_T/wrong.pw"
EGRESS_DANTE_BLOCK_PORT=$blocked egress_danted danted "$socks" "127.0.0.2 ::1" ::1

px() { echo "{ address: \"[::1]:$socks\", user: $user, password-file: \"$BED_T/$1\" }"; }
p="\"127.0.0.1@$port\""
egress_conf "$BED_T/direct.yaml" "$zone" "$p"
egress_conf "$BED_T/wrong.yaml" "$zone" "$p" "    proxy: [ $(px wrong.pw) ]"
egress_conf "$BED_T/dante.yaml" "$zone" "$p" "    proxy: [ $(px socks.pw) ]"
egress_conf "$BED_T/dante6.yaml" "$zone" "\"[::1]:$port\"" "    proxy: [ $(px socks.pw) ]"
egress_conf "$BED_T/blocked.yaml" "$zone" "\"127.0.0.1@$blocked\"" "    proxy: [ $(px socks.pw) ]"
egress_conf "$BED_T/down.yaml" "$zone" "\"127.0.0.1@$down\"" "    proxy: [ $(px socks.pw) ]"
egress_conf "$BED_T/blocked2.yaml" "$zone" "\"127.0.0.1@$blocked\", $p" "    proxy: [ $(px socks.pw) ]"

same() # STEP
{
	"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" dump "$zone" >"$BED_T/$1.dump" ||
		bed_die "$1: xfrctl dump failed"
	bed_zone_canon "$BED_T/$1.dump" >"$BED_T/$1.ours"
	primary_axfr p1 >"$BED_T/$1.theirs"
	bed_zone_compare "$BED_T/$1.theirs" "$BED_T/$1.ours" || bed_die "$1: zone differs"
}

if egress_run "$BED_T/direct.yaml"; then
	bed_die "direct from 127.0.0.1 transferred: the primary's ACL is not in force"
fi
egress_expect direct 'event=xfr_failed '

if egress_run "$BED_T/wrong.yaml"; then
	bed_die "a wrong proxy password transferred"
fi
egress_expect wrong_password "event=xfr_failed .*error=SOCKS5 authentication refused .*detail=\"proxy ::1@$socks: proxy auth: SOCKS5 authentication refused\" .*proxy=::1@$socks"

egress_run "$BED_T/dante.yaml" || bed_die "AXFR through dante failed: $last"
egress_expect dante "event=xfr_done .*kind=axfr .*serial=10 .*proxy=::1@$socks"
same axfr

primary_change p1 2 1 3
egress_run "$BED_T/dante.yaml" || bed_die "IXFR through dante failed: $last"
egress_expect dante_ixfr "event=xfr_done .*kind=ixfr old_serial=10 serial=11 .*proxy=::1@$socks soa=udp-relay"
same ixfr

primary_change p1 1 1 1
egress_run "$BED_T/dante6.yaml" || bed_die "IXFR from the IPv6 primary through dante failed: $last"
egress_expect dante_v6 "event=xfr_done .*kind=ixfr old_serial=11 serial=12 .*primary=::1@$port .*proxy=::1@$socks"
same ixfr6

if egress_run "$BED_T/blocked.yaml"; then
	bed_die "a blocked CONNECT transferred"
fi
egress_expect blocked "event=xfr_failed .*error=SOCKS5 request refused .*reply 2 \\(connection not allowed by ruleset\\)"

primary_change p1 1 0 0
egress_run "$BED_T/blocked2.yaml" || bed_die "the second primary was not used: $last"
egress_expect blocked2 "event=xfr_done .*serial=13 .*primary=127.0.0.1@$port "
grep -q "event=xfr_primary_failed .*primary=127.0.0.1@$blocked .*error=SOCKS5 request refused" \
	"$BED_T/run.log" || bed_die "the blocked primary was not tried first"
same blocked2

if egress_run "$BED_T/down.yaml"; then
	bed_die "a primary that is down transferred"
fi
egress_expect down "event=xfr_failed .*error=target unreachable behind the SOCKS5 proxy .*reply 5 \\(connection refused\\)"
bed_log PASS
