#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/egress/bench.sh -- the cost of xfrd's egress through a SOCKS5 proxy (the
# design's setup: ss-local in front of xfrd, ss-server where the static egress address
# lives), as a ratio to direct in the same run (a benchmark, not a test).
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel -j2 --target xfrd xfrctl bed_tools
#   ZX_BUILD=$PWD/build-rel ZX_SRC=$PWD tests/bench/egress/bench.sh [axfr] [many]
#
#   axfr  wall time of `xfrd --once` into an empty store of big.test, 1,000,002 RRs
#         (zonegen's mix, TSIG hmac-sha256, one Knot primary), direct and through
#         ss-local -> ss-server (chacha20-ietf-poly1305, the package's default cipher),
#         runs alternated, median of BENCH_REPS (default 3) each; goal: under 1.3x
#   many  10,000 zones of 11 RRs from an empty store (one Knot primary serving all),
#         xfrd --once direct and through ss-local, alternated, median of MANY_REPS
#         (default 3)
# Both paths reach the primary on 127.0.0.1 (ss-server from 127.0.0.2); the primary
# allows both. xfrd with its shipped defaults (disk sync on unless ZX_STORE_SYNC says
# otherwise), its default worker count; the rules of tests/bench/README.md: one run, runs
# interleaved, n >= 3, min/median/max, the load noted. Ports from bed_port
# (ZX_BED_PORTS). Results as a table on stdout.
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/egress/lib.sh"
bed_init bench_egress
egress_need ss-server ss-local knotd
what=${*:-axfr many}
xfrd=$ZX_BUILD/xfrd/xfrd
zonegen=$(bed_tool zonegen)
EGRESS_SECRET=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$EGRESS_SECRET"

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mmm() { sort -g | awk '{ a[NR] = $1 } END { printf "%.2f / %.2f / %.2f s", a[1], a[int((NR + 1) / 2)], a[NR] }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
row() { printf '| %-16s | %-34s | %s |\n' "$1" "$2" "$3"; }

bed_ports 2 ssport socks
egress_ss_server ss-server "$ssport" 127.0.0.2
egress_ss_local ss-local "$socks" "$ssport"
ss_pids="$(awk '$2 ~ /^ss-/ { print $1 }' "$BED_T/pids" | tr '\n' ' ')"

# conf FILE STORE PROXIED (zone lines on stdin)
conf()
{
	{
		echo "keys: [ { name: xfr-key, algorithm: hmac-sha256, secret: \"$EGRESS_SECRET\" } ]"
		echo "xfrd:"
		echo "  store: $2"
		echo "  store-size: 8G"
		echo "  transfers: { max: 64, per-primary: 8 }"
		echo "  timeouts: { connect: 2s, read: 10s, transfer: 10m, soa: 2s }"
		[ "$3" = 1 ] && echo "  proxy: [ \"127.0.0.1@$socks\" ]"
		echo "zones:"
		cat
	} >"$1"
}

ticks() # the CPU clock ticks of the ss processes so far
{
	local p t=0 f
	for p in $ss_pids; do
		read -r -a f < <(sed 's/.*) //' "/proc/$p/stat")
		t=$((t + f[11] + f[12]))
	done
	echo "$t"
}

# timed CFG STORE: wall seconds of one xfrd --once into an empty store
timed()
{
	local t0 t1
	rm -rf "$2"
	t0=$(date +%s.%N)
	"$xfrd" -c "$1" --once >"$BED_T/run.log" 2>&1 || { tail -3 "$BED_T/run.log" >&2; bed_die "xfrd failed"; }
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

# compare NAME REPS DIRECT_CFG PROXY_CFG STORE: alternated runs, medians, the ratio
compare()
{
	local name=$1 reps=$2 i d=() p=() k0 k1 hz md mp l0
	hz=$(getconf CLK_TCK)
	k0=0 k1=0
	l0=$(load)
	for ((i = 0; i < reps; i++)); do
		d+=("$(timed "$3" "$5")")
		k0=$((k0 - $(ticks)))
		p+=("$(timed "$4" "$5")")
		grep -q "proxy=127.0.0.1@$socks" "$BED_T/run.log" || bed_die "$name: not through the proxy"
		k0=$((k0 + $(ticks)))
	done
	md=$(printf '%s\n' "${d[@]}" | median)
	mp=$(printf '%s\n' "${p[@]}" | median)
	row "$name" "direct, min / median / max" "$(printf '%s\n' "${d[@]}" | mmm) (n=$reps)"
	row "$name" "through ss-local + ss-server" "$(printf '%s\n' "${p[@]}" | mmm) (n=$reps); CPU of ss-local + ss-server $(echo "scale=2; $k0 / $hz / $reps" | bc) s per run"
	row "$name" "ratio proxy / direct (medians)" "$(echo "scale=2; $mp / $md" | bc -l)x; load $l0 -> $(load)"
	row "$name" "last proxied run" "$(grep -c 'event=xfr_done' "$BED_T/run.log") transfers, $(sed -n 's/.*event=xfr_done .* records=\([0-9]*\) .*/\1/p' "$BED_T/run.log" | awk '{ n += $1 } END { print n }') records stored, $(grep -c 'conn=reused' "$BED_T/run.log") on kept connections"
}

bench_axfr()
{
	local port
	bed_ports 1 port
	"$zonegen" -z big.test -n 1000000 -s 1 -S 1000 -o "$BED_T/big.db"
	PRIMARY_ALLOW_FROM="127.0.0.1, 127.0.0.2" primary_start knot big "$port" big.test "$BED_T/big.db" "$key"
	local z="  - { name: big.test, primaries: [ \"127.0.0.1@$port\" ], key: xfr-key }"
	echo "$z" | conf "$BED_T/big-direct.yaml" "$BED_T/store-big" 0
	echo "$z" | conf "$BED_T/big-proxy.yaml" "$BED_T/store-big" 1
	timed "$BED_T/big-direct.yaml" "$BED_T/store-big" >/dev/null # warm-up: page cache, primary
	compare big_axfr_1M "${BENCH_REPS:-3}" "$BED_T/big-direct.yaml" "$BED_T/big-proxy.yaml" \
		"$BED_T/store-big"
	primary_stop big
}

bench_many()
{
	local d=$BED_T/many n=${MANY:-10000} i port
	mkdir -p "$d/zones" "$d/knot"
	bed_ports 1 port
	for ((i = 0; i < n; i++)); do
		printf 'z%05d.test. 3600 IN SOA ns1.z%05d.test. h.z%05d.test. 1 3600 600 86400 300\n' $i $i $i
		printf 'z%05d.test. 3600 IN NS ns1.z%05d.test.\nns1.z%05d.test. 3600 IN A 192.0.2.1\n' $i $i $i
		for a in 1 2 3 4 5 6 7 8; do printf 'h%d.z%05d.test. 3600 IN A 198.51.100.%d\n' $a $i $a; done
	done | awk -v d="$d/zones" '{ split($1, p, "."); z = p[length(p) - 2] "." p[length(p) - 1]; f = d "/" z ".zone"; print > f; if (++c % 11 == 0) close(f) }'
	{
		printf 'server:\n    rundir: "%s"\n    listen: 127.0.0.1@%s\n' "$d/knot" "$port"
		printf '    udp-workers: 1\n    tcp-workers: 2\n    background-workers: 1\n'
		printf 'database:\n    storage: "%s"\n' "$d/knot"
		printf 'key:\n  - id: xfr-key\n    algorithm: hmac-sha256\n    secret: %s\n' "$EGRESS_SECRET"
		printf 'acl:\n  - id: xfr\n    key: xfr-key\n    action: transfer\n'
		printf 'template:\n  - id: default\n    storage: "%s"\n    file: "%%s.zone"\n' "$d/zones"
		printf '    acl: xfr\n'
		echo "zone:"
		for ((i = 0; i < n; i++)); do printf '  - domain: z%05d.test.\n' $i; done
	} >"$d/knot.conf"
	setsid knotd -c "$d/knot.conf" >"$d/knot.out" 2>&1 </dev/null &
	bed_track $! knot-many
	bed_wait_for 60 bash -c "kdig @127.0.0.1 -p $port +short SOA z$(printf %05d $((n - 1))).test | grep -q ." ||
		bed_die "knot with $n zones did not start"
	for ((i = 0; i < n; i++)); do
		printf '  - { name: z%05d.test, primaries: [ "127.0.0.1@%s" ], key: xfr-key }\n' $i "$port"
	done >"$d/zones.yaml"
	conf "$d/direct.yaml" "$d/store" 0 <"$d/zones.yaml"
	conf "$d/proxy.yaml" "$d/store" 1 <"$d/zones.yaml"
	compare many_10k "${MANY_REPS:-3}" "$d/direct.yaml" "$d/proxy.yaml" "$d/store"
}

row what how result
row --- --- ---
for w in $what; do
	"bench_$w"
done
