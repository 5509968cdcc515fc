#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/notifyd/proxy.sh -- PROXY protocol with real proxies.
#  - dnsdist useProxyProtocol=true over UDP and TCP: the event carries the real client
#    (127.0.0.5, allowed) and the ACL refuses 127.0.0.6 by its real address.
#  - haproxy send-proxy (v1) and send-proxy-v2 (with crc32c and unique-id TLVs) over TCP.
#  - A PROXY header sent straight from an untrusted address is dropped; a trusted
#    proxy that sends no header is dropped too; both counted by reason.
set -euo pipefail
. "$ZX_SRC/tests/integration/notifyd/lib.sh"
nd_setup nd_proxy
command -v dnsdist >/dev/null || bed_skip "dnsdist missing"
command -v haproxy >/dev/null || bed_skip "haproxy missing"

nd_config "$BED_T/zx.yaml" <<YAML
kafka: { brokers: "@KAFKA@", requests-topic: "@TOPIC@", delivery-timeout: 5s }
proxy: { trusted: [ "127.0.0.1" ] }
notifyd:
  instance: nd-proxy
  listen: [ "127.0.0.1@@PORT@" ]
  http: "127.0.0.1:@HTTP@"
zone-defaults: { primaries: [ "127.0.0.5@53" ], notify-from: [ "127.0.0.5" ] }
zones:
  - { name: proxy.test }
YAML
nd_start "$BED_T/zx.yaml"
bed_ports 3 DD_PORT HA1_PORT HA2_PORT

cat >"$BED_T/dnsdist.conf" <<LUA
setLocal("127.0.0.1:$DD_PORT")
setACL({"127.0.0.0/8"})
setSecurityPollSuffix("")
srv = newServer({address="127.0.0.1:$ND_PORT", useProxyProtocol=true, source="127.0.0.1"})
srv:setUp()
LUA
bed_spawn dnsdist dnsdist --supervised --disable-syslog -C "$BED_T/dnsdist.conf"

cat >"$BED_T/haproxy.cfg" <<CFG
global
    maxconn 100
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
listen v1
    bind 127.0.0.1:$HA1_PORT
    server nd 127.0.0.1:$ND_PORT send-proxy
listen v2
    bind 127.0.0.1:$HA2_PORT
    server nd 127.0.0.1:$ND_PORT send-proxy-v2 proxy-v2-options crc32c,unique-id
CFG
bed_spawn haproxy haproxy -db -f "$BED_T/haproxy.cfg"
bed_wait_for 10 kdig @127.0.0.1 -p "$DD_PORT" +tcp +time=1 +retry=0 proxy.test SOA ||
	true # dnsdist answers (or relays a REFUSED) once it listens
sleep 1

# notify_via SRC PORT SERIAL [+tcp]: kdig from SRC; prints the status.
notify_via()
{
	kdig -b "$1" @127.0.0.1 -p "$2" +time=2 +retry=1 ${4:-} proxy.test NOTIFY="$3" 2>&1 |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

st=$(notify_via 127.0.0.5 "$DD_PORT" 101)
[ "$st" = NOERROR ] || bed_die "dnsdist UDP from 127.0.0.5: $st"
st=$(notify_via 127.0.0.5 "$DD_PORT" 102 +tcp)
[ "$st" = NOERROR ] || bed_die "dnsdist TCP from 127.0.0.5: $st"
st=$(notify_via 127.0.0.6 "$DD_PORT" 103)
[ "$st" = REFUSED ] || bed_die "dnsdist UDP from 127.0.0.6: $st (want REFUSED)"
st=$(notify_via 127.0.0.6 "$DD_PORT" 104 +tcp)
[ "$st" = REFUSED ] || bed_die "dnsdist TCP from 127.0.0.6: $st (want REFUSED)"

st=$(notify_via 127.0.0.5 "$HA1_PORT" 105 +tcp)
[ "$st" = NOERROR ] || bed_die "haproxy send-proxy (v1) from 127.0.0.5: $st"
st=$(notify_via 127.0.0.5 "$HA2_PORT" 106 +tcp)
[ "$st" = NOERROR ] || bed_die "haproxy send-proxy-v2 from 127.0.0.5: $st"
st=$(notify_via 127.0.0.6 "$HA2_PORT" 107 +tcp)
[ "$st" = REFUSED ] || bed_die "haproxy send-proxy-v2 from 127.0.0.6: $st (want REFUSED)"

events=$(nd_events 4)
echo "$events" >&2
for s in 101 102 105 106; do
	grep -q "serial=$s source=127.0.0.5@[0-9]* .*proxy=127.0.0.1" <<<"$events" ||
		bed_die "event $s without the real source 127.0.0.5 via the proxy"
done
grep -q 'serial=101 .*TRANSPORT_UDP' <<<"$events" || bed_die "dnsdist UDP event not UDP"

# Untrusted sender with a PROXY header (claiming an allowed source): dropped.
for p in "v2" "v1 --tcp" "v2 --tcp"; do
	out=$(python3 "$ND_DIR/dnswire.py" notify --bind 127.0.0.9 --src 127.0.0.5@53 \
		--proxy $p 127.0.0.1 "$ND_PORT" proxy.test 108)
	[ "$out" = noanswer ] || bed_die "PROXY $p from untrusted 127.0.0.9 answered: $out"
done
[ "$(nd_metric 'notifyd_drops_total{reason="proxy_untrusted"}')" -ge 3 ] ||
	bed_die "untrusted PROXY headers not counted"
# Trusted sender without a header: dropped.
out=$(python3 "$ND_DIR/dnswire.py" notify --bind 127.0.0.1 127.0.0.1 "$ND_PORT" proxy.test 109)
[ "$out" = noanswer ] || bed_die "trusted peer without PROXY header answered: $out"
[ "$(nd_metric 'notifyd_drops_total{reason="proxy_missing"}')" -ge 1 ] ||
	bed_die "missing PROXY header not counted"
# The same from the trusted address with a header: accepted (and v2 LOCAL: the proxy
# itself is the source, which the zone ACL refuses).
out=$(python3 "$ND_DIR/dnswire.py" notify --bind 127.0.0.1 --src 127.0.0.5@53 --proxy v2 \
	127.0.0.1 "$ND_PORT" proxy.test 110)
nd_expect "$(nd_decode "${out#answer }")" rcode=0 aa=1
out=$(python3 "$ND_DIR/dnswire.py" notify --bind 127.0.0.1 --proxy v2local \
	127.0.0.1 "$ND_PORT" proxy.test 111)
nd_expect "$(nd_decode "${out#answer }")" rcode=5
[ "$(nd_metric 'notifyd_requests_total{transport="udp",outcome="refused_acl"}')" -ge 2 ] ||
	bed_die "refusals not counted"
bed_log "PASS"
