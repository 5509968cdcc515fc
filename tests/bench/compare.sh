#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/compare.sh -- THE comparison: zx (Kafka mode and standalone), Knot, BIND and
# NSD as secondaries of one Knot primary, measured in the same run by the same poller,
# end to end as a user sees it. Writes a table of ratios and the raw figures.
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel -j2
#   tests/bench/compare.sh build-rel [--quick] [--rows LIST] [--daemons LIST] [--reps N]
#                                    [--ixfr-reps N] [--big N] [--many N] [--changed N]
#                                    [--notify-rate N] [--out DIR]
#
#   rows     floor,big,ixfr,many,burst,notify (default: all). ixfr needs big (it runs in
#            the daemon big loaded), burst needs many.
#   daemons  zx,zxsa,knot,bind,nsd (default: all); zx = Kafka mode (notifyd + xfrd),
#            zxsa = xfrd --standalone (no NOTIFY listener: no ixfr/burst rows)
#   --reps N       starts per daemon and set (default 3); reps are interleaved: rep 1 of
#                  every daemon, then rep 2, ..., so a change in the machine's load
#                  spreads over all of them
#   --ixfr-reps N  IXFRs of each size per start (default 3): n = reps * ixfr-reps
#   --big N        records of big.test (default 1,000,000)
#   --many N       small zones (default 10,000); --changed N of them changed (default 1,000)
#   --quick        a check of the harness in minutes: big 100,000, many 1,000, changed
#                  100, reps 3, ixfr-reps 2, notify sweep short
#   --out DIR      results (default BUILD/bench/compare-DATE): results.md (the table),
#                  raw.tsv (every measurement), env.txt (versions, load, settings),
#                  notify/ (the NOTIFY bench's output); the work dir is removed at the end
#                  unless ZX_KEEP=1
#
# Definitions (the rows; tests/bench/README.md has the whole method):
#   big    big.test (zonegen's mix, TSIG hmac-sha256) from an empty store: t0 = the
#          daemon's start (zx Kafka: xfrd's; notifyd and the broker are up, topics
#          created), t1 = its serving endpoint answers the primary's serial; peak PSS
#          summed over the daemon's processes during it
#   ixfr   K = 1 and 1000 A records changed in big.test on the primary (reload not
#          timed); t0 = the poller sends the NOTIFY (zx Kafka: to notifyd), t1 = the new
#          serial is answered on the serving endpoint (zx: xfrd's DNS endpoint)
#   many   N small zones (11 RRs) from an empty store: start -> every zone served
#   (before each ixfr and burst: the daemon idle, under 5% of a CPU for a second, at
#   most 60 s: the row measures the answer to the NOTIFYs, not the tail of the load)
#   burst  C of the N zones changed on the primary (1 RR + serial; reload not timed);
#          t0 = the poller starts sending the C NOTIFYs, --notify-rate a second
#          (default 10,000: 1,000 in 0.1 s, as a primary notifying after one reload;
#          0 = all within a millisecond, which overflows the default UDP receive buffer
#          of Knot, BIND and NSD: they then lose 50-80% of them), again a second after
#          a round to those not answered, up to 5 rounds; t1 = all C serve the new
#          serial; NOTIFYs not answered in the first round and in none are reported
#   floor  kdig AXFR of big.test to /dev/null, and the receive+walk floor (bench_xfr_parse)
#   notify tests/bench/notify/bench.sh: NOTIFYs answered per second, notifyd (answer after
#          Kafka's delivery) vs knotd, both fairly pinned, the broker's CPU beside
# One poller for all (tests/bench/compare/zxpoll.c): UDP SOA queries, no forks, one query
# per zone in flight at most every 1 ms, at most 10,000 queries/s and 64 in flight; each
# figure carries its
# resolution (res_ms). Memory and CPU: /proc, every 100 ms, by the same program.
#
# Diagnostics (the run is then marked as not a fair one): COMPARE_ZX_ENV="VAR=value ..."
# starts xfrd with that environment (e.g. ZX_STORE_SYNC=none), COMPARE_ZX_WRAP="cmd ..."
# in front of xfrd (e.g. "strace -f -c -o /tmp/x.strace"), COMPARE_ZX_XFRD="key: value"
# one more line in xfrd's config (e.g. "transfers: { per-primary: 64 }"). For zx, where the time went
# according to xfrd's log (group join, REFRESH requests, transfers, connections, commits)
# is in zx-timeline.txt (tests/bench/compare/zx_timeline.py).
#
# Environment: ZX_BED_PORTS (ports, default the bed's 19100-19999), ZX_KAFKA_BOOTSTRAP
# (a running broker; else one is started with tests/bed/kafka.sh on ZX_KAFKA_PORT, default
# 19092, with a 3 GiB heap), ZX_BED_DIR (default OUT/bed), ZX_KEEP=1 keeps the work dir.
set -euo pipefail
build=$(cd "${1:?usage: compare.sh BUILD_DIR [options]}" && pwd)
shift
src=$(cd "$(dirname "$0")/../.." && pwd)
rows="floor,big,ixfr,many,burst,notify"
daemons="zx,zxsa,knot,bind,nsd"
reps=3 ixfr_reps=3 big_n=1000000 many_n=10000 changed_n=1000 notify_rate=10000 quick=0 out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--rows) rows=$2; shift 2 ;;
	--daemons) daemons=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--ixfr-reps) ixfr_reps=$2; shift 2 ;;
	--big) big_n=$2; shift 2 ;;
	--many) many_n=$2; shift 2 ;;
	--changed) changed_n=$2; shift 2 ;;
	--notify-rate) notify_rate=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--quick) quick=1 big_n=100000 many_n=1000 changed_n=100 ixfr_reps=2; shift ;;
	*) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$changed_n" -le "$many_n" ] || { echo "compare.sh: --changed > --many" >&2; exit 2; }
out=${out:-$build/bench/compare-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
mkdir -p "$out/zones"
export ZX_SRC=$src ZX_BUILD=$build ZX_BED_DIR=${ZX_BED_DIR:-$out/bed}
unset ZX_STORE_SYNC # zx with its shipped defaults: disk sync on
. "$src/tests/bed/primary.sh"
. "$src/tests/bench/compare/daemons.sh"
bed_init compare
has() { [[ ",$1," == *",$2,"* ]]; }

C_BUILD=$build
C_W=$BED_T
C_SECRET=$(head -c 32 /dev/urandom | base64)
C_KEY="hmac-sha256:xfr-key:$C_SECRET"
POLL=$build/tests/bench/compare/zxpoll
for t in "$POLL" "$build/tests/bed/zonegen" "$build/xfrd/xfrd" "$build/notifyd/notifyd" \
	"$build/tests/bed/zxkafka"; do
	[ -x "$t" ] || bed_die "$t not built (cmake --build $build)"
done
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" ||
	bed_log "WARNING: $build is not a Release build"
grep -q 'ZX_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && bed_die "$build has ZX_SANITIZE=ON"
raw=$out/raw.tsv
printf 'row\tdaemon\trep\tvalue_ms\tres_ms\tzones\tpss_peak_mib\thwm_peak_mib\tcpu_ms\tbroker_cpu_ms\tpoller_cpu_ms\tnotify_lost_first\tnotify_lost\talready\tengine_ms\tload_before\tload_after\tqueries\ttimeouts\tnote\n' >"$raw"
load1() { cut -d' ' -f1 /proc/loadavg; }

# kv KEY LINE: the value of KEY in a key=value line
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }

# record ROW DAEMON REP POLL_LINE LOAD0 LOAD1 [ENGINE_MS] [NOTE]
record()
{
	local l=$4 v
	v=$(kv t_ms "$l")
	[ "$(kv served "$l" | cut -d/ -f1)" = "$(kv served "$l" | cut -d/ -f2)" ] || v=NA
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$1" "$2" "$3" "$v" "$(kv res_ms "$l")" "$(kv served "$l")" "$(kv pss_peak_mib "$l")" \
		"$(kv hwm_peak_mib "$l")" "$(kv cpu_ms "$l")" "$(kv other_cpu_ms "$l")" \
		"$(kv poller_cpu_ms "$l")" "$(kv notify_lost_first "$l")" "$(kv notify_lost "$l")" \
		"$(kv already "$l")" "${7:-}" "$5" "$6" "$(kv queries "$l")" "$(kv timeouts "$l")" \
		"${8:-}" >>"$raw"
	echo "$1 $2 $3 $l" >>"$out/poll.log"
	bed_log "$1 $2 rep $3: ${v} ms (res $(kv res_ms "$l") ms, PSS $(kv pss_peak_mib "$l") MiB) ${8:-}"
}

# timeline ROW KIND REP POLL_LINE: for zx, where the time went, from xfrd's own log
# (beside the poller's figure; $out/zx-timeline.txt)
timeline()
{
	[[ $2 == zx* ]] || return 0
	local t0
	t0=$(kv t0 "$4")
	[ -n "$t0" ] && [ -f "$D_LOG" ] || return 0
	echo "$1 $2 $3 t_ms=$(kv t_ms "$4") $(python3 "$src/tests/bench/compare/zx_timeline.py" "$D_LOG" "$t0")" \
		>>"$out/zx-timeline.txt"
}

# ---- the primary: one knotd serving big.test and the small zones ----

need_big=0 need_many=0
{ has "$rows" big || has "$rows" ixfr || has "$rows" floor; } && need_big=1
{ has "$rows" many || has "$rows" burst; } && need_many=1
has "$rows" ixfr && ! has "$rows" big && bed_die "--rows ixfr needs big"
has "$rows" burst && ! has "$rows" many && bed_die "--rows burst needs many"
PD=$C_W/primary
PSOCK=$(mktemp -d /tmp/zxcmp.XXXXXX) # control socket: sun_path is short (FIELD-NOTES.md)
bed_on_exit "rm -rf '$PSOCK'"
mkdir -p "$PD/db" "$PD/zones"
C_ZONES_big=$C_W/big.names
C_ZONES_many=$C_W/many.names
MANY_SERIALS=$C_W/many.serials # "zone serial" as the primary serves them now

# many_zone NAME SERIAL: a small zone (11 RRs); h1's address follows the serial, so each
# bump changes one RR besides the SOA
gen_many() # gen_many SERIAL NAMES... (awk writes every file)
{
	local serial=$1
	shift
	printf '%s\n' "$@" | awk -v d="$PD/zones" -v s="$serial" '{
		f = d "/" $1 ".zone"
		printf "%s. 3600 IN SOA ns1.%s. h.%s. %d 3600 600 86400 300\n", $1, $1, $1, s > f
		printf "%s. 3600 IN NS ns1.%s.\nns1.%s. 3600 IN A 192.0.2.1\n", $1, $1, $1 > f
		printf "h1.%s. 3600 IN A 198.51.%d.%d\n", $1, int(s / 250) % 256, s % 250 + 1 > f
		for (a = 2; a <= 8; a++) printf "h%d.%s. 3600 IN A 198.51.100.%d\n", a, $1, a > f
		close(f)
	}'
}

primary_conf()
{
	echo "server:"
	echo "    rundir: \"$PD\""
	echo "    listen: 127.0.0.1@$C_PPORT"
	echo "control:"
	echo "    listen: \"$PSOCK/knot.sock\""
	echo "database:"
	echo "    storage: \"$PD/db\""
	echo "log:"
	echo "  - target: \"$PD/knotd.log\""
	echo "    any: notice"
	echo "key:"
	echo "  - id: xfr-key"
	echo "    algorithm: hmac-sha256"
	echo "    secret: $C_SECRET"
	echo "acl:"
	echo "  - id: xfr"
	echo "    address: 127.0.0.0/8"
	echo "    key: xfr-key"
	echo "    action: transfer"
	echo "template:"
	echo "  - id: default"
	echo "    storage: \"$PD/zones\""
	echo "    file: \"%s.zone\""
	echo "    zonefile-load: difference"
	echo "    journal-content: changes"
	echo "    zonefile-sync: -1"
	echo "    acl: xfr"
	echo "zone:"
	cat "$C_ZONES_big" "$C_ZONES_many" 2>/dev/null | sed 's/^/  - domain: /'
}

# wait_primary FILE: the primary serves every "zone serial" of FILE
wait_primary()
{
	"$POLL" -s "127.0.0.1@$C_PPORT" -f "$1" -i 5 -q 5000 -t 300 >"$C_W/primary.poll" ||
		bed_die "the primary does not serve $1: $(cat "$C_W/primary.poll")"
}

start_primary()
{
	bed_ports 1 C_PPORT
	: >"$C_ZONES_big"
	: >"$C_ZONES_many"
	if [ "$need_big" = 1 ]; then
		echo big.test >"$C_ZONES_big"
		"$build/tests/bed/zonegen" -z big.test -n "$big_n" -s 1 -S 1000 -o "$PD/zones/big.test.zone"
	fi
	if [ "$need_many" = 1 ]; then
		seq 0 $((many_n - 1)) | awk '{ printf "z%05d.test\n", $1 }' >"$C_ZONES_many"
		mapfile -t names <"$C_ZONES_many"
		gen_many 1 "${names[@]}"
		sed 's/$/ 1/' "$C_ZONES_many" >"$MANY_SERIALS"
	fi
	primary_conf >"$PD/knot.conf"
	setsid knotd -c "$PD/knot.conf" >"$PD/out" 2>&1 </dev/null &
	C_PPID=$!
	bed_track "$C_PPID" knot-primary
	local t=$SECONDS
	[ "$need_big" = 1 ] && { echo "big.test $(big_serial)" >"$C_W/big.target"; wait_primary "$C_W/big.target"; }
	[ "$need_many" = 1 ] && wait_primary "$MANY_SERIALS"
	bed_log "primary knotd (pid $C_PPID) on 127.0.0.1@$C_PPORT: big.test ${big_n} RRs: $need_big, $many_n small zones: $need_many; loaded in $((SECONDS - t)) s"
}

big_serial() { awk '$4 == "SOA" { print $7; exit }' "$PD/zones/big.test.zone"; }

# big_change K: K A records of big.test get new addresses, serial + 1, reload, wait
big_change()
{
	local f=$PD/zones/big.test.zone s
	s=$(($(big_serial) + 1))
	_primary_edit "$f" 0 0 "$1" "$s"
	touch -d "@$(($(date +%s) + 1))" "$f"
	knotc -s "$PSOCK/knot.sock" zone-reload big.test >/dev/null || bed_die "knotc zone-reload big.test"
	echo "big.test $s" >"$C_W/big.target"
	wait_primary "$C_W/big.target"
}

# many_change: the first $changed_n zones get serial + 1 and one changed RR; reload, wait
many_change()
{
	local s names
	s=$(($(awk 'NR == 1 { print $2 }' "$MANY_SERIALS") + 1))
	mapfile -t names < <(head -n "$changed_n" "$C_ZONES_many")
	gen_many "$s" "${names[@]}"
	(cd "$PD/zones" && printf '%s.zone\n' "${names[@]}" | xargs touch -d "@$(($(date +%s) + 1))")
	knotc -s "$PSOCK/knot.sock" zone-reload "${names[@]}" >/dev/null || bed_die "knotc zone-reload"
	awk -v c="$changed_n" -v s="$s" 'NR <= c { $2 = s } { print }' "$MANY_SERIALS" >"$MANY_SERIALS.new"
	mv "$MANY_SERIALS.new" "$MANY_SERIALS"
	head -n "$changed_n" "$MANY_SERIALS" >"$C_W/changed.target"
	wait_primary "$C_W/changed.target"
}

# ---- Kafka (zx's Kafka mode and the notify row) ----

BROKER_PID=""
start_kafka()
{
	if [ -z "${ZX_KAFKA_BOOTSTRAP:-}" ]; then
		if ! bash "$src/tests/bed/kafka.sh" status >/dev/null 2>&1; then
			ZX_KAFKA_JVM_OPTS=${ZX_KAFKA_JVM_OPTS:-"-Xms3g -Xmx3g -Xmn2g -XX:+UseG1GC -XX:TieredStopAtLevel=1"} \
				bash "$src/tests/bed/kafka.sh" start >&2
			bed_on_exit "bash '$src/tests/bed/kafka.sh' stop"
		fi
		set -a
		. "$ZX_BED_DIR/kafka.env"
		set +a
	fi
	C_KAFKA=$ZX_KAFKA_BOOTSTRAP
	BROKER_PID=$(ss -Htlnp "sport = :${C_KAFKA##*:}" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
	# the mock keeps no data and answers in-process: Kafka-mode figures would mean nothing
	[ "${ZX_KAFKA_KIND:-}" != mock ] || [ "${COMPARE_ALLOW_MOCK:-0}" = 1 ] ||
		bed_die "Kafka is librdkafka's mock cluster, not Apache Kafka (COMPARE_ALLOW_MOCK=1 to go on anyway)"
	bed_log "Kafka ${ZX_KAFKA_KIND:-?} at $C_KAFKA (broker pid ${BROKER_PID:-unknown})"
	# A new broker creates its __consumer_offsets topic at the first group join: 1 s in
	# the first xfrd start of a first full run. A broker in service has it: make it now.
	local zk=$build/tests/bed/zxkafka t=cmp.warmup.$$
	"$zk" create-topic "$C_KAFKA" "$t" 1 >/dev/null &&
		"$zk" produce-request "$C_KAFKA" "$t" warm.test >/dev/null &&
		"$zk" consume "$C_KAFKA" "$t" --count 1 --timeout 60 --from-beginning --group "$t.g" \
			>/dev/null || bed_log "WARNING: the broker's warm-up (a group join) failed"
	"$zk" delete-topic "$C_KAFKA" "$t" >/dev/null 2>&1 || true
}

# ---- rows ----

broker_arg() { [ "$1" = zx ] && [ -n "$BROKER_PID" ] && echo "-C $BROKER_PID"; }

# poll_start TARGETS TIMEOUT KIND TAG: the poller from D_T0 until every target is served;
# each zone's time and gap in $out/zones/TAG.txt
poll_start()
{
	local m=() p
	for p in "${D_PIDS[@]}"; do m+=(-m "$p"); done
	# shellcheck disable=SC2046
	"$POLL" -s "127.0.0.1@$D_SERVE" -f "$1" --t0 "$D_T0" -t "$2" "${m[@]}" $(broker_arg "$3") \
		-o "$out/zones/$4.txt" 2>&1 | tail -1 || true
}

# poll_notify TARGETS TIMEOUT KIND TAG: NOTIFY every target zone (at --notify-rate a
# second), then poll until served
poll_notify()
{
	local m=() p
	for p in "${D_PIDS[@]}"; do m+=(-m "$p"); done
	# shellcheck disable=SC2046
	"$POLL" -s "127.0.0.1@$D_SERVE" -f "$1" -n "127.0.0.1@$D_NOTIFY" -k "$C_KEY" -t "$2" \
		-r "$notify_rate" \
		"${m[@]}" $(broker_arg "$3") -o "$out/zones/$4.txt" 2>&1 | tail -1 || true
}

# d_ticks: CPU clock ticks of the daemon's processes and their children so far
d_ticks()
{
	local p c t=0
	for p in "${D_PIDS[@]}"; do
		for c in "$p" $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			t=$((t + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$c/stat" 2>/dev/null || echo 0)))
		done
	done
	echo "$t"
}

# settle: wait (at most 60 s) until the daemon used under 5% of a CPU for a second, so a
# NOTIFY row measures the answer to the NOTIFYs, not the tail of the load before (Knot,
# by default, writes every zone's file after loading them: its refreshes of a burst sent
# at once waited 4-5 s behind 10,000 zone-file writes). Prints the seconds waited.
settle()
{
	local t0=$SECONDS a b hz
	hz=$(getconf CLK_TCK)
	a=$(d_ticks)
	while [ $((SECONDS - t0)) -lt 60 ]; do
		sleep 1
		b=$(d_ticks)
		[ $((b - a)) -le $((hz / 20)) ] && break
		a=$b
	done
	echo $((SECONDS - t0))
}

# wait_time_wait: thousands of TCP transfers leave TIME_WAIT sockets on loopback; the
# next many-zone start must not run out of ephemeral ports (ANCHORS.md, FIELD-NOTES.md)
wait_time_wait()
{
	local n i
	for ((i = 0; i < 120; i++)); do
		n=$(ss -Htan state time-wait | wc -l)
		[ "$n" -lt 5000 ] && return 0
		sleep 1
	done
	bed_log "still $n sockets in TIME_WAIT after 120 s"
}

row_floor()
{
	local r t0 t1 parse=$build/tests/bench/xfr/bench_xfr_parse
	kdig @127.0.0.1 -p "$C_PPORT" -y "$C_KEY" AXFR big.test >/dev/null # warm-up, not counted
	for ((r = 1; r <= reps; r++)); do
		local l0
		l0=$(load1)
		t0=$EPOCHREALTIME
		kdig @127.0.0.1 -p "$C_PPORT" -y "$C_KEY" AXFR big.test >/dev/null
		t1=$EPOCHREALTIME
		record floor_kdig kdig "$r" "served=1/1 t_ms=$(echo "($t1 - $t0) * 1000" | bc -l | xargs printf '%.1f')" "$l0" "$(load1)"
		if [ -x "$parse" ]; then
			l0=$(load1)
			t0=$EPOCHREALTIME
			"$parse" capture 127.0.0.1 "$C_PPORT" big.test "$C_KEY" /dev/null >/dev/null
			t1=$EPOCHREALTIME
			record floor_recv walker "$r" "served=1/1 t_ms=$(echo "($t1 - $t0) * 1000" | bc -l | xargs printf '%.1f')" "$l0" "$(load1)"
		fi
	done
}

# session_big KIND REP: start KIND for big.test, time the load, then the IXFRs
session_big()
{
	local kind=$1 r=$2 l0 line k i
	l0=$(load1)
	d_start "$kind" big "$C_W/d-$kind"
	line=$(poll_start "$C_W/big.target" 600 "$kind" "big-$kind-$r")
	record big "$kind" "$r" "$line" "$l0" "$(load1)" "$(d_engine_ms "$kind")"
	timeline big "$kind" "$r" "$line"
	if has "$rows" ixfr && [ -n "$D_NOTIFY" ] && [ "$(kv t_ms "$line")" != -1.000 ]; then
		for ((i = 1; i <= ixfr_reps; i++)); do
			for k in 1 1000; do
				local waited note=""
				waited=$(settle)
				big_change "$k"
				l0=$(load1)
				line=$(poll_notify "$C_W/big.target" 120 "$kind" "ixfr_$k-$kind-$r.$i")
				[ "$waited" -le 1 ] || note="settled ${waited}s"
				[ "$(kv already "$line")" = 0 ] || note="served before the NOTIFY"
				record "ixfr_$k" "$kind" "$r.$i" "$line" "$l0" "$(load1)" \
					"$(d_engine_ms "$kind")" "$note"
				timeline "ixfr_$k" "$kind" "$r.$i" "$line"
			done
		done
	fi
	d_stop
}

# session_many KIND REP: start KIND with the small zones, time the load, then the burst
session_many()
{
	local kind=$1 r=$2 l0 line
	wait_time_wait
	l0=$(load1)
	d_start "$kind" many "$C_W/d-$kind"
	line=$(poll_start "$MANY_SERIALS" 900 "$kind" "many-$kind-$r")
	local done_zx=""
	[[ $kind == zx* ]] && done_zx="xfr_done lines: $(grep -c 'event=xfr_done' "$D_LOG" || true)"
	record many "$kind" "$r" "$line" "$l0" "$(load1)" "" "$done_zx"
	timeline many "$kind" "$r" "$line"
	if has "$rows" burst && [ -n "$D_NOTIFY" ] && [ "$(kv t_ms "$line")" != -1.000 ]; then
		local waited
		waited=$(settle)
		many_change
		l0=$(load1)
		line=$(poll_notify "$C_W/changed.target" 300 "$kind" "burst-$kind-$r")
		record burst "$kind" "$r" "$line" "$l0" "$(load1)" "" "settled ${waited}s"
		timeline burst "$kind" "$r" "$line"
	fi
	d_stop
}

row_notify()
{
	local port
	port=$(bed_port)
	bed_port_keep "$port"
	# the NOTIFY bench takes 4 consecutive ports from ZX_BENCH_PORT: reserve them
	local p
	for p in 1 2 3; do
		mkdir "$ZX_BED_DIR/ports/$((port + p))" 2>/dev/null && bed_port_keep "$((port + p))" ||
			bed_log "port $((port + p)) may be in use"
	done
	local secs=${ZX_BENCH_SECS:-3} rates=${ZX_BENCH_RATES:-}
	[ "$quick" = 1 ] && { secs=2; rates=${rates:-"5000 10000 20000 30000 40000 60000 80000 100000"}; }
	local envs=(ZX_BENCH_PORT="$port" ZX_BENCH_SECS="$secs" ZX_BENCH_OUT="$out/notify"
		ZX_KAFKA_BOOTSTRAP="$C_KAFKA" ZX_KAFKA_KIND="${ZX_KAFKA_KIND:-}")
	[ -n "$rates" ] && envs+=(ZX_BENCH_RATES="$rates")
	env "${envs[@]}" bash "$src/tests/bench/notify/bench.sh" "$build" >"$out/notify.log" 2>&1 ||
		bed_log "the NOTIFY bench failed: $(tail -n 3 "$out/notify.log")"
}

# ---- run ----

{
	echo "date: $(date -u +%FT%TZ)"
	echo "zx: $(git -C "$src" rev-parse --short HEAD 2>/dev/null)$(git -C "$src" diff --quiet 2>/dev/null || echo ' (modified)')"
	echo "build: $build ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt"))"
	echo "machine: $(nproc) CPUs, $(uname -r), $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
	echo "peers: $(knotd --version 2>&1 | head -1); $(named -v 2>&1 | head -1); $(nsd -v 2>&1 | head -1)"
	echo "rows: $rows; daemons: $daemons; reps: $reps; ixfr-reps: $ixfr_reps; big: $big_n; many: $many_n; changed: $changed_n; NOTIFYs sent at ${notify_rate}/s (0: all at once)"
	echo "poller: UDP SOA, per zone at most one query in flight and one per 1 ms, <= 10000 queries/s and <= 64 in flight, 250 ms query timeout; /proc every 100 ms"
	echo "load at start: $(cat /proc/loadavg)"
	if [ -n "${COMPARE_ZX_ENV:-}${COMPARE_ZX_WRAP:-}${COMPARE_ZX_XFRD:-}" ]; then
		echo "DIAGNOSTIC RUN, NOT A FAIR ONE: zx ran with env '${COMPARE_ZX_ENV:-}' under '${COMPARE_ZX_WRAP:-}', xfrd config '${COMPARE_ZX_XFRD:-}'"
	fi
} >"$out/env.txt"

# the broker first: its JVM's start-up takes CPU for seconds, the primary's load covers it
if has "$daemons" zx || has "$rows" notify; then
	start_kafka
	echo "kafka: ${ZX_KAFKA_KIND:-?} ${ZX_KAFKA_VERSION:-} at $C_KAFKA, broker pid ${BROKER_PID:-?}" >>"$out/env.txt"
fi
start_primary
IFS=, read -r -a dlist <<<"$daemons"
has "$rows" floor && row_floor
if has "$rows" big; then
	for ((r = 1; r <= reps; r++)); do
		for d in "${dlist[@]}"; do
			session_big "$d" "$r"
		done
	done
fi
if has "$rows" many; then
	for ((r = 1; r <= reps; r++)); do
		for d in "${dlist[@]}"; do
			session_many "$d" "$r"
		done
	done
fi
has "$rows" notify && row_notify
echo "load at end: $(cat /proc/loadavg)" >>"$out/env.txt"
python3 "$src/tests/bench/compare/summarize.py" "$out" >"$out/results.md"
cat "$out/results.md"
bed_log "results in $out"
