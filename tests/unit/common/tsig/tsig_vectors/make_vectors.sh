#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerate the TSIG vectors of test_tsig from real implementations, on loopback
# ports 22000-22099. Not run by ctest (the unit test only reads what this wrote).
#
#   tests/unit/common/tsig/tsig_vectors/make_vectors.sh BUILD_DIR
#
# BUILD_DIR must hold a built tsig_vectool (cmake --build BUILD_DIR --target tsig_vectool).
# Needs kdig (knot-dnsutils), dig (bind9-dnsutils), ldns-notify (ldnsutils), knotd (knot),
# nsd (nsd) and faketime.
#
# What it writes, one file per exchange ("word value" lines, messages in hex):
#   req-<peer>-<alg>.vec  a request signed by the peer (kdig, dig, ldns-notify),
#                         our verdict on it, our signed reply, and the peer's verdict
#                         on our reply (peer_check: ok, or its complaint)
#   badtime-kdig-hmac-sha256.vec  kdig one hour behind: our signed BADTIME reply
#   serve-<client>-<alg>.vec  an AXFR request signed by the client, and our three-message
#                         answer (signed, unsigned, signed) that the client checked
#   axfr-<server>-<alg>.vec  our signed AXFR request and every answer message that
#                         knotd / nsd sent back (multi-message TSIG)
set -euo pipefail

build=$(cd "${1:?usage: make_vectors.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tool=$build/tests/unit/common/tsig_vectool
port=22001
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# Fixed secrets so the vectors only change when regenerated on purpose.
declare -A secret=(
	[hmac-md5]=bWQ1LXNlY3JldC1mb3ItdHNpZy12ZWN0b3Jz
	[hmac-sha1]=c2hhMS1zZWNyZXQtZm9yLXRzaWctdmVjdG9ycw==
	[hmac-sha224]=c2hhMjI0LXNlY3JldC1mb3ItdHNpZy12ZWN0b3JzLTI4Yg==
	[hmac-sha256]=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
	[hmac-sha384]=c2hhMzg0LXNlY3JldC1mb3ItdHNpZy12ZWN0b3JzLXdpdGgtNDgtYnl0ZXMtLS0tLQ==
	[hmac-sha512]=c2hhNTEyLXNlY3JldC1mb3ItdHNpZy12ZWN0b3JzLXdpdGgtNjQtYnl0ZXMtb2Yta2V5LW1hdGVyaWFsLS0=
)
algs=(hmac-md5 hmac-sha1 hmac-sha224 hmac-sha256 hmac-sha384 hmac-sha512)
keyname() { echo "${1#hmac-}.Tsig.Example."; } # mixed case on purpose

header() { # file peer alg
	{
		echo "# made by make_vectors.sh on $(date -u +%FT%TZ)"
		echo "peer $2"
		echo "alg $3"
		echo "key $(keyname "$3") ${secret[$3]}"
	} >"$1"
}

# respond FILE ALG CLIENT-COMMAND... : our responder answers one request from the client.
respond() {
	local file=$1 alg=$2
	shift 2
	"$tool" respond "$port" "$alg" "$(keyname "$alg")" "${secret[$alg]}" "$tmp/out" &
	local pid=$!
	sleep 0.3
	"$@" >"$tmp/client" 2>&1 || true
	wait "$pid"
	cat "$tmp/out" >>"$file"
}

peer_verdict() { # file pattern-of-failure
	local bad
	bad=$(grep -E "$2" "$tmp/client" | head -1 || true)
	echo "peer_check ${bad:-ok}" >>"$1"
}

for alg in "${algs[@]}"; do
	k=$(keyname "$alg")
	f=$here/req-kdig-$alg.vec
	header "$f" "kdig $(kdig --version | awk '{print $NF}')" "$alg"
	respond "$f" "$alg" kdig @127.0.0.1 -p "$port" +retry=0 +timeout=2 -y "$alg:$k:${secret[$alg]}" \
		example.com SOA
	peer_verdict "$f" "WARNING|failed"

	f=$here/req-dig-$alg.vec
	header "$f" "dig $(dig -v 2>&1 | awk '{print $2}')" "$alg"
	respond "$f" "$alg" dig @127.0.0.1 -p "$port" +tries=1 +time=2 -y "$alg:$k:${secret[$alg]}" \
		example.com SOA
	peer_verdict "$f" "verify|error|failed"
done

# ldns 1.8.3 signs md5, sha1, sha256, sha512 (sha224/384 go out unsigned); it never
# checks the reply's TSIG, so peer_check is only that it took the reply.
for alg in hmac-md5 hmac-sha1 hmac-sha256 hmac-sha512; do
	f=$here/req-ldns-notify-$alg.vec
	header "$f" "ldns-notify $(ldns-notify -v 2>&1 | head -1 | awk '{print $NF}')" "$alg"
	lalg=$alg
	[ "$alg" = hmac-md5 ] && lalg=hmac-md5.sig-alg.reg.int
	respond "$f" "$alg" ldns-notify -r 1 -z example.com -p "$port" -s 2024 \
		-y "$(keyname "$alg"):${secret[$alg]}:$lalg" 127.0.0.1
	peer_verdict "$f" "error|failed"
done

# kdig NOTIFY, as knotd primaries send them
f=$here/req-kdig-notify-hmac-sha256.vec
header "$f" "kdig" hmac-sha256
respond "$f" hmac-sha256 kdig @127.0.0.1 -p "$port" +retry=0 +timeout=2 \
	-y "hmac-sha256:$(keyname hmac-sha256):${secret[hmac-sha256]}" example.com NOTIFY=2024
peer_verdict "$f" "WARNING|failed"

# kdig an hour behind: our BADTIME answer is signed; kdig checks the MAC, then reports
# the error ("TSIG out of time window"), not "failed to verify".
f=$here/badtime-kdig-hmac-sha256.vec
header "$f" "kdig under faketime -1h" hmac-sha256
respond "$f" hmac-sha256 faketime -f -1h kdig @127.0.0.1 -p "$port" +retry=0 +timeout=2 \
	-y "hmac-sha256:$(keyname hmac-sha256):${secret[hmac-sha256]}" example.com SOA
peer_verdict "$f" "WARNING|failed"

# Our server session answers an AXFR with signed, unsigned, signed messages; kdig and
# dig check the chain (RFC 8945 5.3.1).
serve() { # file alg client-command...
	local file=$1 alg=$2
	shift 2
	"$tool" serve "$port" "$alg" "$(keyname "$alg")" "${secret[$alg]}" "$tmp/out" &
	local pid=$!
	sleep 0.3
	"$@" >"$tmp/client" 2>&1 || true
	wait "$pid"
	cat "$tmp/out" >>"$file"
}
for alg in hmac-sha1 hmac-sha256; do
	k=$(keyname "$alg")
	f=$here/serve-kdig-$alg.vec
	header "$f" "kdig" "$alg"
	serve "$f" "$alg" kdig @127.0.0.1 -p "$port" +retry=0 +timeout=2 -y "$alg:$k:${secret[$alg]}" \
		example.com AXFR
	peer_verdict "$f" "WARNING|failed"
	grep -q "unsigned middle" "$tmp/client" || echo "peer_check kdig did not show the records" >>"$f"
	f=$here/serve-dig-$alg.vec
	header "$f" "dig" "$alg"
	serve "$f" "$alg" dig @127.0.0.1 -p "$port" +tries=1 +time=2 -y "$alg:$k:${secret[$alg]}" \
		example.com AXFR
	peer_verdict "$f" "verify|error|failed"
	grep -q "unsigned middle" "$tmp/client" || echo "peer_check dig did not show the records" >>"$f"
done

# A zone of about 90 KB: several messages per AXFR.
{
	echo '$ORIGIN example.com.'
	echo '$TTL 3600'
	echo '@ SOA ns.example.com. admin.example.com. 2024112601 3600 900 604800 300'
	echo '@ NS ns.example.com.'
	echo 'ns A 192.0.2.1'
	for i in $(seq 1 1200); do
		echo "r$i TXT \"record $i of the TSIG multi-message vector zone, padded to make it long\""
	done
} >"$tmp/example.com.zone"

wait_port() { # tcp port
	for _ in $(seq 1 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "nothing listens on $1" >&2
	return 1
}

axfr() { # server port alg
	local f=$here/axfr-$1-$3.vec
	header "$f" "$1" "$3"
	"$tool" axfr "$2" example.com "$3" "$(keyname "$3")" "${secret[$3]}" "$tmp/out" || {
		cat "$tmp/out" >&2
		return 1
	}
	cat "$tmp/out" >>"$f"
}

knot_port=22010
mkdir -p "$tmp/knot"
cat >"$tmp/knot/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$knot_port
    rundir: $tmp/knot
database:
    storage: $tmp/knot
key:
  - id: $(keyname hmac-sha256)
    algorithm: hmac-sha256
    secret: ${secret[hmac-sha256]}
  - id: $(keyname hmac-sha384)
    algorithm: hmac-sha384
    secret: ${secret[hmac-sha384]}
acl:
  - id: xfr
    key: [$(keyname hmac-sha256), $(keyname hmac-sha384)]
    action: transfer
template:
  - id: default
    storage: $tmp
zone:
  - domain: example.com
    file: example.com.zone
    acl: xfr
EOF
knotd -c "$tmp/knot/knot.conf" >"$tmp/knot/log" 2>&1 &
pids+=($!)
wait_port $knot_port
sleep 0.5
axfr knot $knot_port hmac-sha256
axfr knot $knot_port hmac-sha384

nsd_port=22011
mkdir -p "$tmp/nsd"
cat >"$tmp/nsd/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$nsd_port
    port: $nsd_port
    username: ""
    chroot: ""
    zonesdir: "$tmp"
    pidfile: "$tmp/nsd/nsd.pid"
    database: ""
    xfrdfile: "$tmp/nsd/xfrd.state"
    zonelistfile: "$tmp/nsd/zone.list"
    xfrdir: "$tmp/nsd"
    logfile: "$tmp/nsd/log"
remote-control:
    control-enable: no
key:
    name: "$(keyname hmac-sha512)"
    algorithm: hmac-sha512
    secret: "${secret[hmac-sha512]}"
zone:
    name: example.com
    zonefile: example.com.zone
    provide-xfr: 127.0.0.1 $(keyname hmac-sha512)
EOF
nsd -d -c "$tmp/nsd/nsd.conf" >"$tmp/nsd/out" 2>&1 &
pids+=($!)
wait_port $nsd_port
sleep 0.5
axfr nsd $nsd_port hmac-sha512

grep -H -E "^(our_verify|peer_check)" "$here"/*.vec
