#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/egress/socks_ss.sh -- xfrd's egress through shadowsocks-libev, the
# design's own setup: xfrd -> ss-local (SOCKS5, TCP and UDP relay) -> ss-server, whose
# outgoing address is 127.0.0.2. The primary (BIND, TSIG required) allows queries and
# transfers from 127.0.0.2 only, so what passes went through the proxy:
#   1. direct from 127.0.0.1: the AXFR is refused
#   2. through ss-local: the first AXFR, TSIG across the proxy, equal to the primary's
#   3. direct again after a change: the SOA query itself is refused
#   4. through ss-local: the SOA over the UDP relay (UDP ASSOCIATE), then the IXFR
#   5. `source: 127.0.0.2`, direct: the IXFR (a source address the primary allows)
#   6. ss-local on ::1 (the proxy reached over IPv6): the IXFR
#   7. a proxy that is down, then ss-local: the next proxy is used for the same primary
#   8. ss-local without its UDP relay (no -u): the SOA falls back to TCP through CONNECT
#   9. the same in the service (--standalone): /metrics counts per proxy
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/egress/lib.sh"
bed_init egress_ss
egress_need ss-server ss-local named kdig ldns-read-zone
[ -x "$ZX_BUILD/xfrd/xfrd" ] || bed_skip "xfrd not built"

zone=egress-ss.test
EGRESS_SECRET=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$EGRESS_SECRET"
bed_ports 9 port ssport socks socks6 dead http dns notify_port socks_tcp
"$(bed_tool zonegen)" -z "$zone" -n 2000 -s 3 -S 100 -o "$BED_T/zone.db"
export PRIMARY_ALLOW_FROM=127.0.0.2 ZX_STORE_SYNC=none
primary_start bind p1 "$port" "$zone" "$BED_T/zone.db" "$key"

egress_ss_server ss-server "$ssport" 127.0.0.2
egress_ss_local ss-local "$socks" "$ssport"
egress_ss_local ss-local6 "$socks6" "$ssport" ::1
EGRESS_SS_NO_UDP=1 egress_ss_local ss-local-tcp "$socks_tcp" "$ssport"

p="\"127.0.0.1@$port\""
egress_conf "$BED_T/direct.yaml" "$zone" "$p"
egress_conf "$BED_T/proxied.yaml" "$zone" "$p" "    proxy: [ \"127.0.0.1@$socks\" ]"
egress_conf "$BED_T/source.yaml" "$zone" "$p" "    source: 127.0.0.2"
egress_conf "$BED_T/v6.yaml" "$zone" "$p" "" "  proxy: [ \"[::1]:$socks6\" ]"
egress_conf "$BED_T/tcponly.yaml" "$zone" "$p" "    proxy: [ \"127.0.0.1@$socks_tcp\" ]"
egress_conf "$BED_T/failover.yaml" "$zone" \
	"{ address: \"127.0.0.1@$port\", proxy: [ \"127.0.0.1@$dead\", \"127.0.0.1@$socks\" ] }"

same() # STEP: the stored zone equals the primary's AXFR
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
egress_expect direct 'event=xfr_failed .*rcode=5'

egress_run "$BED_T/proxied.yaml" || bed_die "AXFR through ss-local failed: $last"
egress_expect proxied "event=xfr_done .*kind=axfr .*serial=100 .*proxy=127.0.0.1@$socks"
same proxied

primary_change p1 3 2 4
if egress_run "$BED_T/direct.yaml"; then
	bed_die "direct SOA check passed: the primary's query ACL is not in force"
fi
egress_expect soa_direct "event=xfr_failed .*why=\"?SOA query refused"

egress_run "$BED_T/proxied.yaml" || bed_die "IXFR through ss-local failed: $last"
egress_expect soa_udp "event=xfr_done .*kind=ixfr old_serial=100 serial=101 .*proxy=127.0.0.1@$socks soa=udp-relay"
same ixfr

primary_change p1 1 0 1
egress_run "$BED_T/source.yaml" || bed_die "IXFR from source 127.0.0.2 failed: $last"
egress_expect source "event=xfr_done .*kind=ixfr old_serial=101 serial=102 "

primary_change p1 1 1 0
egress_run "$BED_T/v6.yaml" || bed_die "IXFR through ss-local on ::1 failed: $last"
egress_expect v6 "event=xfr_done .*kind=ixfr old_serial=102 serial=103 .*proxy=::1@$socks6"
same v6

primary_change p1 2 0 0
egress_run "$BED_T/failover.yaml" || bed_die "failover to the second proxy failed: $last"
egress_expect failover "event=xfr_done .*serial=104 .*proxy=127.0.0.1@$socks"
grep -q "event=xfr_proxy_failed .*proxy=127.0.0.1@$dead .*detail=\"proxy 127.0.0.1@$dead: proxy connect: " \
	"$BED_T/run.log" || bed_die "the dead proxy was not tried first: $(cat "$BED_T/run.log")"
same failover

primary_change p1 0 1 1
egress_run "$BED_T/tcponly.yaml" || bed_die "IXFR through ss-local without UDP failed: $last"
egress_expect tcp_only "event=xfr_done .*kind=ixfr old_serial=104 serial=105 .*proxy=127.0.0.1@$socks_tcp\$"
same tcp_only

egress_conf "$BED_T/service.yaml" "$zone" \
	"{ address: \"127.0.0.1@$port\", proxy: [ \"127.0.0.1@$dead\", \"127.0.0.1@$socks\" ] }" \
	"    refresh: { min: 1s, max: 1s }" "  http: 127.0.0.1@$http
  listen: [ 127.0.0.1@$dns ]"
primary_change p1 1 0 0
bed_spawn xfrd "$ZX_BUILD/xfrd/xfrd" -c "$BED_T/service.yaml" --standalone
metrics() { curl -fsS "http://127.0.0.1:$http/metrics"; }
has_serial() { kdig @127.0.0.1 -p "$dns" +short SOA "$zone" | grep -q " 106 "; }
bed_wait_for 30 has_serial || bed_die "the service did not fetch serial 106: $(tail -5 "$BED_T/xfrd.out")"
metrics >"$BED_T/metrics.txt" || bed_die "no /metrics"
grep -E "^xfrd_proxy_transfers_total\{proxy=\"127.0.0.1@$socks\"\} [1-9]" "$BED_T/metrics.txt" ||
	bed_die "transfers through ss-local not counted: $(grep proxy "$BED_T/metrics.txt")"
grep -E "^xfrd_proxy_errors_total\{proxy=\"127.0.0.1@$dead\",error=\"unreachable\"\} [1-9]" \
	"$BED_T/metrics.txt" || bed_die "the dead proxy's failures not counted"
grep -E "^xfrd_proxy_up\{proxy=\"127.0.0.1@$dead\"\} 0" "$BED_T/metrics.txt" ||
	bed_die "the dead proxy is not down"
grep -E "^xfrd_proxy_up\{proxy=\"127.0.0.1@$socks\"\} 1" "$BED_T/metrics.txt" ||
	bed_die "ss-local is not up"
bed_log "metrics: $(grep -E '^xfrd_proxy_(up|transfers)' "$BED_T/metrics.txt" | tr '\n' ' ')"
bed_log PASS
