#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/xot/serve.sh -- XFR over TLS out of xfrd's DNS endpoint (RFC 9103):
# xfrd (--standalone) fetches two zones from Knot primaries and serves them on
# xfrd.serve.tls; one zone requires TLS (TSIG too), the other a client certificate.
#   1. kdig +tls with the CA and the name (strict), and with the pin: the AXFR equals
#      the primary's
#   2. the same AXFR over plain TCP: REFUSED (the SOA query still answers)
#   3. the client-cert zone: over TLS without a certificate REFUSED, with kdig's
#      client certificate (+tls-certfile/+tls-keyfile) the AXFR
#   4. BIND 9.18 as a secondary of xfrd: `primaries { 127.0.0.1 port P key K tls NAME; }`
#      with ca-file and remote-hostname: it loads the zone over TLS
#   5. SIGHUP with a new certificate in the files: new connections get it (the new pin
#      verifies, the old one fails); /metrics counts the reload
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/xot/lib.sh"
bed_init xot_serve
for b in knotd named kdig openssl curl; do
	command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || bed_skip "$b missing"
done
[ -x "$ZX_BUILD/xfrd/xfrd" ] || bed_skip "xfrd not built"

z1=xot-out.test
z2=xot-mtls.test
name=xfrd.xot.test
secret=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$secret"
bed_ports 7 p1port p2port dns dot http bport bctl
c=$BED_T/certs
mkdir -p "$c"
xot_ca "$c" ca
xot_cert "$c" ca srv "$name"
xot_cert "$c" ca srv2 "$name"
xot_cert "$c" ca client client.xot.test
cp "$c/srv.pem" "$c/serve.pem"
cp "$c/srv.key" "$c/serve.key"
pin=$(xot_pin "$c/srv.pem")
pin2=$(xot_pin "$c/srv2.pem")

export ZX_STORE_SYNC=none
"$(bed_tool zonegen)" -z "$z1" -n 3000 -s 3 -S 100 -o "$BED_T/z1.db"
"$(bed_tool zonegen)" -z "$z2" -n 500 -s 4 -S 7 -o "$BED_T/z2.db"
primary_start knot k1 "$p1port" "$z1" "$BED_T/z1.db" "$key"
primary_start knot k2 "$p2port" "$z2" "$BED_T/z2.db" "$key"

cat >"$BED_T/xfrd.yaml" <<YAML
keys:
  - { name: xfr-key, algorithm: hmac-sha256, secret: "$secret" }
xfrd:
  store: $BED_T/store
  store-size: 256M
  listen: [ 127.0.0.1@$dns ]
  http: 127.0.0.1@$http
  serve:
    tls: { listen: [ 127.0.0.1@$dot ], cert-file: $c/serve.pem, key-file: $c/serve.key,
           ca-file: $c/ca.pem }
zones:
  - name: $z1
    key: xfr-key
    primaries: [ 127.0.0.1@$p1port ]
    serve: { allow: [ 127.0.0.0/8 ], keys: [ xfr-key ], require-tls: yes }
  - name: $z2
    key: xfr-key
    primaries: [ 127.0.0.1@$p2port ]
    serve: { allow: [ 127.0.0.0/8 ], require-tls: client-cert }
YAML
bed_spawn xfrd "$ZX_BUILD/xfrd/xfrd" -c "$BED_T/xfrd.yaml" --standalone
XFRD_PID=$BED_PID
serves() { kdig @127.0.0.1 -p "$dns" -y "$key" +short SOA "$1" | grep -q " $2 "; }
bed_wait_for 30 serves "$z1" 100 || bed_die "xfrd did not fetch $z1: $(tail -5 "$BED_T/xfrd.out")"
bed_wait_for 30 serves "$z2" 7 || bed_die "xfrd did not fetch $z2"

axfr() # OUT ZONE KDIG_ARGS...: the AXFR's records, canonical; fails on an error
{
	local out=$1 zone=$2
	shift 2
	kdig @127.0.0.1 "$@" +noall +answer AXFR "$zone" >"$out.raw" 2>&1 || return 1
	grep -q . "$out.raw" && ! grep -q '^;; ' "$out.raw" || return 1
	bed_zone_canon "$out.raw" >"$out"
}
rcode() # ZONE KDIG_ARGS...: REFUSED when the AXFR was refused, else kdig's output
{
	local zone=$1 out
	shift
	out=$(kdig @127.0.0.1 "$@" AXFR "$zone" 2>&1 || true)
	if echo "$out" | grep -q "REFUSED"; then
		echo REFUSED
	else
		echo "$out" | tail -2 | tr '\n' ' '
	fi
}

primary_axfr k1 >"$BED_T/z1.theirs"
axfr "$BED_T/strict" "$z1" -p "$dot" +tls-ca="$c/ca.pem" +tls-hostname="$name" -y "$key" ||
	bed_die "kdig +tls (CA, name) AXFR failed: $(tail -3 "$BED_T/strict.raw")"
bed_zone_compare "$BED_T/z1.theirs" "$BED_T/strict" || bed_die "the AXFR over TLS differs"
axfr "$BED_T/pinned" "$z1" -p "$dot" +tls-pin="$pin" -y "$key" ||
	bed_die "kdig +tls-pin AXFR failed: $(tail -3 "$BED_T/pinned.raw")"
bed_zone_compare "$BED_T/z1.theirs" "$BED_T/pinned" || bed_die "the pinned AXFR differs"
bed_log "kdig +tls: AXFR of $z1 ($(wc -l <"$BED_T/strict") records) strict and pinned"

st=$(rcode "$z1" -p "$dns" +tcp -y "$key")
[ "$st" = REFUSED ] || bed_die "plain TCP AXFR of a require-tls zone: status '$st', not REFUSED"
grep -q "event=serve_denied zone=$z1. qtype=AXFR reason=tls" "$BED_T/xfrd.out" ||
	bed_die "the refusal is not logged with reason=tls"
serves "$z1" 100 || bed_die "the (signed) SOA query over UDP is refused too"
bed_log "plain TCP AXFR: REFUSED (reason=tls)"

st=$(rcode "$z2" -p "$dot" +tls-ca="$c/ca.pem" +tls-hostname="$name")
[ "$st" = REFUSED ] || bed_die "AXFR of a client-cert zone without a certificate: '$st'"
grep -q "event=serve_denied zone=$z2. qtype=AXFR reason=client_cert" "$BED_T/xfrd.out" ||
	bed_die "the refusal is not logged with reason=client_cert"
primary_axfr k2 >"$BED_T/z2.theirs"
axfr "$BED_T/mtls" "$z2" -p "$dot" +tls-ca="$c/ca.pem" +tls-hostname="$name" \
	+tls-certfile="$c/client.pem" +tls-keyfile="$c/client.key" ||
	bed_die "kdig mutual TLS AXFR failed: $(tail -3 "$BED_T/mtls.raw")"
bed_zone_compare "$BED_T/z2.theirs" "$BED_T/mtls" || bed_die "the mutual-TLS AXFR differs"
bed_log "client-cert zone: REFUSED without a certificate, AXFR with one"

# BIND as a secondary of xfrd over TLS (TSIG inside)
b=$BED_T/bind
mkdir -p "$b"
cat >"$b/named.conf" <<NAMED
key "xfr-key" { algorithm hmac-sha256; secret "$secret"; };
tls xfrd-tls { ca-file "$c/ca.pem"; remote-hostname "$name"; };
options {
    directory "$b";
    pid-file "$b/named.pid";
    session-keyfile "$b/session.key";
    managed-keys-directory "$b";
    listen-on port $bport { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
};
logging { channel f { file "$b/named.log"; severity info; print-time yes; };
    category default { f; }; category xfer-in { f; }; };
zone "$z1" { type secondary; file "$b/z1.bak";
    primaries { 127.0.0.1 port $dot key "xfr-key" tls xfrd-tls; }; };
NAMED
bed_spawn named "$(_primary_named_bin "$b")" -f -c "$b/named.conf"
bind_has() { kdig @127.0.0.1 -p "$bport" +short SOA "$z1" | grep -q " 100 "; }
bed_wait_for 60 bind_has || bed_die "BIND did not load $z1 from xfrd over TLS: $(grep -i xfer "$b/named.log" | tail -5)"
grep -q "Transfer completed" "$b/named.log" || bed_die "no transfer in BIND's log"
bed_axfr 127.0.0.1 "$bport" "$z1" >"$BED_T/bind.ours" 2>/dev/null ||
	kdig @127.0.0.1 -p "$bport" +noall +answer AXFR "$z1" >"$BED_T/bind.raw"
[ -s "$BED_T/bind.ours" ] || bed_zone_canon "$BED_T/bind.raw" >"$BED_T/bind.ours"
bed_zone_compare "$BED_T/z1.theirs" "$BED_T/bind.ours" || bed_die "BIND's copy differs"
grep -q "event=serve_xfr zone=$z1. .*outcome=ok" "$BED_T/xfrd.out" ||
	bed_die "xfrd did not log the transfer to BIND"
bed_log "BIND secondary: $(grep "Transfer completed" "$b/named.log" | tail -1)"

# SIGHUP: a new certificate
cp "$c/srv2.pem" "$c/serve.pem"
cp "$c/srv2.key" "$c/serve.key"
kill -HUP "$XFRD_PID"
reloaded() { curl -fsS "http://127.0.0.1:$http/metrics" | grep -q '^xfrd_serve_tls_reloads_total{outcome="ok"} 1'; }
bed_wait_for 10 reloaded || bed_die "the reload is not counted"
axfr "$BED_T/pin2" "$z1" -p "$dot" +tls-pin="$pin2" -y "$key" ||
	bed_die "after SIGHUP the new certificate's pin does not verify: $(tail -3 "$BED_T/pin2.raw")"
if axfr "$BED_T/pin1" "$z1" -p "$dot" +tls-pin="$pin" -y "$key"; then
	bed_die "after SIGHUP the old certificate is still served"
fi
grep -q "event=serve_tls_reloaded" "$BED_T/xfrd.out" || bed_die "the reload is not logged"
bed_log "SIGHUP: the new certificate is served"
bed_log PASS
