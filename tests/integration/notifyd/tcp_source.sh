#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/notifyd/tcp_source.sh -- one client cannot starve TCP NOTIFY:
#   - two sources each try to hold 30 idle connections (the global cap is 40): each
#     keeps max-per-source (8), the rest are closed at accept and counted, and kdig
#     +tcp NOTIFYs from a third source are still accepted;
#   - a connection whose NOTIFY is refused (key missing, unknown zone, wrong opcode)
#     is closed by notifyd after the answer; one whose NOTIFY was accepted stays
#     open and takes the next NOTIFY;
#   - behind a trusted proxy the real (PROXY) source counts: 12 IPv6 sources of one
#     /64 keep 8 connections, another /64 its own;
#   - the per-source rate limit takes a /64 as one source: 6 NOTIFYs from six
#     addresses of one /64 (5 tokens, one more a second) lose the 6th; the next
#     /64 is let in.
set -euo pipefail
. "$ZX_SRC/tests/integration/notifyd/lib.sh"
nd_setup nd_tcp_source
command -v kdig >/dev/null || bed_skip "kdig missing"
S1=c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU=
nd_config "$BED_T/zx.yaml" <<YAML
kafka: { brokers: "@KAFKA@", requests-topic: "@TOPIC@", delivery-timeout: 5s }
keys:
  - { name: k1, algorithm: hmac-sha256, secret: "$S1" }
proxy: { trusted: [ "127.0.0.9" ] }
notifyd:
  instance: nd-tcp-source
  listen: [ "127.0.0.1@@PORT@" ]
  http: "127.0.0.1:@HTTP@"
  rate-limit: { per-source: 1, burst: 5, per-zone: 0 }
  tcp: { max-connections: 40, max-per-source: 8, idle-timeout: 30s }
zone-defaults: { primaries: [ "127.0.0.1@53" ], notify-from: [ "127.0.0.0/8", "2001:db8::/32" ] }
zones:
  - { name: open.test }
  - { name: signed.test, key: k1 }
YAML
nd_start "$BED_T/zx.yaml"
hold=$ND_DIR/tcphold.py
wire() { python3 "$ND_DIR/dnswire.py" "$@"; }

# Two greedy sources, 30 connections each.
for a in 127.0.0.2 127.0.0.3; do
	python3 "$hold" 127.0.0.1 "$ND_PORT" 30 --bind "$a" --hold 40 >"$BED_T/hold-$a.out" &
	bed_track $! "hold-$a"
done
held() { grep -q '^open=' "$BED_T/hold-127.0.0.2.out" && grep -q '^open=' "$BED_T/hold-127.0.0.3.out"; }
bed_wait_for 20 held || bed_die "the holders did not report"
for a in 127.0.0.2 127.0.0.3; do
	got=$(cat "$BED_T/hold-$a.out")
	[ "$got" = "open=8 closed=22" ] || bed_die "$a holds: $got, want open=8 closed=22"
done
[ "$(nd_metric notifyd_tcp_connections)" = 16 ] ||
	bed_die "open connections: $(nd_metric notifyd_tcp_connections), want 16"
[ "$(nd_metric 'notifyd_drops_total{reason="tcp_source_limit"}')" -ge 44 ] ||
	bed_die "source-limit drops not counted"
for i in 1 2 3; do
	kdig @127.0.0.1 -p "$ND_PORT" -b 127.0.0.1 +tcp +time=3 +retry=0 open.test "NOTIFY=$i" \
		>"$BED_T/kdig.out" 2>&1 || true
	grep -q 'status: NOERROR' "$BED_T/kdig.out" ||
		bed_die "kdig +tcp NOTIFY $i not accepted with 16 held: $(cat "$BED_T/kdig.out")"
done
bed_log "2 sources x 30 idle connections: 8 each kept, 44 closed; kdig +tcp NOTIFYs accepted"

# Refused: answered, then closed by notifyd. Accepted: the connection stays for more.
got=$(wire tcpseq --bind 127.0.0.4 127.0.0.1 "$ND_PORT" signed.test open.test)
[ "$got" = "rcode=5 none eof" ] || bed_die "unsigned NOTIFY for a keyed zone: $got, want rcode=5 none eof"
got=$(wire tcpseq --bind 127.0.0.5 127.0.0.1 "$ND_PORT" nowhere.test)
[ "$got" = "rcode=5 eof" ] || bed_die "NOTIFY for an unknown zone: $got, want rcode=5 eof"
got=$(wire tcpseq --bind 127.0.0.6 127.0.0.1 "$ND_PORT" open.test open.test)
[ "$got" = "rcode=0 rcode=0 open" ] || bed_die "accepted NOTIFYs: $got, want rcode=0 rcode=0 open"
bed_log "refused NOTIFY: connection closed after the answer; accepted: kept"

# Behind a trusted proxy: the real sources count, an IPv6 /64 as one.
python3 "$hold" 127.0.0.1 "$ND_PORT" 12 --bind 127.0.0.9 --proxy-src "2001:db8::%d" \
	--hold 20 >"$BED_T/hold-v6a.out" &
bed_track $! hold-v6a
python3 "$hold" 127.0.0.1 "$ND_PORT" 4 --bind 127.0.0.9 --proxy-src "2001:db8:0:1::%d" \
	--hold 20 >"$BED_T/hold-v6b.out" &
bed_track $! hold-v6b
v6held() { grep -q '^open=' "$BED_T/hold-v6a.out" && grep -q '^open=' "$BED_T/hold-v6b.out"; }
bed_wait_for 20 v6held || bed_die "the proxied holders did not report"
got=$(cat "$BED_T/hold-v6a.out")
[ "$got" = "open=8 closed=4" ] || bed_die "12 sources of 2001:db8::/64 hold: $got, want open=8 closed=4"
got=$(cat "$BED_T/hold-v6b.out")
[ "$got" = "open=4 closed=0" ] || bed_die "2001:db8:0:1::/64 holds: $got, want open=4 closed=0"
bed_log "behind a proxy: 12 sources of one /64 keep 8 connections, another /64 its 4"

# The rate limit per source: one /64 is one source. Six NOTIFYs sent at once (so
# no token comes back meanwhile) from six addresses of one /64: five answered.
got=$(wire burst 127.0.0.9 127.0.0.1 "$ND_PORT" open.test \
	"[2001:db8::1]@53" "[2001:db8::2]@53" "[2001:db8::3]@53" "[2001:db8::4]@53" \
	"[2001:db8::5]@53" "[2001:db8::6]@53")
[ "$got" = answers=5 ] || bed_die "6 NOTIFYs from one /64 with 5 tokens: $got"
got=$(wire burst 127.0.0.9 127.0.0.1 "$ND_PORT" open.test "[2001:db8:0:1::1]@53")
[ "$got" = answers=1 ] || bed_die "the next /64 was limited too: $got"
bed_log "rate limit: a /64 is one source (5 of 6 answered, the next /64 answered)"
[ "$(nd_metric 'notifyd_requests_total{transport="udp",outcome="rate_source"}')" -ge 1 ] ||
	bed_die "the dropped NOTIFY was not counted"
bed_log PASS
