#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/xot/bind_primary.sh -- xfrd fetches zones over TLS (RFC 9103) from
# BIND 9.18 (`tls` block, `listen-on port P tls`), TSIG inside the TLS session, with
# certificates this test makes with openssl:
#   1. strict (CA file + auth-name): the first AXFR over TLS, equal to the primary's
#   2. strict, after a change: the SOA query and the IXFR over TLS on one connection
#      (one handshake: the IXFR reuses the SOA query's session)
#   3. pin (SPKI SHA-256): the IXFR
#   4. wrong CA, wrong auth-name, wrong pin: refused, each naming its check, zone kept
#   5. an expired certificate (strict, and pinned): refused as expired, zone kept
#   6. a server that only speaks TLS 1.2 (openssl s_server: BIND with `protocols {
#      TLSv1.2; }` closes without an alert, which reads as a plain handshake failure):
#      refused as protocol_version
#   7. mutual TLS: without a client certificate refused, with one the IXFR
#   8. opportunistic: the IXFR (nothing verified, still encrypted: plain TCP to the
#      TLS port fails)
#   9. the service (--standalone), the expired primary first: refreshes fail there and
#      move on to the good one over TLS, resuming the session; /metrics counts
#      handshakes, failures by primary and reason, and the seconds to notAfter
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/xot/lib.sh"
bed_init xot_bind
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || bed_skip "named missing"
command -v openssl >/dev/null 2>&1 || bed_skip "openssl missing"
[ -x "$ZX_BUILD/xfrd/xfrd" ] || bed_skip "xfrd not built"

zone=xot-bind.test
name=primary.xot.test
secret=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$secret"
bed_ports 9 port tls port2 tls2 port3 tls3 tls4 http dns
c=$BED_T/certs
mkdir -p "$c"
xot_ca "$c" ca
xot_ca "$c" other-ca
xot_cert "$c" ca srv "$name"
xot_cert "$c" ca old "$name" 20200101000000Z 20210101000000Z
xot_cert "$c" ca client xfrd.xot.test
pin=$(xot_pin "$c/srv.pem")
otherpin=$(xot_pin "$c/client.pem")
oldpin=$(xot_pin "$c/old.pem")

"$(bed_tool zonegen)" -z "$zone" -n 3000 -s 3 -S 100 -o "$BED_T/zone.db"
export ZX_STORE_SYNC=none
PRIMARY_TLS_PORT=$tls PRIMARY_TLS_CERT=$c/srv.pem PRIMARY_TLS_KEY=$c/srv.key \
	primary_start bind p1 "$port" "$zone" "$BED_T/zone.db" "$key"
PRIMARY_TLS_PORT=$tls2 PRIMARY_TLS_CERT=$c/old.pem PRIMARY_TLS_KEY=$c/old.key \
	primary_start bind p2 "$port2" "$zone" "$BED_T/zone.db" "$key"
PRIMARY_TLS_PORT=$tls3 PRIMARY_TLS_CERT=$c/srv.pem PRIMARY_TLS_KEY=$c/srv.key \
	PRIMARY_TLS_CA=$c/ca.pem primary_start bind p3 "$port3" "$zone" "$BED_T/zone.db" "$key"
bed_spawn tls12 openssl s_server -tls1_2 -cert "$c/srv.pem" -key "$c/srv.key" \
	-accept "127.0.0.1:$tls4" -quiet
bed_wait_for 10 bash -c "ss -Htln 'sport = :$tls4' | grep -q ." || bed_die "s_server not listening"

# conf FILE TLSPORT TLS_YAML [EXTRA_ZONE] [EXTRA_XFRD]: one zone, one primary over TLS
conf()
{
	cat >"$1" <<YAML
keys:
  - { name: xfr-key, algorithm: hmac-sha256, secret: "$secret" }
xfrd:
  store: $BED_T/store
  store-size: 512M
  timeouts: { connect: 2s, read: 5s, transfer: 60s, soa: 2s }
${5:-}
zones:
  - name: $zone
    key: xfr-key
    primaries: [ { address: "127.0.0.1@$2", tls: $3 } ]
${4:-}
YAML
}

run() # CONF: one pass of xfrd --once; the outcome line in $last
{
	local rc=0
	timeout 120 "$ZX_BUILD/xfrd/xfrd" -c "$1" --once >"$BED_T/run.log" 2>&1 || rc=$?
	cat "$BED_T/run.log" >>"$BED_T/xfrd.log"
	last=$(grep -E 'event=xfr_(done|uptodate|failed)' "$BED_T/run.log" | tail -1 || true)
	return $rc
}

expect() # STEP PATTERN
{
	echo "$last" | grep -Eq "$2" || bed_die "$1: expected /$2/, got: $last"
	bed_log "$1: $last"
}

refused() # STEP CONF REASON DETAIL_PATTERN: the refresh fails so, the zone stays at $held
{
	if run "$2"; then
		bed_die "$1: transferred: $last"
	fi
	expect "$1" "event=xfr_failed .*detail=\"?tls 127.0.0.1@[0-9]+: $4.* tls=failed tls_reason=$3"
	"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" zones >"$BED_T/zones.txt" ||
		bed_die "$1: xfrctl zones failed"
	grep -Eq "^$zone\.? .* $held( |$)" "$BED_T/zones.txt" ||
		bed_die "$1: the zone is not kept at serial $held: $(cat "$BED_T/zones.txt")"
}

same() # STEP: the stored zone equals the primary's AXFR
{
	"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" dump "$zone" >"$BED_T/$1.dump" ||
		bed_die "$1: xfrctl dump failed"
	bed_zone_canon "$BED_T/$1.dump" >"$BED_T/$1.ours"
	primary_axfr p1 >"$BED_T/$1.theirs"
	bed_zone_compare "$BED_T/$1.theirs" "$BED_T/$1.ours" || bed_die "$1: zone differs"
}

change() # every primary to the same new serial
{
	local p
	for p in p1 p2 p3; do
		primary_change "$p" 2 1 1 "$1"
	done
}

strict="{ mode: strict, ca-file: $c/ca.pem, auth-name: $name }"
conf "$BED_T/strict.yaml" "$tls" "$strict"
run "$BED_T/strict.yaml" || bed_die "AXFR over TLS failed: $last"
expect strict_axfr "event=xfr_done .*kind=axfr .*serial=100 .*primary=127.0.0.1@$tls .*tls=full"
same strict_axfr

change 101
run "$BED_T/strict.yaml" || bed_die "IXFR over TLS failed: $last"
expect strict_ixfr "event=xfr_done .*kind=ixfr old_serial=100 serial=101 .*conn=reused .*tls=full"
same strict_ixfr

change 102
conf "$BED_T/pin.yaml" "$tls" "{ mode: pin, pin-sha256: [ \"$otherpin\", \"$pin\" ] }"
run "$BED_T/pin.yaml" || bed_die "IXFR over TLS, pinned, failed: $last"
expect pin_ixfr "event=xfr_done .*kind=ixfr old_serial=101 serial=102 "
held=102

change 103
conf "$BED_T/wrong_ca.yaml" "$tls" "{ mode: strict, ca-file: $c/other-ca.pem, auth-name: $name }"
refused wrong_ca "$BED_T/wrong_ca.yaml" untrusted "certificate verify failed: unable to get local issuer certificate"
conf "$BED_T/wrong_name.yaml" "$tls" "{ mode: strict, ca-file: $c/ca.pem, auth-name: other.xot.test }"
refused wrong_name "$BED_T/wrong_name.yaml" name "certificate verify failed: hostname mismatch \\(auth-name other.xot.test"
conf "$BED_T/wrong_pin.yaml" "$tls" "{ mode: pin, pin-sha256: [ \"$otherpin\" ] }"
refused wrong_pin "$BED_T/wrong_pin.yaml" pin "pin mismatch: the server's key is pin-sha256 "
echo "$last" | grep -qF "pin-sha256 $pin, not one of the 1 configured" ||
	bed_die "wrong_pin: the server's pin $pin is not named: $last"
conf "$BED_T/expired.yaml" "$tls2" "$strict"
refused expired "$BED_T/expired.yaml" expired "certificate verify failed: certificate has expired"
conf "$BED_T/expired_pin.yaml" "$tls2" "{ mode: pin, pin-sha256: [ \"$oldpin\" ] }"
refused expired_pin "$BED_T/expired_pin.yaml" expired "certificate has expired"
conf "$BED_T/tls12.yaml" "$tls4" "$strict"
refused tls12 "$BED_T/tls12.yaml" protocol_version "TLS handshake: .*\\(TLS 1.3 required\\)"
conf "$BED_T/no_client.yaml" "$tls3" "$strict"
refused mtls_no_cert "$BED_T/no_client.yaml" handshake "the server ended the session before its first answer \\(a client certificate missing or refused\\?\\)"

mtls="{ mode: strict, ca-file: $c/ca.pem, auth-name: $name, cert-file: $c/client.pem, key-file: $c/client.key }"
conf "$BED_T/mtls.yaml" "$tls3" "$mtls"
run "$BED_T/mtls.yaml" || bed_die "IXFR over mutual TLS failed: $last"
expect mtls "event=xfr_done .*kind=ixfr old_serial=102 serial=103 .*primary=127.0.0.1@$tls3 .*tls=full"

change 104
conf "$BED_T/opp.yaml" "$tls" "{ mode: opportunistic }"
run "$BED_T/opp.yaml" || bed_die "IXFR over opportunistic TLS failed: $last"
expect opportunistic "event=xfr_done .*kind=ixfr old_serial=103 serial=104 .*tls=full"
if kdig @127.0.0.1 -p "$tls" +tcp +time=2 +retry=0 -y "$key" AXFR "$zone" 2>&1 |
	grep -q "IN.*SOA"; then
	bed_die "the TLS port answered an AXFR in clear text"
fi

# the service: refreshes every 3 s, longer than a kept connection lives (2 s): each
# refresh connects anew and resumes the TLS session
# (the primary with the expired certificate first: each refresh fails there, counted,
# and moves on to the good one)
conf "$BED_T/service.yaml" "$tls2" "$strict" "      - { address: \"127.0.0.1@$tls\", tls: $strict }
    refresh: { min: 3s, max: 3s }" "  http: 127.0.0.1@$http
  listen: [ 127.0.0.1@$dns ]"
sed -i 's/^    primaries: \[ \(.*\) \]$/    primaries:\n      - \1/' "$BED_T/service.yaml"
change 105
bed_spawn xfrd "$ZX_BUILD/xfrd/xfrd" -c "$BED_T/service.yaml" --standalone
metrics() { curl -fsS "http://127.0.0.1:$http/metrics"; }
resumed() { metrics | grep -Eq "^xfrd_xfr_tls_handshakes_total\{primary=\"127.0.0.1@$tls\",resumed=\"yes\"\} [1-9]"; }
has_serial() { kdig @127.0.0.1 -p "$dns" +short SOA "$zone" | grep -q " 105 "; }
bed_wait_for 30 has_serial || bed_die "the service did not fetch serial 105: $(tail -5 "$BED_T/xfrd.out")"
bed_wait_for 30 resumed || bed_die "no resumed TLS session: $(metrics | grep tls)"
metrics >"$BED_T/metrics.txt"
grep -Eq "^xfrd_xfr_tls_handshakes_total\{primary=\"127.0.0.1@$tls\",resumed=\"no\"\} [1-9]" \
	"$BED_T/metrics.txt" || bed_die "no full handshake counted"
grep -Eq "^xfrd_xfr_tls_failures_total\{primary=\"127.0.0.1@$tls2\",reason=\"expired\"\} [1-9]" \
	"$BED_T/metrics.txt" || bed_die "the expired certificate's failures not counted"
grep -Eq "^xfrd_xfr_tls_failures_total\{primary=\"127.0.0.1@$tls\",reason=\"expired\"\} 0" \
	"$BED_T/metrics.txt" || bed_die "failures counted on the wrong primary"
exp=$(awk -v p="127.0.0.1@$tls" '$1 == "xfrd_xfr_tls_cert_expiry_seconds{primary=\"" p "\"}" { print $2 }' \
	"$BED_T/metrics.txt")
[ -n "$exp" ] && [ "$exp" -gt $((29 * 86400)) ] && [ "$exp" -le $((30 * 86400)) ] ||
	bed_die "cert expiry seconds: '$exp' (30 days expected)"
bed_log "metrics: $(grep -E '^xfrd_xfr_tls' "$BED_T/metrics.txt" | tr '\n' ' ')"
bed_log PASS
