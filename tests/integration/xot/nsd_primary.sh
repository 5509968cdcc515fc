#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/xot/nsd_primary.sh -- NSD 4.6 as an XoT primary: Debian's NSD 4.6.1
# serves AXFR and IXFR on its DNS-over-TLS port (tls-service-key/-pem, tls-port), TSIG
# inside. xfrd fetches over TLS, strict (CA + auth-name), then pinned:
#   1. the first AXFR over TLS, equal to the primary's
#   2. after a change, pinned: the SOA query and the transfer over TLS
#   3. a wrong auth-name: refused (name), the zone kept
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/xot/lib.sh"
bed_init xot_nsd
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || bed_skip "nsd missing"
command -v openssl >/dev/null 2>&1 || bed_skip "openssl missing"
[ -x "$ZX_BUILD/xfrd/xfrd" ] || bed_skip "xfrd not built"

zone=xot-nsd.test
name=nsd.xot.test
secret=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$secret"
bed_ports 2 port tls
c=$BED_T/certs
mkdir -p "$c"
xot_ca "$c" ca
xot_cert "$c" ca srv "$name"
pin=$(xot_pin "$c/srv.pem")
"$(bed_tool zonegen)" -z "$zone" -n 2000 -s 3 -S 100 -o "$BED_T/zone.db"
export ZX_STORE_SYNC=none
PRIMARY_TLS_PORT=$tls PRIMARY_TLS_CERT=$c/srv.pem PRIMARY_TLS_KEY=$c/srv.key \
	primary_start nsd p1 "$port" "$zone" "$BED_T/zone.db" "$key"
bed_wait_for 10 bash -c "ss -Htln 'sport = :$tls' | grep -q ." || bed_die "NSD's TLS port not listening"

conf() # FILE TLS_YAML
{
	cat >"$1" <<YAML
keys:
  - { name: xfr-key, algorithm: hmac-sha256, secret: "$secret" }
xfrd:
  store: $BED_T/store
  store-size: 256M
  timeouts: { connect: 2s, read: 5s, transfer: 60s, soa: 2s }
zones:
  - name: $zone
    key: xfr-key
    primaries: [ { address: "127.0.0.1@$tls", tls: $2 } ]
YAML
}
run()
{
	local rc=0
	timeout 120 "$ZX_BUILD/xfrd/xfrd" -c "$1" --once >"$BED_T/run.log" 2>&1 || rc=$?
	cat "$BED_T/run.log" >>"$BED_T/xfrd.log"
	last=$(grep -E 'event=xfr_(done|uptodate|failed)' "$BED_T/run.log" | tail -1 || true)
	return $rc
}
expect()
{
	echo "$last" | grep -Eq "$2" || bed_die "$1: expected /$2/, got: $last"
	bed_log "$1: $last"
}
same()
{
	"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" dump "$zone" >"$BED_T/$1.dump" ||
		bed_die "$1: xfrctl dump failed"
	bed_zone_canon "$BED_T/$1.dump" >"$BED_T/$1.ours"
	primary_axfr p1 >"$BED_T/$1.theirs"
	bed_zone_compare "$BED_T/$1.theirs" "$BED_T/$1.ours" || bed_die "$1: zone differs"
}

conf "$BED_T/strict.yaml" "{ ca-file: $c/ca.pem, auth-name: $name }"
run "$BED_T/strict.yaml" || bed_die "AXFR over TLS from NSD failed: $last"
expect strict "event=xfr_done .*kind=axfr .*serial=100 .*primary=127.0.0.1@$tls .*tls=full"
same strict

primary_change p1 2 1 1
conf "$BED_T/pin.yaml" "{ mode: pin, pin-sha256: [ \"$pin\" ] }"
run "$BED_T/pin.yaml" || bed_die "transfer over TLS from NSD, pinned, failed: $last"
# NSD 4.6 diffs re-add unchanged apex records (FIELD-NOTES): IXFR or its AXFR fallback
expect pin "event=xfr_done .*kind=(ixfr|axfr) old_serial=100 serial=101 .*tls=full"
same pin

primary_change p1 1 0 0
conf "$BED_T/name.yaml" "{ ca-file: $c/ca.pem, auth-name: other.xot.test }"
if run "$BED_T/name.yaml"; then
	bed_die "transferred with a wrong auth-name: $last"
fi
expect wrong_name "event=xfr_failed .*hostname mismatch .*tls=failed tls_reason=name"
"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" zones | grep -Eq "^$zone\.? .* 101( |$)" ||
	bed_die "the zone is not kept at serial 101"
bed_log PASS
