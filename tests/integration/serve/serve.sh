#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/serve/serve.sh -- xfrd's DNS endpoint (xfrd/serve/serve.h) against
# kdig, dig and a knotd secondary, on a store written through the zdb API by
# serve_tool (load = one AXFR, diff = one IXFR):
#   SOA over UDP and TCP (aa), AXFR equal to the zone file, IXFR=old in IXFR
#   format equal to the difference, IXFR=current a single SOA, a journal-less
#   serial an AXFR-style answer; TSIG-signed AXFR with kdig -y, unsigned or
#   wrongly signed refused, a source outside the ACL (kdig -b 127.0.0.2)
#   REFUSED, an unknown zone NOTAUTH; then knotd as a secondary of our endpoint
#   (TSIG) transfers the zone and follows a chain of 10 IXFR changes
#   (knotc zone-refresh), its copy equal to ours; then named joins as a second
#   secondary and both follow 2 more changes by IXFR (rndc refresh).
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-24000 24399} # 24400-24499: test_serve
. "$ZX_SRC/tests/bed/primary.sh" # lib.sh, and _primary_named_bin for AppArmor hosts
bed_init serve

tool=$ZX_BUILD/tests/integration/serve/serve_tool
[ -x "$tool" ] || bed_skip "$tool not built"
zonegen=$(bed_tool zonegen)
for c in kdig dig knotd knotc named rndc ldns-read-zone; do
	command -v "$c" >/dev/null || bed_skip "$c missing"
done

bed_ports 4 port knot_port bind_port bind_ctl
zone=serve.test
szone=signed.test
key=$(head -c 32 /dev/urandom | base64)
other=$(head -c 32 /dev/urandom | base64)
store=$BED_T/store

# zonegen ZONE SERIAL [EDIT-SEED]: the base zone (serial 1) or an edited one.
gen()
{
	local z=$1 s=$2 e=${3:-}
	if [ -z "$e" ]; then
		"$zonegen" -z "$z" -n 2000 -s 7 -S "$s" -o "$BED_T/$z.$s.db"
	else
		"$zonegen" -z "$z" -n 2000 -s 7 -S "$s" --change 4 --delete 2 --add 3 \
			--edit-seed "$e" -o "$BED_T/$z.$s.db"
	fi
}
gen "$zone" 1
gen "$szone" 1
"$tool" load "$store" "$BED_T/$zone.1.db" || bed_die "load $zone"
"$tool" load "$store" "$BED_T/$szone.1.db" || bed_die "load $szone"

cat >"$BED_T/zx.yaml" <<YAML
log: { level: info }
keys:
  - { name: zx-key, algorithm: hmac-sha256, secret: "$key" }
  - { name: other-key, algorithm: hmac-sha256, secret: "$other" }
xfrd:
  store: $store
  listen: [ "127.0.0.1@$port", "[::1]:$port" ]
  serve: { allow: [ "127.0.0.1/32", "::1" ] }
zones:
  - name: $szone
    primaries: [ "192.0.2.1@53" ]
    serve: { allow: [ "127.0.0.1/32" ], keys: [ zx-key ] }
YAML
bed_spawn serve_tool "$tool" serve "$BED_T/zx.yaml"
serve_pid=$BED_PID
bed_wait_for 10 kdig @127.0.0.1 -p "$port" +time=1 +retry=0 SOA "$zone" ||
	bed_die "serve_tool does not answer: $(cat "$BED_T/serve_tool.out")"

KDIG=(kdig @127.0.0.1 -p "$port" +time=3 +retry=0)
ykey="hmac-sha256:zx-key:$key"

# rcode_of ARGS...: the status of a kdig query.
rcode_of()
{
	"${KDIG[@]}" "$@" 2>&1 | sed -n -e 's/.*status: \([A-Z]*\).*/\1/p' \
		-e "s/.*server replied with error '\([A-Z]*\)'.*/\1/p" | head -1
}

# SOA over UDP and TCP, authoritative.
for t in +notcp +tcp; do
	out=$(dig @127.0.0.1 -p "$port" $t +norec SOA "$zone")
	grep -q 'status: NOERROR' <<<"$out" || bed_die "dig SOA $t: $out"
	grep -q 'flags: qr aa' <<<"$out" || bed_die "dig SOA $t: not authoritative: $out"
	[ "$(dig @127.0.0.1 -p "$port" $t +short SOA "$zone" | awk '{print $3}')" = 1 ] ||
		bed_die "dig SOA $t: serial"
done
bed_log "SOA over UDP and TCP: ok"

# AXFR equals the zone file.
bed_zone_canon "$BED_T/$zone.1.db" >"$BED_T/zone1.canon"
bed_axfr 127.0.0.1 "$port" "$zone" >"$BED_T/axfr1" || bed_die "AXFR failed"
bed_zone_compare "$BED_T/zone1.canon" "$BED_T/axfr1" || bed_die "AXFR differs from the zone"
bed_log "AXFR of $(wc -l <"$BED_T/axfr1") RRs equals the zone file"

# TSIG: unsigned REFUSED, signed with the zone's key served and verified by kdig,
# another known key REFUSED, a wrong secret NOTAUTH (BADSIG), an unknown key NOTAUTH (BADKEY);
# kdig shows the TSIG error as the status.
[ "$(rcode_of +tcp AXFR "$szone")" = REFUSED ] || bed_die "unsigned AXFR of $szone not REFUSED"
bed_zone_canon "$BED_T/$szone.1.db" >"$BED_T/szone1.canon"
bed_axfr 127.0.0.1 "$port" "$szone" "$ykey" >"$BED_T/saxfr1" || bed_die "signed AXFR failed"
bed_zone_compare "$BED_T/szone1.canon" "$BED_T/saxfr1" || bed_die "signed AXFR differs"
[ "$(rcode_of -y "hmac-sha256:other-key:$other" SOA "$szone")" = REFUSED ] ||
	bed_die "a key the zone does not take was not REFUSED"
out=$("${KDIG[@]}" -y "hmac-sha256:zx-key:$other" SOA "$szone" 2>&1 || true)
grep -q 'status: BADSIG' <<<"$out" || bed_die "wrong secret: $out"
out=$("${KDIG[@]}" -y "hmac-sha256:nokey:$key" SOA "$szone" 2>&1 || true)
grep -q 'status: BADKEY' <<<"$out" || bed_die "unknown key: $out"
bed_log "TSIG: unsigned/other key REFUSED, BADSIG, BADKEY, signed AXFR equal"

# ACL: 127.0.0.2 is outside allow (for names below the apex too); an unknown zone is NOTAUTH.
[ "$(rcode_of -b 127.0.0.2 SOA "$zone")" = REFUSED ] || bed_die "source 127.0.0.2 not REFUSED"
[ "$(rcode_of -b 127.0.0.2 +tcp AXFR "$zone")" = REFUSED ] || bed_die "AXFR from 127.0.0.2 not REFUSED"
[ "$(rcode_of -b 127.0.0.2 "www0.$zone" A)" = REFUSED ] || bed_die "a name below the apex from 127.0.0.2 not REFUSED"
[ "$(rcode_of -y "hmac-sha256:other-key:$other" "www0.$szone" A)" = REFUSED ] ||
	bed_die "a name below $szone's apex with a key the zone does not take was not REFUSED"
[ "$(rcode_of SOA nowhere.test)" = NOTAUTH ] || bed_die "unknown zone not NOTAUTH"
[ "$(rcode_of NS "$zone")" = NOERROR ] || bed_die "apex NS"
[ "$("${KDIG[@]}" +short NS "$zone" | wc -l)" -ge 1 ] || bed_die "apex NS empty"
# IPv6: served from ::1 (allowed by xfrd.serve), but not the zone whose own allow lacks it.
out=$(kdig @::1 -p "$port" +time=3 +retry=0 SOA "$zone" 2>&1)
grep -q 'status: NOERROR' <<<"$out" || bed_die "SOA over IPv6: $out"
out=$(kdig @::1 -p "$port" +time=3 +retry=0 +tcp -y "$ykey" SOA "$szone" 2>&1)
grep -q 'status: REFUSED' <<<"$out" || bed_die "$szone from ::1 not REFUSED: $out"
bed_log "ACL REFUSED, unknown zone NOTAUTH, apex NS answered, IPv6 served and filtered"

# IXFR: one change in the store, then IXFR=1 is the difference in IXFR format.
gen "$zone" 2 1
"$tool" diff "$store" "$BED_T/$zone.1.db" "$BED_T/$zone.2.db" || bed_die "diff"
"${KDIG[@]}" +noall +answer IXFR=1 "$zone" >"$BED_T/ixfr" || bed_die "IXFR=1 failed"
awk '$4 == "SOA" { printf "%s ", $7 } END { print "" }' "$BED_T/ixfr" >"$BED_T/ixfr.soas"
[ "$(cat "$BED_T/ixfr.soas")" = "2 1 2 2 " ] || bed_die "IXFR SOA sequence: $(cat "$BED_T/ixfr.soas")"
bed_zone_canon "$BED_T/$zone.2.db" >"$BED_T/z2.canon"
dels=$(LC_ALL=C comm -23 "$BED_T/zone1.canon" "$BED_T/z2.canon" | grep -vc 'SOA' || true)
adds=$(LC_ALL=C comm -13 "$BED_T/zone1.canon" "$BED_T/z2.canon" | grep -vc 'SOA' || true)
[ "$(grep -vc 'SOA' "$BED_T/ixfr")" = $((dels + adds)) ] ||
	bed_die "IXFR has $(grep -vc SOA "$BED_T/ixfr") RRs, want $dels + $adds"
[ "$dels" -gt 0 ] && [ "$adds" -gt 0 ] || bed_die "the change is empty"
[ "$("${KDIG[@]}" +noall +answer IXFR=2 "$zone" | grep -c .)" = 1 ] || bed_die "IXFR=2 not one SOA"
bed_axfr 127.0.0.1 "$port" "$zone" >"$BED_T/axfr2" || bed_die "AXFR 2 failed"
bed_zone_compare "$BED_T/z2.canon" "$BED_T/axfr2" || bed_die "AXFR after the IXFR differs"
n=$("${KDIG[@]}" +noall +answer IXFR=2000000000 "$zone" | grep -c .)
[ "$n" = 1 ] || bed_die "IXFR from a newer serial: $n RRs, want one SOA"
"${KDIG[@]}" +noall +answer IXFR=4000000000 "$zone" >"$BED_T/ixfr_axfr" || bed_die "IXFR=4000000000 failed"
bed_zone_canon "$BED_T/ixfr_axfr" >"$BED_T/ixfr_axfr.canon"
bed_zone_compare "$BED_T/z2.canon" "$BED_T/ixfr_axfr.canon" ||
	bed_die "IXFR beyond the journal is not the AXFR-style zone"
out=$(kdig @127.0.0.1 -p "$port" +notcp +noall +answer IXFR=1 "$zone" 2>&1)
[ "$(grep -c SOA <<<"$out")" = 1 ] || bed_die "IXFR over UDP: $out"
bed_log "IXFR: difference ($dels deleted, $adds added), single SOA when current, AXFR-style fallback"

# knotd as a secondary of our endpoint, TSIG, following 10 IXFR changes.
kd=$BED_T/knot
mkdir -p "$kd/db"
cat >"$kd/knot.conf" <<KNOT
server:
    rundir: "$kd"
    listen: 127.0.0.1@$knot_port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$(bed_sock knot.sock)"
database:
    storage: "$kd/db"
log:
  - target: "$kd/knotd.log"
    any: info
key:
  - id: zx-key
    algorithm: hmac-sha256
    secret: $key
acl:
  - id: local
    address: 127.0.0.0/8
    action: transfer
remote:
  - id: zx
    address: 127.0.0.1@$port
    key: zx-key
template:
  - id: default
    storage: "$kd"
    zonefile-sync: -1
    journal-content: changes
    semantic-checks: off
zone:
  - domain: $szone
    master: zx
    acl: local
KNOT
bed_spawn knotd knotd -c "$kd/knot.conf"
ksoa() { kdig @127.0.0.1 -p "$knot_port" +short +time=1 +retry=0 SOA "$szone" 2>/dev/null | awk '{print $3}'; }
knot_has() { [ "$(ksoa)" = "$1" ]; }
bed_wait_for 20 knot_has 1 || bed_die "knotd did not transfer $szone: $(tail -5 "$kd/knotd.log")"
kaxfr() { bed_axfr 127.0.0.1 "$knot_port" "$szone" >"$1"; }
bed_log "knotd holds $szone serial 1"
prev=1
for s in $(seq 2 11); do
	gen "$szone" "$s" "$s"
	"$tool" diff "$store" "$BED_T/$szone.$prev.db" "$BED_T/$szone.$s.db" || bed_die "diff $s"
	knotc -s "$(bed_sock knot.sock)" zone-refresh "$szone" >/dev/null || bed_die "knotc zone-refresh"
	bed_wait_for 20 knot_has "$s" || bed_die "knotd did not follow to $s: $(tail -5 "$kd/knotd.log")"
	prev=$s
done
ixfrs=$(grep -c "IXFR, incoming, remote 127.0.0.1@$port.*finished" "$kd/knotd.log" || true)
[ "$ixfrs" -ge 10 ] || bed_die "knotd logged $ixfrs IXFRs, want 10: $(grep -i xfr "$kd/knotd.log" | tail -5)"
if grep -q "fallback to AXFR" "$kd/knotd.log"; then
	bed_die "knotd fell back to AXFR: $(grep -B2 'fallback to AXFR' "$kd/knotd.log" | head -6)"
fi
kaxfr "$BED_T/knot.canon" || bed_die "AXFR from knotd failed"
bed_axfr 127.0.0.1 "$port" "$szone" "$ykey" >"$BED_T/ours.canon" || bed_die "our AXFR"
bed_zone_compare "$BED_T/ours.canon" "$BED_T/knot.canon" || bed_die "knotd's copy differs from ours"
bed_zone_canon "$BED_T/$szone.11.db" >"$BED_T/s11.canon"
bed_zone_compare "$BED_T/s11.canon" "$BED_T/ours.canon" || bed_die "our zone differs from the file"
bed_log "knotd followed 10 changes ($ixfrs IXFRs logged), its copy equals ours"

# named as a second secondary: AXFR at serial 11, then both follow two changes.
bd=$BED_T/bind
mkdir -p "$bd"
rndc_secret=$(head -c 32 /dev/urandom | base64)
cat >"$bd/named.conf" <<BIND
key "zx-key" { algorithm hmac-sha256; secret "$key"; };
key "rndc-key" { algorithm hmac-sha256; secret "$rndc_secret"; };
controls { inet 127.0.0.1 port $bind_ctl allow { 127.0.0.1; } keys { "rndc-key"; }; };
options {
    directory "$bd";
    pid-file "$bd/named.pid";
    session-keyfile "$bd/session.key";
    managed-keys-directory "$bd";
    listen-on port $bind_port { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer { 127.0.0.0/8; };
};
logging { channel f { file "$bd/named.log"; severity info; print-time yes; };
    category default { f; }; category xfer-in { f; }; };
zone "$szone" { type secondary; primaries { 127.0.0.1 port $port key "zx-key"; }; file "$bd/$szone.db"; };
BIND
cat >"$bd/rndc.conf" <<RNDC
key "rndc-key" { algorithm hmac-sha256; secret "$rndc_secret"; };
options { default-key "rndc-key"; default-server 127.0.0.1; default-port $bind_ctl; };
RNDC
bed_spawn named "$(_primary_named_bin "$bd")" -f -c "$bd/named.conf"
bsoa() { kdig @127.0.0.1 -p "$bind_port" +short +time=1 +retry=0 SOA "$szone" 2>/dev/null | awk '{print $3}'; }
bind_has() { [ "$(bsoa)" = "$1" ]; }
bed_wait_for 30 bind_has 11 || bed_die "named did not transfer $szone: $(tail -5 "$bd/named.log")"
for s in 12 13; do
	gen "$szone" "$s" "$s"
	"$tool" diff "$store" "$BED_T/$szone.$prev.db" "$BED_T/$szone.$s.db" || bed_die "diff $s"
	knotc -s "$(bed_sock knot.sock)" zone-refresh "$szone" >/dev/null || bed_die "knotc zone-refresh"
	rndc -c "$bd/rndc.conf" refresh "$szone" >/dev/null || bed_die "rndc refresh"
	bed_wait_for 20 knot_has "$s" || bed_die "knotd did not follow to $s"
	bed_wait_for 20 bind_has "$s" || bed_die "named did not follow to $s: $(tail -5 "$bd/named.log")"
	prev=$s
done
bed_axfr 127.0.0.1 "$port" "$szone" "$ykey" >"$BED_T/ours13.canon" || bed_die "our AXFR"
kaxfr "$BED_T/knot13.canon" || bed_die "AXFR from knotd failed"
bed_axfr 127.0.0.1 "$bind_port" "$szone" >"$BED_T/bind13.canon" || bed_die "AXFR from named failed"
bed_zone_compare "$BED_T/ours13.canon" "$BED_T/knot13.canon" || bed_die "knotd differs at 13"
bed_zone_compare "$BED_T/ours13.canon" "$BED_T/bind13.canon" || bed_die "named differs at 13"
# named logs no transfer type: an IXFR is the transfer of 30-odd records, not 2007.
bixfr=$(grep -E "from 127.0.0.1#$port: Transfer completed: 1 messages, [0-9]{1,2} records" \
	"$bd/named.log" | grep -c 'serial 1[23])' || true)
[ "$bixfr" = 2 ] || bed_die "named did not use IXFR: $(grep -i 'completed' "$bd/named.log" | tail -5)"
bed_log "named and knotd followed 2 more changes by IXFR; both copies equal ours"

# Stop: the metrics the tool prints count what was served.
kill -TERM "$serve_pid"
for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
grep -q '^xfrd_serve_transfers_total{method="ixfr"} [1-9]' "$BED_T/serve_tool.out" ||
	bed_die "no IXFR counted: $(grep serve_transfers "$BED_T/serve_tool.out")"
grep -q 'event=serve_xfr .*method=ixfr .*outcome=ok' "$BED_T/serve_tool.out" ||
	bed_die "no serve_xfr log line"
bed_log "PASS"
