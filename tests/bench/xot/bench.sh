#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/xot/bench.sh -- the cost of XFR over TLS (RFC 9103) against plain TCP, in
# the same run, from the same primary (a benchmark, not a test).
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel -j2 --target xfrd xfrctl bed_tools
#   ZX_BUILD=$PWD/build-rel ZX_SRC=$PWD tests/bench/xot/bench.sh
#
# Wall time of `xfrd --once` into an empty store of big.test, 1,000,005 RRs (zonegen's
# mix, TSIG hmac-sha256), from one NSD 4.6.1 primary that serves the zone on its plain
# port and on its TLS port (tls-service-key/-pem; Knot 3.2 has no XoT, and NSD answers
# AXFR on its TLS port): plain TCP, and TLS 1.3 (strict: CA file and auth-name), runs
# alternated, BENCH_REPS (default 3) each; min/median/max and the ratio of the medians;
# goal: under 1.3x. Besides: the floor, kdig's AXFR of the same zone over TCP and over
# TLS (+tls, nothing stored), once each per rep. xfrd with its shipped defaults (disk
# sync on unless ZX_STORE_SYNC says otherwise). The rules of tests/bench/README.md: one
# run, runs interleaved, n >= 3, min/median/max, the load noted. Ports from bed_port
# (ZX_BED_PORTS). Results as a table on stdout.
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/xot/lib.sh"
bed_init bench_xot
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || bed_skip "nsd missing"
xfrd=$ZX_BUILD/xfrd/xfrd
zonegen=$(bed_tool zonegen)
secret=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$secret"
name=primary.bench.test
reps=${BENCH_REPS:-3}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mmm() { sort -g | awk '{ a[NR] = $1 } END { printf "%.2f / %.2f / %.2f s", a[1], a[int((NR + 1) / 2)], a[NR] }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
row() { printf '| %-16s | %-34s | %s |\n' "$1" "$2" "$3"; }

c=$BED_T/certs
mkdir -p "$c"
xot_ca "$c" ca
xot_cert "$c" ca srv "$name"
bed_ports 2 port tls
"$zonegen" -z big.test -n 1000000 -s 1 -S 1000 -o "$BED_T/big.db"
PRIMARY_TLS_PORT=$tls PRIMARY_TLS_CERT=$c/srv.pem PRIMARY_TLS_KEY=$c/srv.key \
	primary_start nsd big "$port" big.test "$BED_T/big.db" "$key"
bed_wait_for 30 bash -c "ss -Htln 'sport = :$tls' | grep -q ." || bed_die "NSD's TLS port not listening"

conf() # FILE PRIMARY_YAML
{
	cat >"$1" <<YAML
keys: [ { name: xfr-key, algorithm: hmac-sha256, secret: "$secret" } ]
xfrd:
  store: $BED_T/store
  store-size: 8G
  timeouts: { connect: 2s, read: 10s, transfer: 10m, soa: 2s }
zones:
  - { name: big.test, key: xfr-key, primaries: [ $2 ] }
YAML
}
conf "$BED_T/tcp.yaml" "\"127.0.0.1@$port\""
conf "$BED_T/tls.yaml" "{ address: \"127.0.0.1@$tls\", tls: { ca-file: $c/ca.pem, auth-name: $name } }"

timed() # CFG: wall seconds of one xfrd --once into an empty store
{
	local t0 t1
	rm -rf "$BED_T/store"
	t0=$(date +%s.%N)
	"$xfrd" -c "$1" --once >"$BED_T/run.log" 2>&1 || { tail -3 "$BED_T/run.log" >&2; bed_die "xfrd failed"; }
	t1=$(date +%s.%N)
	grep -q "event=xfr_done .*records=1000005 " "$BED_T/run.log" ||
		bed_die "not the whole zone: $(grep event=xfr_ "$BED_T/run.log" | tail -1)"
	echo "$t1 - $t0" | bc -l
}

kdig_timed() # ARGS: wall seconds of kdig's AXFR to /dev/null
{
	local t0 t1
	t0=$(date +%s.%N)
	kdig @127.0.0.1 "$@" -y "$key" AXFR big.test >/dev/null || bed_die "kdig $* failed"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

timed "$BED_T/tcp.yaml" >/dev/null # warm-up: page cache, the primary
l0=$(load)
r_tcp=() r_tls=() k_tcp=() k_tls=()
for ((i = 0; i < reps; i++)); do
	r_tcp+=("$(timed "$BED_T/tcp.yaml")")
	r_tls+=("$(timed "$BED_T/tls.yaml")")
	grep -q "primary=127.0.0.1@$tls .*tls=full" "$BED_T/run.log" || bed_die "the TLS run was not over TLS"
	k_tcp+=("$(kdig_timed -p "$port" +tcp)")
	k_tls+=("$(kdig_timed -p "$tls" +tls)")
done
mt=$(printf '%s\n' "${r_tcp[@]}" | median)
ms=$(printf '%s\n' "${r_tls[@]}" | median)
row what how result
row --- --- ---
row axfr_1M "xfrd, plain TCP: min / median / max" "$(printf '%s\n' "${r_tcp[@]}" | mmm) (n=$reps)"
row axfr_1M "xfrd, TLS 1.3 (strict)" "$(printf '%s\n' "${r_tls[@]}" | mmm) (n=$reps)"
row axfr_1M "ratio TLS / TCP (medians)" "$(echo "scale=2; $ms / $mt" | bc -l)x; load $l0 -> $(load)"
row floor_1M "kdig, plain TCP, to /dev/null" "$(printf '%s\n' "${k_tcp[@]}" | mmm) (n=$reps)"
row floor_1M "kdig +tls, to /dev/null" "$(printf '%s\n' "${k_tls[@]}" | mmm) (n=$reps)"
row last_tls_run "" "$(grep 'event=xfr_done' "$BED_T/run.log" | grep -o 'messages=[0-9]* bytes=[0-9]*') $(grep -o 'duration_ms=[0-9.]*' "$BED_T/run.log" | tail -1)"
