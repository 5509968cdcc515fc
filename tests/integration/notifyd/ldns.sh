#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/notifyd/ldns.sh -- ldns-notify (and kdig) against notifyd: unsigned,
# signed, wrong key, wrong secret, skewed clock. Each reply is captured by a relay and
# checked on the wire: header rcode, and the TSIG record's error, MAC size, other data.
set -euo pipefail
. "$ZX_SRC/tests/integration/notifyd/lib.sh"
nd_setup nd_ldns
command -v ldns-notify >/dev/null || bed_skip "ldns-notify missing"

S1=c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU=
S2=dGhyZWUtdGhyZWUtdGhyZWUtdGhyZWUtdGhyZWUtdGg=
nd_config "$BED_T/zx.yaml" <<YAML
kafka: { brokers: "@KAFKA@", requests-topic: "@TOPIC@", delivery-timeout: 5s }
keys:
  - { name: k1, algorithm: hmac-sha256, secret: "$S1" }
notifyd:
  instance: nd-ldns
  listen: [ "0.0.0.0@@PORT@", "::1@@PORT@" ]
  http: "127.0.0.1:@HTTP@"
zone-defaults: { primaries: [ "127.0.0.1@53" ], notify-from: [ "127.0.0.0/8", "::1" ] }
zones:
  - { name: signed.test, key: k1 }
  - { name: open.test }
YAML
nd_start "$BED_T/zx.yaml"

bed_ports 1 RELAY
bed_spawn relay python3 "$ND_DIR/dnswire.py" relay "$RELAY" "$ND_PORT" "$BED_T/wire.log"
# Bound before the first NOTIFY (a fixed 0.5 s was not enough under load: the NOTIFY was lost).
bed_wait_for 10 bash -c "ss -Huln 'sport = :$RELAY' | grep -q ." || bed_die "relay not listening"

# ask LABEL ldns-notify-args...: one NOTIFY through the relay; sets REQ/REP (decoded).
ask()
{
	local label=$1
	shift
	: >"$BED_T/wire.log"
	"$@" -p "$RELAY" -r 1 127.0.0.1 >"$BED_T/$label.out" 2>&1 || true
	REQ=$(nd_decode "$(awk '$1 == "req" { print $2; exit }' "$BED_T/wire.log")")
	local rep
	rep=$(awk '$1 == "rep" { print $2; exit }' "$BED_T/wire.log")
	[ -n "$rep" ] || bed_die "$label: no reply"
	REP=$(nd_decode "$rep")
	bed_log "$label: $REP"
	# Never an amplifier.
	local ql rl
	ql=$(sed 's/.*\blen=\([0-9]*\).*/\1/' <<<"$REQ")
	rl=$(sed 's/.*\blen=\([0-9]*\).*/\1/' <<<"$REP")
	[ "$rl" -le "$ql" ] || bed_die "$label: reply $rl bytes > request $ql"
}

ask unsigned_open ldns-notify -z open.test -s 11
nd_expect "$REP" qr=1 opcode=4 rcode=0 aa=1 qd=1 an=0 ar=0

ask unsigned_keyzone ldns-notify -z signed.test -s 12
nd_expect "$REP" qr=1 opcode=4 rcode=5 qd=1 ar=0

ask signed_ok ldns-notify -z signed.test -s 13 -y "k1:$S1:hmac-sha256"
nd_expect "$REP" rcode=0 aa=1 ar=1 tsig_error=0 tsig_mac_len=32 tsig_other_len=0
id=$(sed 's/.*\bid=\([0-9]*\).*/\1/' <<<"$REQ")
nd_expect "$REP" "tsig_orig_id=$id"

ask wrong_key ldns-notify -z signed.test -s 14 -y "k9:$S1:hmac-sha256"
nd_expect "$REP" rcode=9 ar=1 tsig_error=17 tsig_mac_len=0

ask wrong_secret ldns-notify -z signed.test -s 15 -y "k1:$S2:hmac-sha256"
nd_expect "$REP" rcode=9 ar=1 tsig_error=16 tsig_mac_len=0

ask wrong_alg ldns-notify -z signed.test -s 16 -y "k1:$S1:hmac-sha1"
nd_expect "$REP" rcode=9 tsig_error=17 tsig_mac_len=0

if command -v faketime >/dev/null; then
	ask skewed faketime -f -3600s ldns-notify -z signed.test -s 17 -y "k1:$S1:hmac-sha256"
	nd_expect "$REP" rcode=9 ar=1 tsig_error=18 tsig_mac_len=32 tsig_other_len=6
	other=$(sed 's/.*\btsig_other=\([0-9]*\).*/\1/' <<<"$REP")
	now=$(date +%s)
	[ $((now - other)) -le 5 ] && [ $((other - now)) -le 5 ] ||
		bed_die "BADTIME other data $other is not the server time $now"
	signed=$(sed 's/.*\btsig_time=\([0-9]*\).*/\1/' <<<"$REP")
	[ $((now - signed)) -ge 3590 ] || bed_die "BADTIME time signed $signed is not the request's"
else
	bed_log "faketime missing: BADTIME case skipped"
fi

# kdig checks the reply's TSIG itself; over TCP too; to another loopback address of the
# wildcard socket (the answer must come from the address asked) and over IPv6.
for tcp in "@127.0.0.1 +notcp" "@127.0.0.1 +tcp" "@127.0.0.7 +notcp" "@::1 +notcp"; do
	out=$(kdig $tcp -p "$ND_PORT" +time=2 +retry=0 -y "hmac-sha256:k1:$S1" signed.test NOTIFY=18)
	grep -q 'status: NOERROR' <<<"$out" || { echo "$out" >&2; bed_die "kdig $tcp: not NOERROR"; }
	grep -qi 'WARNING\|failed' <<<"$out" && { echo "$out" >&2; bed_die "kdig $tcp: TSIG warning"; }
done

# Accepted: 11 (open), 13 (signed), 18 four times; in Kafka, keyed by zone.
events=$(nd_events 6)
echo "$events" >&2
grep -q 'key=open.test. .*serial=11 ' <<<"$events" || bed_die "event for open.test serial 11 missing"
grep -q 'key=signed.test. .*serial=13 .*key=k1\.' <<<"$events" || bed_die "signed event missing"
[ "$(grep -c 'serial=18 ' <<<"$events")" -eq 4 ] || bed_die "kdig events missing"
grep -q 'serial=18 source=::1@' <<<"$events" || bed_die "IPv6 source missing from the event"
grep -q 'serial=1[24567] ' <<<"$events" && bed_die "a refused NOTIFY reached Kafka"

[ "$(nd_metric 'notifyd_requests_total{transport="udp",outcome="badkey"}')" -ge 2 ] || bed_die "badkey not counted"
[ "$(nd_metric 'notifyd_requests_total{transport="udp",outcome="badsig"}')" -ge 1 ] || bed_die "badsig not counted"
! command -v faketime >/dev/null ||
	[ "$(nd_metric 'notifyd_tsig_failures_total{kind="badtime"}')" -ge 1 ] || bed_die "badtime not counted"
[ "$(nd_metric 'notifyd_tsig_failures_total{kind="refused_unsigned"}')" -ge 1 ] ||
	bed_die "unsigned NOTIFY for a keyed zone not counted"
[ "$(nd_metric 'notifyd_answered_total')" -eq 6 ] || bed_die "answered != 6"
# A refused signed NOTIFY names the key it was signed with (the one the operator must check).
grep -q 'event=notify zone=signed.test. serial=15 .*outcome=badsig .*key=k1\. ' "$BED_T/notifyd.out" ||
	bed_die "badsig log without its key: $(grep 'serial=15 ' "$BED_T/notifyd.out")"
grep -q 'event=notify zone=signed.test. serial=14 .*outcome=badkey .*key=k9\. ' "$BED_T/notifyd.out" ||
	bed_die "badkey log without its key: $(grep 'serial=14 ' "$BED_T/notifyd.out")"
# notify_summary (every 10 s) only while there is traffic: one line covers the NOTIFYs
# above, then nothing while nothing comes.
total=$(curl -sf "http://127.0.0.1:$ND_HTTP/metrics" | awk '/^notifyd_requests_total/ {s += $2} END {print s}')
bed_wait_for 12 grep -q "event=notify_summary messages=$total " "$BED_T/notifyd.out" ||
	bed_die "no notify_summary of the $total messages: $(grep 'event=notify_summary' "$BED_T/notifyd.out")"
n=$(grep -c 'event=notify_summary' "$BED_T/notifyd.out")
sleep 21
[ "$(grep -c 'event=notify_summary' "$BED_T/notifyd.out")" = "$n" ] ||
	bed_die "notify_summary without traffic: $(grep 'event=notify_summary' "$BED_T/notifyd.out")"
bed_log "PASS"
