#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/serve/dig.sh -- any name and type from xfrd's DNS endpoint, compared
# answer by answer with knotd's for the same zone (xfrd/serve/serve_answer.c).
#
# knotd serves a zonegen zone (delegations with glue, CNAMEs, MX, TXT, SRV, AAAA) plus
# hand-written corner cases (wildcards, a wildcard CNAME, CNAME chains and loops, a
# dangling CNAME, a CNAME into a delegation, DS at a cut, an empty non-terminal, MX
# targets under a wildcard and below a cut); xfrd --standalone transfers it by AXFR
# and serves it. digcmp then asks both every owner name, every empty non-terminal and
# one absent name per owner, for A AAAA TXT MX NS SRV CNAME SOA DS ANY, and compares
# RCODE, AA, TC and the three sections as sets of RRs (ANY: each server picks one of
# the name's RRsets; see digcmp.c). Ports from ZX_BED_PORTS (default 24500-24599).
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-24500 24599} ZX_STORE_SYNC=none
. "$ZX_SRC/tests/bed/primary.sh"
bed_init serve_dig
xfrd=$ZX_BUILD/xfrd/xfrd
cmp=$ZX_BUILD/tests/integration/serve/digcmp
[ -x "$xfrd" ] || bed_skip "$xfrd not built"
[ -x "$cmp" ] || bed_skip "$cmp not built"
command -v knotd >/dev/null || bed_skip "knotd missing"
bed_ports 3 kport xdns xhttp
zone=dig.test
secret=$(head -c 32 /dev/urandom | base64)
"$(bed_tool zonegen)" -z "$zone" -n 1000 -s 23 -S 7 -o "$BED_T/zone.db"
z=$zone.
ds=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
cat >>"$BED_T/zone.db" <<ZONE
zz-www.$z 300 IN A 192.0.2.80
zz-www.$z 300 IN AAAA 2001:db8::80
zz-alias.$z 300 IN CNAME zz-www.$z
zz-alias2.$z 300 IN CNAME zz-alias.$z
zz-out.$z 300 IN CNAME www.example.net.
zz-dangling.$z 300 IN CNAME zz-nothere.$z
zz-loop1.$z 300 IN CNAME zz-loop2.$z
zz-loop2.$z 300 IN CNAME zz-loop1.$z
zz-self.$z 300 IN CNAME zz-self.$z
zz-c1.$z 300 IN CNAME zz-c2.$z
zz-c2.$z 300 IN CNAME zz-c3.$z
zz-c3.$z 300 IN CNAME zz-c4.$z
zz-c4.$z 300 IN CNAME zz-c5.$z
zz-c5.$z 300 IN CNAME zz-c6.$z
zz-c6.$z 300 IN CNAME zz-c7.$z
zz-c7.$z 300 IN CNAME zz-www.$z
*.zz-w.$z 300 IN A 192.0.2.99
*.zz-w.$z 300 IN MX 10 zz-www.$z
zz-sub.zz-w.$z 300 IN TXT "sub"
*.zz-cw.$z 300 IN CNAME zz-www.$z
*.zz-cl.$z 300 IN CNAME a.zz-cl.$z
zz-mx.$z 300 IN MX 10 zz-www.$z
zz-mx.$z 300 IN MX 20 host.zz-w.$z
zz-mx.$z 300 IN MX 30 ns1.zz-d.$z
zz-mx.$z 300 IN MX 40 zz-alias.$z
zz-d.$z 86400 IN NS ns1.zz-d.$z
zz-d.$z 86400 IN NS ns.example.net.
zz-d.$z 86400 IN DS 12345 8 2 $ds
ns1.zz-d.$z 86400 IN A 192.0.2.53
ns1.zz-d.$z 86400 IN AAAA 2001:db8::53
zz-todeleg.$z 300 IN CNAME host.zz-d.$z
_sip._udp.zz-s.$z 300 IN SRV 0 5 5060 zz-www.$z
a.b.zz-ent.$z 300 IN TXT "deep"
ZONE
# the wildcards' and the cut's inside, which no owner names
cat >"$BED_T/names.db" <<ZONE
\$ORIGIN $z
@ 3600 IN SOA ns1 hostmaster 7 3600 900 1209600 300
x.zz-w 1 IN A 192.0.2.1
y.x.zz-w 1 IN A 192.0.2.1
q.zz-cw 1 IN A 192.0.2.1
q.zz-cl 1 IN A 192.0.2.1
host.zz-d 1 IN A 192.0.2.1
ZONE
primary_start knot p1 "$kport" "$zone" "$BED_T/zone.db" "hmac-sha256:up-key:$secret"
cat >"$BED_T/zx.yaml" <<YAML
keys:
  - { name: up-key, algorithm: hmac-sha256, secret: "$secret" }
xfrd:
  store: $BED_T/x.lmdb
  store-size: 256M
  listen: [ "127.0.0.1@$xdns" ]
  http: "127.0.0.1:$xhttp"
  serve: { allow: [ "127.0.0.0/8" ] }
zones:
  - { name: $zone, primaries: [ "127.0.0.1@$kport" ], key: up-key }
YAML
bed_spawn x "$xfrd" -c "$BED_T/zx.yaml" --standalone
xsoa() { kdig @127.0.0.1 -p "$xdns" +short +time=1 +retry=0 SOA "$zone" 2>/dev/null | awk '{print $3}'; }
has7() { [ "$(xsoa)" = 7 ]; }
bed_wait_for 30 has7 || bed_die "xfrd does not serve $zone at 7: $(tail -n 5 "$BED_T/x.out")"
bed_log "xfrd holds $zone ($(grep -c . "$BED_T/zone.db") lines); comparing with knotd"
start=$SECONDS
"$cmp" "$BED_T/zone.db" "$xdns" "$kport" >"$BED_T/digcmp.out" 2>&1 || {
	head -c 6000 "$BED_T/digcmp.out" >&2
	bed_die "xfrd's answers differ from knotd's"
}
"$cmp" "$BED_T/names.db" "$xdns" "$kport" >"$BED_T/digcmp2.out" 2>&1 || {
	head -c 6000 "$BED_T/digcmp2.out" >&2
	bed_die "xfrd's answers differ from knotd's (wildcard and cut names)"
}
bed_log "$(tail -n 1 "$BED_T/digcmp.out") in $((SECONDS - start)) s"
bed_log "$(tail -n 1 "$BED_T/digcmp2.out")"
# the comparison saw every kind of answer
for k in noerror nxdomain referrals; do
	grep -Eq " $k=[1-9]" "$BED_T/digcmp.out" || bed_die "no $k answers compared"
done
bed_log PASS
