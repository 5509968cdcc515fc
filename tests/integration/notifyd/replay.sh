#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/notifyd/replay.sh -- TSIG replay: a signed NOTIFY captured on the
# wire (ldns-notify through a relay) and sent again, raw, 100 times over UDP and 10
# over TCP from other allowed sources, is refused every time and published once;
# fresh signed NOTIFYs (kdig, UDP and TCP) keep being accepted; a NOTIFY claiming a
# fudge of 3600 s is held to tsig.max-fudge (60 s here); and a signed NOTIFY that
# went unanswered because Kafka was down is accepted when the primary sends the
# same bytes again once Kafka is back, then refused as a replay. A NOTIFY without
# a serial hint is logged with serial=- (once serial=-0).
# A private broker (stopped and started here; it disturbs no other test).
set -euo pipefail
. "$ZX_SRC/tests/integration/notifyd/lib.sh"
nd_setup nd_replay own-kafka
command -v ldns-notify >/dev/null || bed_skip "ldns-notify missing"
command -v kdig >/dev/null || bed_skip "kdig missing"

kport=""
for _ in $(seq 50); do
	p=$(bed_port)
	bed_port_keep "$p"
	if bed_port_free $((p + 1)); then
		kport=$p
		break
	fi
done
[ -n "$kport" ] || bed_die "no port pair for the private broker"
kenv=(ZX_BED_DIR="$BED_T/kb" ZX_KAFKA_PORT="$kport")
env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" start >&2 || bed_die "private broker did not start"
bed_on_exit env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" stop
set -a
. "$BED_T/kb/kafka.env"
set +a
[ "$ZX_KAFKA_KIND" = mock ] && bed_skip "needs a real broker that survives a restart (got the mock)"
nd_topic

S1=c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU=
nd_config "$BED_T/zx.yaml" <<YAML
kafka: { brokers: "@KAFKA@", requests-topic: "@TOPIC@", delivery-timeout: 2s }
keys:
  - { name: k1, algorithm: hmac-sha256, secret: "$S1" }
tsig: { max-fudge: 60s }
notifyd:
  instance: nd-replay
  listen: [ "127.0.0.1@@PORT@" ]
  http: "127.0.0.1:@HTTP@"
  rate-limit: { per-source: 0, per-zone: 0 }
zone-defaults: { primaries: [ "127.0.0.1@53" ], notify-from: [ "127.0.0.0/8" ] }
zones:
  - { name: signed.test, key: k1 }
YAML
nd_start "$BED_T/zx.yaml"
wire() { python3 "$ND_DIR/dnswire.py" "$@"; }
rcode_of() { nd_decode "${1#answer }" | sed 's/.*\brcode=\([0-9]*\).*/\1/'; }
# events SERIAL: how many events of the topic carry SERIAL (the topic read whole)
events()
{
	"$(bed_tool zxkafka)" consume "$ZX_KAFKA_BOOTSTRAP" "$ND_TOPIC" --count 100000 --timeout 5 \
		--from-beginning 2>/dev/null | grep -c "serial=$1 " || true
}

# Fresh signatures are accepted, every time, over UDP and TCP.
for s in 1 2 3; do
	for t in +notcp +tcp; do
		kdig @127.0.0.1 -p "$ND_PORT" $t +time=3 +retry=0 -y "hmac-sha256:k1:$S1" \
			signed.test "NOTIFY=$s" >"$BED_T/kdig.out" 2>&1 || true
		grep -q 'status: NOERROR' "$BED_T/kdig.out" ||
			bed_die "kdig $t NOTIFY $s not accepted: $(cat "$BED_T/kdig.out")"
	done
done
bed_log "6 kdig NOTIFYs, each signed anew: accepted"

# Capture one signed NOTIFY from ldns-notify, on the wire.
bed_ports 1 RELAY
bed_spawn relay python3 "$ND_DIR/dnswire.py" relay "$RELAY" "$ND_PORT" "$BED_T/wire.log"
bed_wait_for 10 bash -c "ss -Huln 'sport = :$RELAY' | grep -q ." || bed_die "the relay did not listen"
ldns-notify -z signed.test -s 40 -y "k1:$S1:hmac-sha256" -p "$RELAY" -r 1 127.0.0.1 \
	>"$BED_T/ldns.out" 2>&1 || true
req=$(awk '$1 == "req" { print $2; exit }' "$BED_T/wire.log")
rep=$(awk '$1 == "rep" { print $2; exit }' "$BED_T/wire.log")
[ -n "$req" ] && [ -n "$rep" ] || bed_die "no signed NOTIFY captured: $(cat "$BED_T/wire.log")"
nd_expect "$(nd_decode "$rep")" rcode=0 tsig_error=0
bed_log "captured: $(nd_decode "$req")"

# The same bytes, 100 times over UDP from 127.0.0.2..101, 10 times over TCP.
got=$(wire resend 127.0.0.1 "$ND_PORT" "$req" 100)
[ "$got" = "rcode5=100" ] || bed_die "UDP replays: $got, want rcode5=100 (REFUSED)"
got=$(wire resend --tcp 127.0.0.1 "$ND_PORT" "$req" 10)
[ "$got" = "rcode5=10" ] || bed_die "TCP replays: $got, want rcode5=10 (REFUSED)"
out=$(wire send 127.0.0.1 "$ND_PORT" "$req")
nd_expect "$(nd_decode "${out#answer }")" rcode=5 ar=1 tsig_error=0 tsig_mac_len=32
n=$(events 40)
[ "$n" = 1 ] || bed_die "serial 40 published $n times, want once"
r=$(nd_metric 'notifyd_requests_total{transport="udp",outcome="replay"}')
[ "$r" -ge 101 ] || bed_die "udp replays counted $r, want >= 101"
r=$(nd_metric 'notifyd_tsig_failures_total{kind="replay"}')
[ "$r" -ge 111 ] || bed_die "replays among TSIG failures: $r, want >= 111"
grep -q 'outcome=replay' "$BED_T/notifyd.out" || bed_die "replays not logged"
bed_log "111 replays of a captured NOTIFY: REFUSED (signed), counted, logged; published once"

# A fudge of 3600 s does not stretch the window past tsig.max-fudge (60 s).
now=$(date +%s)
old=$(wire signed signed.test 50 k1 "$S1" $((now - 600)) 3600)
out=$(wire send 127.0.0.1 "$ND_PORT" "$old")
nd_expect "$(nd_decode "${out#answer }")" rcode=9 tsig_error=18
ok=$(wire signed signed.test 51 k1 "$S1" $((now - 30)) 3600)
out=$(wire send 127.0.0.1 "$ND_PORT" "$ok")
[ "$(rcode_of "$out")" = 0 ] || bed_die "a NOTIFY signed 30 s ago was not accepted: $out"
bed_log "fudge 3600 claimed: signed 600 s ago BADTIME, 30 s ago accepted"

# Kafka down: the NOTIFY is not answered, so it is not remembered; the primary's
# retry of the very same bytes is accepted once Kafka is back, and only then refused.
env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" stop >&2
: >"$BED_T/wire.log"
ldns-notify -z signed.test -s 60 -y "k1:$S1:hmac-sha256" -p "$RELAY" -r 1 127.0.0.1 \
	>"$BED_T/ldns.out" 2>&1 || true
down=$(awk '$1 == "req" { print $2; exit }' "$BED_T/wire.log")
[ -n "$down" ] || bed_die "no NOTIFY captured while Kafka is down"
! grep -q '^rep ' "$BED_T/wire.log" || bed_die "answered while Kafka is down"
sleep 2.5 # past the delivery timeout: given up on, forgotten
[ "$(wire send 127.0.0.1 "$ND_PORT" "$down")" = noanswer ] || bed_die "answered while Kafka is down"
env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" start >&2 || bed_die "private broker did not restart"
ans=""
for _ in $(seq 30); do # the primary's retries
	ans=$(wire send 127.0.0.1 "$ND_PORT" "$down")
	[ "$ans" != noanswer ] && break
	sleep 1
done
[ "$ans" != noanswer ] || bed_die "the retried NOTIFY was never answered"
[ "$(rcode_of "$ans")" = 0 ] || bed_die "the retried NOTIFY was refused: $(nd_decode "${ans#answer }")"
out=$(wire send 127.0.0.1 "$ND_PORT" "$down")
[ "$(rcode_of "$out")" = 5 ] || bed_die "its replay after acceptance: $out, want REFUSED"
[ "$(events 60)" -ge 1 ] || bed_die "serial 60 not in Kafka"
bed_log "Kafka down: unanswered, retried bytes accepted after the restart, then refused"

# A NOTIFY without a serial hint is logged as serial=- (it once read serial=-0).
wire notify 127.0.0.1 "$ND_PORT" signed.test >/dev/null
bed_wait_for 5 grep -q 'zone=signed.test. serial=- .*outcome=refused_unsigned' "$BED_T/notifyd.out" ||
	bed_die "no serial=- line for a NOTIFY without a serial"
! grep -q 'serial=-0' "$BED_T/notifyd.out" || bed_die "a log line says serial=-0"
bed_log PASS
