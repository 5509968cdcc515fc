#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/xfr/bench.sh -- xfrd's transfer engine end to end (a benchmark, not a test).
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel --target xfrd xfrctl bed_tools bench_xfr_parse
#   ZX_BUILD=$PWD/build-rel ZX_SRC=$PWD tests/bench/xfr/bench.sh [what...]
#
# zx alone, from inside: its engine's own times and memory (xfrd --once, the duration_ms it
# logs). Knot, BIND and NSD are not measured here: the comparison, end to end and by one
# poller for all, is tests/bench/compare.sh (this script's old `anchors` timed them with a
# bash loop forking ps, awk and kdig every 20 ms, on another footing than zx).
#
# what: floor axfr ixfr many parse (default: all). One Knot primary (the bed's) serves
# big.test with 1,000,002 RRs (zonegen's big.test mix, TSIG hmac-sha256), as in
# ANCHORS.md. Definitions:
#   floor   wall time of `kdig -y KEY AXFR big.test > /dev/null` (median of 3)
#   axfr    wall time of `xfrd --once` into an empty store (process start to exit:
#           config, store open, SOA-less AXFR, LMDB commit, exit), median of 3;
#           VmHWM and peak RssAnon of xfrd sampled every 20 ms; for 100k and 1M
#   ixfr    engine time (SOA check + IXFR + commit: the duration_ms xfrd logs) of
#           1 and 1,000 changed A records in the 1M zone, and of 1 in a 1k zone
#           (median of 5 each; the primary's reload is not timed), each in a new
#           `xfrd --once`; for the 1M zone also in a running `xfrd --standalone`
#           (rows *_run: the store's map already warm, as in the service)
#   many    10,000 zones of 11 RRs from an empty store: wall time of xfrd --once,
#           VmHWM / RssAnon, CPU of xfrd and of the primary; one Knot primary serving
#           all of them (MANY_REPS runs, default 1; MANY_ARGS extra xfrd options)
#   parse   ldns_wire2pkt vs our walker (xfrstream) on the captured 1M AXFR messages
# Store sync: the store's default (NOMETA) unless ZX_STORE_SYNC=none|full.
# Ports from ZX_BED_PORTS (default 21200-21299). Results as a table on stdout.
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-"21200 21299"}
. "$ZX_SRC/tests/bed/primary.sh"
bed_init bench_xfr
what=${*:-floor axfr ixfr many parse}
xfrd=$ZX_BUILD/xfrd/xfrd
zonegen=$(bed_tool zonegen)
secret=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$secret"
reps=${BENCH_REPS:-3}
results=$BED_T/results.txt
: >"$results"

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
row() { printf '| %-18s | %-28s | %s |\n' "$1" "$2" "$3" | tee -a "$results"; }

conf() # conf FILE STORE ZONE-LINES...
{
	local f=$1 store=$2
	shift 2
	{
		echo "keys: [ { name: xfr-key, algorithm: hmac-sha256, secret: \"$secret\" } ]"
		echo "xfrd:"
		echo "  store: $store"
		echo "  store-size: 8G"
		echo "  transfers: { max: 64, per-primary: ${BENCH_PER_PRIMARY:-8} }"
		echo "  timeouts: { connect: 2s, read: 10s, transfer: 10m, soa: 2s }"
		echo "zones:"
		cat
	} >"$f"
}

# proc_sample PID: sets s_anon and s_hwm (kB) and s_ticks (user + system clock ticks) of a
# running process, 0 when it is gone. Bash builtins only: a sampler that forked awk 150
# times a second took a good part of a core from what it measured.
proc_sample()
{
	local k v rest
	s_anon=0 s_hwm=0 s_ticks=0
	{
		while read -r k v _; do
			case $k in
			RssAnon:) s_anon=$v ;;
			VmHWM:) s_hwm=$v ;;
			esac
		done <"/proc/$1/status"
		read -r rest <"/proc/$1/stat"
	} 2>/dev/null || return 0
	rest=${rest##*) } # after the command name: field 3 (state) is f[0]
	local -a f
	read -r -a f <<<"$rest"
	s_ticks=$((f[11] + f[12]))
}

# cpu_ticks PID: print its user + system clock ticks (0 when gone)
cpu_ticks() { proc_sample "$1"; echo "$s_ticks"; }

# measure CMD...: run it, sample its memory and CPU every 20 ms; sets m_wall m_hwm m_anon
# (MiB) and m_ticks (CPU clock ticks, as last sampled: the final <= 20 ms are missed)
measure()
{
	local t0 t1 pid anon=0 tick_fd
	exec {tick_fd}<> <(:) # read -t on it is a sleep without a fork
	t0=$(date +%s.%N)
	"$@" >"${MEASURE_OUT:-$BED_T/cmd.log}" 2>"$BED_T/cmd.err" &
	pid=$!
	m_hwm=0
	m_ticks=0
	while kill -0 "$pid" 2>/dev/null; do
		proc_sample "$pid"
		[ "$s_anon" -gt "$anon" ] && anon=$s_anon
		[ "$s_hwm" -gt "$m_hwm" ] && m_hwm=$s_hwm
		[ "$s_ticks" -gt 0 ] && m_ticks=$s_ticks
		read -r -t 0.02 -u "$tick_fd" _ || true
	done
	exec {tick_fd}>&-
	wait "$pid" || { cat "$BED_T/cmd.err" >&2; bed_die "$* failed"; }
	t1=$(date +%s.%N)
	m_wall=$(echo "$t1 - $t0" | bc -l)
	m_anon=$((anon / 1024))
	m_hwm=$((m_hwm / 1024))
}

big_primary()
{
	[ -f "$BED_T/big.db" ] && return 0
	"$zonegen" -z big.test -n 1000000 -s 1 -S 1000 -o "$BED_T/big.db"
	bed_ports 1 big_port
	primary_start knot big "$big_port" big.test "$BED_T/big.db" "$key"
}

bench_floor()
{
	big_primary
	local i t=()
	MEASURE_OUT=/dev/null measure kdig @127.0.0.1 -p "$big_port" -y "$key" AXFR big.test # warm-up
	for ((i = 0; i < reps; i++)); do
		MEASURE_OUT=/dev/null measure kdig @127.0.0.1 -p "$big_port" -y "$key" AXFR big.test
		t+=("$m_wall")
	done
	floor=$(printf '%s\n' "${t[@]}" | median)
	row axfr_floor kdig "$floor s (${t[*]})"
	# a second floor: receive and check the stream (our walker), store nothing
	local tool=$ZX_BUILD/tests/bench/xfr/bench_xfr_parse
	if [ -x "$tool" ]; then
		t=()
		for ((i = 0; i < reps; i++)); do
			measure "$tool" capture 127.0.0.1 "$big_port" big.test "$key" /dev/null
			t+=("$m_wall")
		done
		recv_floor=$(printf '%s\n' "${t[@]}" | median)
		row axfr_floor "receive+walk, no store" "$recv_floor s (${t[*]})"
	fi
}

axfr_once() # axfr_once ZONE PORT STORE
{
	rm -rf "$3"
	echo "  - { name: $1, primaries: [ \"127.0.0.1@$2\" ], key: xfr-key }" |
		conf "$BED_T/axfr.yaml" "$3"
	measure "$xfrd" -c "$BED_T/axfr.yaml" --once
}

bench_axfr()
{
	big_primary
	local i t=() hwm=0 anon=0
	for ((i = 0; i < reps; i++)); do
		axfr_once big.test "$big_port" "$BED_T/store-big"
		t+=("$m_wall")
		[ "$m_hwm" -gt "$hwm" ] && hwm=$m_hwm
		[ "$m_anon" -gt "$anon" ] && anon=$m_anon
	done
	local med
	med=$(printf '%s\n' "${t[@]}" | median)
	local recs eng
	recs=$(sed -n 's/.*event=xfr_done .* records=\([0-9]*\) .*/\1/p' "$BED_T/cmd.err")
	eng=$(sed -n 's/.*event=xfr_done .*duration_ms=\([0-9.]*\).*/\1/p' "$BED_T/cmd.err")
	row big_axfr_empty "xfrd 1M ($recs RRs stored)" \
		"$med s (${t[*]}); engine ${eng} ms (last rep); VmHWM $hwm MiB, RssAnon $anon MiB"
	[ -n "${floor:-}" ] && row ratio "xfrd / kdig floor" "$(echo "scale=2; $med / $floor" | bc -l)x"
	[ -n "${recv_floor:-}" ] && row ratio "xfrd / receive floor" "$(echo "scale=2; $med / $recv_floor" | bc -l)x"
	"$zonegen" -z mid.test -n 100000 -s 2 -S 1 -o "$BED_T/mid.db"
	local mid_port
	bed_ports 1 mid_port
	primary_start knot mid "$mid_port" mid.test "$BED_T/mid.db" "$key"
	axfr_once mid.test "$mid_port" "$BED_T/store-mid"
	row mid_axfr_empty "xfrd 100k" "$m_wall s; VmHWM $m_hwm MiB, RssAnon $m_anon MiB"
	primary_stop mid
}

# ixfr_ms NAME CFG MOD: median engine ms of 5 IXFRs of MOD changed A records;
# each rep's total|SOA check|store commit in $BED_T/ixfr.all
ixfr_ms()
{
	local name=$1 cfg=$2 mod=$3 i t=() parts=()
	for ((i = 0; i < 5; i++)); do
		primary_change "$name" 0 0 "$mod" >/dev/null 2>&1
		"$xfrd" -c "$cfg" --once >"$BED_T/ixfr.log" 2>&1 || { cat "$BED_T/ixfr.log"; bed_die "ixfr failed"; }
		grep -q 'kind=ixfr' "$BED_T/ixfr.log" || bed_die "not an IXFR: $(cat "$BED_T/ixfr.log")"
		t+=("$(sed -n 's/.*event=xfr_done .*duration_ms=\([0-9.]*\).*/\1/p' "$BED_T/ixfr.log")")
		parts+=("$(sed -n 's/.*event=xfr_done .*duration_ms=\([0-9.]*\) soa_ms=\([0-9.]*\) commit_ms=\([0-9.]*\).*/\1|soa \2|commit \3/p' "$BED_T/ixfr.log")")
	done
	printf '%s\n' "${t[@]}" | median
	echo "${parts[*]}" >"$BED_T/ixfr.all"
}

# ixfr_warm NAME STORE ZONE PORT MOD...: the same engine time in a running xfrd
# (--standalone, SOA checked every second), as the service runs: its LMDB map is
# mapped and warm, where each --once process starts cold. One row per MOD.
ixfr_warm()
{
	local name=$1 store=$2 zone=$3 port=$4 mod i serial t pid dns_port
	shift 4
	bed_ports 1 dns_port
	{
		echo "keys: [ { name: xfr-key, algorithm: hmac-sha256, secret: \"$secret\" } ]"
		echo "xfrd: { store: $store, store-size: 8G, listen: [ \"127.0.0.1@$dns_port\" ],"
		echo "        refresh: { min: 1s, max: 1s }, jitter: 0 }"
		echo "zones: [ { name: $zone, primaries: [ \"127.0.0.1@$port\" ], key: xfr-key } ]"
	} >"$BED_T/warm.yaml"
	bed_spawn warm "$xfrd" -c "$BED_T/warm.yaml" --standalone
	pid=$BED_PID
	for mod in "$@"; do
		t=()
		for ((i = 0; i < 5; i++)); do
			primary_change "$name" 0 0 "$mod" >/dev/null 2>&1
			serial=$(awk '$4 == "SOA" { print $7; exit }' "$(_primary_dir "$name")/zone.db")
			bed_wait_for 10 grep -q "event=xfr_done .*kind=ixfr .* serial=$serial " "$BED_T/warm.out" ||
				bed_die "running xfrd: no IXFR to $serial: $(tail -n 3 "$BED_T/warm.out")"
			t+=("$(sed -n "s/.*event=xfr_done .*kind=ixfr .* serial=$serial .*duration_ms=\([0-9.]*\).*/\1/p" \
				"$BED_T/warm.out")")
		done
		row "${name}_ixfr_${mod}_run" "xfrd engine, running xfrd" \
			"$(printf '%s\n' "${t[@]}" | median) ms (${t[*]})"
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	bed_untrack "$pid"
}

bench_ixfr()
{
	big_primary
	[ -d "$BED_T/store-big" ] || axfr_once big.test "$big_port" "$BED_T/store-big"
	echo "  - { name: big.test, primaries: [ \"127.0.0.1@$big_port\" ], key: xfr-key }" |
		conf "$BED_T/big.yaml" "$BED_T/store-big"
	local ms
	ms=$(ixfr_ms big "$BED_T/big.yaml" 1)
	row big_ixfr_1 "xfrd engine" "$ms ms ($(cat "$BED_T/ixfr.all"))"
	ms=$(ixfr_ms big "$BED_T/big.yaml" 1000)
	row big_ixfr_1000 "xfrd engine" "$ms ms ($(cat "$BED_T/ixfr.all"))"
	ixfr_warm big "$BED_T/store-big" big.test "$big_port" 1 1000
	"$zonegen" -z small.test -n 1000 -s 3 -S 1 -o "$BED_T/small.db"
	local small_port
	bed_ports 1 small_port
	primary_start knot small "$small_port" small.test "$BED_T/small.db" "$key"
	axfr_once small.test "$small_port" "$BED_T/store-small"
	ms=$(ixfr_ms small "$BED_T/axfr.yaml" 1)
	row small_ixfr_1 "xfrd engine (1k zone)" "$ms ms ($(cat "$BED_T/ixfr.all"))"
	primary_stop small
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
		printf 'key:\n  - id: xfr-key\n    algorithm: hmac-sha256\n    secret: %s\n' "$secret"
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
	done | conf "$d/xfrd.yaml" "$d/store"
	local knot_pid done k0 k1 hz
	knot_pid=$(awk '$2 == "knot-many" { print $1 }' "$BED_T/pids" | tail -1)
	hz=$(getconf CLK_TCK)
	for ((i = 0; i < ${MANY_REPS:-1}; i++)); do
		rm -rf "$d/store"
		k0=$(cpu_ticks "$knot_pid")
		measure "$xfrd" -c "$d/xfrd.yaml" --once ${MANY_ARGS:-}
		k1=$(cpu_ticks "$knot_pid")
		done=$(grep -c 'event=xfr_done' "$BED_T/cmd.err" || true)
		row many_initial_10k "xfrd ($done zones stored)" \
			"$m_wall s; VmHWM $m_hwm MiB, RssAnon $m_anon MiB; CPU xfrd $(echo "scale=2; $m_ticks / $hz" | bc) s, knotd $(echo "scale=2; ($k1 - $k0) / $hz" | bc) s"
	done
}

bench_parse()
{
	big_primary
	local tool=$ZX_BUILD/tests/bench/xfr/bench_xfr_parse
	[ -x "$tool" ] || bed_die "$tool not built"
	"$tool" capture 127.0.0.1 "$big_port" big.test "$key" "$BED_T/big.stream"
	row parse "ldns_wire2pkt vs walker" "$("$tool" parse big.test "$BED_T/big.stream")"
}

for w in $what; do
	"bench_$w"
done
echo
cat "$results"
