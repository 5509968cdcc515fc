#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/operator/run_local.sh -- the README's "run the service"
# command, docker/run-local.sh, with the example config: it starts Kafka (its
# own, on a port of this test's range), notifyd, xfrd and the knotd primary and
# prints the commands to try; the printed knotc command changes the zone, and
# within 5 s xfrd holds the new serial: on its DNS endpoint (the printed kdig
# command) and in its store (xfrctl). zx-follow, the reference zone builder, then
# follows a chain of 10 knotc changes by IXFR on the ZoneUpdated events (its file
# equal to xfrd's AXFR, xfrd's to the primary's); xfrctl retransfer and refresh
# reach xfrd through Kafka. Then SIGINT (Ctrl-C) stops everything it
# started. A second run in the same directory starts over (serial 1, then the first
# change arrives). The build of this test tree is used (ZX_RUN_NO_BUILD, ZX_RUN_NO_DEPS).
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-26200 26999}
. "$ZX_SRC/tests/bed/lib.sh"
bed_init run_local
for b in notifyd/notifyd xfrd/xfrd xfrd/xfrctl xfrd/zx-follow tests/bed/zxkafka; do
	[ -x "$ZX_BUILD/$b" ] || bed_skip "$ZX_BUILD/$b not built"
done
for c in knotd knotc kdig curl ss; do
	command -v "$c" >/dev/null || bed_skip "$c missing"
done
bed_ports 5 np xp pp nh xh
kport=""
for _ in $(seq 20); do
	p=$(bed_port)
	bed_port_keep "$p"
	if bed_port_free $((p + 1)); then
		kport=$p
		break
	fi
done
[ -n "$kport" ] || bed_die "no free port pair for Kafka"
state=$BED_T/run
out=$BED_T/run_local.out

run_local()
{
	bed_spawn run_local env --default-signal=INT \
		ZX_RUN_BUILD="$ZX_BUILD" ZX_RUN_NO_BUILD=1 ZX_RUN_NO_DEPS=1 ZX_RUN_DIR="$state" \
		ZX_KAFKA_PORT="$kport" ZX_RUN_NOTIFYD_PORT="$np" ZX_RUN_XFRD_PORT="$xp" \
		ZX_RUN_PRIMARY_PORT="$pp" ZX_RUN_NOTIFYD_HTTP="$nh" ZX_RUN_XFRD_HTTP="$xh" \
		"$ZX_SRC/docker/run-local.sh"
	run_pid=$BED_PID
}
# ctrl_c: SIGINT, and run-local.sh exits.
ctrl_c()
{
	kill -INT "$run_pid"
	bed_wait_for 60 bash -c "! kill -0 $run_pid 2>/dev/null" || bed_die "run-local.sh ignored SIGINT"
	bed_untrack "$run_pid"
}
run_local
t0=$SECONDS
bed_wait_for 240 grep -q 'Ctrl-C stops everything' "$out" ||
	bed_die "run-local.sh not ready: $(tail -20 "$out")"
bed_log "run-local.sh ready in $((SECONDS - t0)) s"
grep -q "^run-local: ready. Kafka at 127.0.0.1:$kport\|^run-local: ready. Kafka at " "$out" ||
	bed_die "no ready line: $(cat "$out")"

# Everything it started, for the check at the end.
started=()
for f in "$state"/notifyd.pid "$state"/xfrd.pid "$state"/bed/kafka/kafka.pid \
	"$state"/bed/primary/primary-local/pid; do
	[ -s "$f" ] || bed_die "no pid file $f"
	started+=("$(cat "$f")")
done
bed_log "started: notifyd, xfrd, kafka, knotd = ${started[*]}"

cfg=$state/zx.yaml
xfrctl=("$ZX_BUILD/xfrd/xfrctl" -c "$cfg")
"${xfrctl[@]}" show example.test | grep -q '^serial: *1$' ||
	bed_die "xfrd does not hold example.test serial 1: $("${xfrctl[@]}" show example.test 2>&1)"

# The printed knotc command, as printed.
knotc_cmd=$(sed -n '/^  K="knotc/,/zone-commit/p' "$out" | sed 's/\\$//' | tr '\n' ' ')
[ -n "$knotc_cmd" ] || bed_die "no knotc command printed: $(cat "$out")"
kdig_cmd=$(sed -n 's/^  \(kdig .* SOA example.test\);.*/\1/p' "$out")
[ -n "$kdig_cmd" ] || bed_die "no kdig command printed"
t1=$(date +%s%N)
bash -c "$knotc_cmd" >/dev/null || bed_die "the printed knotc command failed: $knotc_cmd"
store_has_2() { "${xfrctl[@]}" show example.test | grep -q '^serial: *2$'; }
bed_wait_for 5 store_has_2 || bed_die "xfrd's store did not reach serial 2 within 5 s: $(tail -5 "$state/xfrd.log")"
bed_log "knotc change -> xfrd's store at serial 2 in $((($(date +%s%N) - t1) / 1000000)) ms"
dns_has_2() { [ "$(bash -c "$kdig_cmd" | awk '{ print $3 }')" = 2 ]; }
bed_wait_for 5 dns_has_2 || bed_die "the printed kdig command does not show serial 2: $(bash -c "$kdig_cmd" 2>&1)"
bed_log "the printed kdig command shows serial 2 on xfrd's endpoint"
# ... and the TXT it says: one string, as quoted (not "hi" "from" "knotc")
txt=$(bash -c "${kdig_cmd% SOA example.test} TXT hello.example.test")
[ "$txt" = '"hi from knotc"' ] || bed_die "the printed knotc command stored TXT $txt"

# The reference zone builder on the real pipeline: zx-follow with the same config
# follows a chain of 10 changes made on the primary with knotc, each by IXFR on
# the ZoneUpdated event; its file equals xfrd's AXFR, and xfrd's equals the primary's.
follow=$ZX_BUILD/xfrd/zx-follow
mkdir -p "$BED_T/zones"
bed_spawn zx-follow "$follow" -c "$cfg" -g "run-local-test.$$" -d "$BED_T/zones"
follow_pid=$BED_PID
file_serial() { awk '$4 == "SOA" { print $7; exit }' "$BED_T/zones/example.test.zone" 2>/dev/null; }
file_has() { [ "$(file_serial)" = "$1" ]; }
bed_wait_for 20 file_has 2 || bed_die "zx-follow: no serial 2: $(tail -3 "$BED_T/zx-follow.out")"
key=$(sed -n 's/.*name: xfr-key, algorithm: \([^,]*\), secret: "\([^"]*\)".*/\1:xfr-key:\2/p' "$cfg")
K=(knotc -s "$(cat "$state/bed/primary/primary-local/ctl")")
for i in $(seq 3 12); do
	"${K[@]}" zone-begin example.test >/dev/null &&
		"${K[@]}" zone-set example.test "h$i" 300 A "192.0.2.$i" >/dev/null &&
		"${K[@]}" zone-commit example.test >/dev/null || bed_die "knotc change $i"
	bed_wait_for 10 file_has "$i" ||
		bed_die "zx-follow did not reach $i: $(tail -3 "$BED_T/zx-follow.out"; tail -3 "$state/xfrd.log")"
	bed_axfr 127.0.0.1 "$xp" example.test >"$BED_T/xfrd.axfr" || bed_die "AXFR from xfrd"
	bed_zone_canon "$BED_T/zones/example.test.zone" >"$BED_T/follow.canon"
	bed_zone_compare "$BED_T/xfrd.axfr" "$BED_T/follow.canon" || bed_die "zx-follow differs at $i"
	grep -q "zone=example.test. serial_from=$((i - 1)) serial_to=$i method=ixfr .*trigger=event" \
		"$BED_T/zx-follow.out" || bed_die "$((i - 1)) -> $i not by IXFR on the event"
done
bed_axfr 127.0.0.1 "$pp" example.test "$key" >"$BED_T/primary.axfr" || bed_die "primary AXFR"
bed_zone_compare "$BED_T/primary.axfr" "$BED_T/xfrd.axfr" || bed_die "xfrd differs from the primary"
bed_stop_pid "$follow_pid" zx-follow
bed_untrack "$follow_pid"
bed_log "zx-follow followed 10 knotc changes by IXFR on the events; equal to xfrd, xfrd to the primary"

# xfrctl's requests take the NOTIFY's path to xfrd: retransfer is a full AXFR,
# refresh of a current zone an SOA check.
log=$state/xfrd.log
n_axfr=$(grep -c 'event=xfr_done zone=example.test. kind=axfr' "$log" || true)
"${xfrctl[@]}" retransfer example.test >/dev/null || bed_die "xfrctl retransfer failed"
axfr_more() { [ "$(grep -c 'event=xfr_done zone=example.test. kind=axfr' "$log")" -gt "$n_axfr" ]; }
bed_wait_for 5 axfr_more || bed_die "xfrctl retransfer: no AXFR in 5 s: $(tail -3 "$log")"
n_up=$(grep -c 'event=xfr_uptodate zone=example.test.' "$log" || true)
"${xfrctl[@]}" refresh example.test >/dev/null || bed_die "xfrctl refresh failed"
up_more() { [ "$(grep -c 'event=xfr_uptodate zone=example.test.' "$log")" -gt "$n_up" ]; }
bed_wait_for 5 up_more || bed_die "xfrctl refresh: no SOA check in 5 s: $(tail -3 "$log")"
bed_log "xfrctl retransfer -> AXFR, xfrctl refresh -> SOA check (up to date), through Kafka"

# Ctrl-C: everything it started stops, and it exits.
ctrl_c
for pid in "${started[@]}"; do
	! kill -0 "$pid" 2>/dev/null || bed_die "pid $pid still runs after Ctrl-C: $(tail -8 "$out")"
done
grep -q 'run-local: everything stopped' "$out" || bed_die "no stop line: $(tail -8 "$out")"
for p in "$np" "$xp" "$pp" "$nh" "$xh" "$kport"; do
	bed_port_free "$p" || bed_die "port $p still open after Ctrl-C"
done
bed_log "SIGINT: notifyd, xfrd, Kafka and knotd stopped, ports closed"

# Run it again in the same directory: the example starts over, so xfrd holds the
# primary's serial 1 (not the 12 of the last run), and the first change arrives.
mv "$out" "$out.1"
run_local
bed_wait_for 240 grep -q 'Ctrl-C stops everything' "$out" || bed_die "second run: $(tail -20 "$out")"
[ "$(bash -c "$kdig_cmd" | awk '{ print $3 }')" = 1 ] ||
	bed_die "second run: xfrd holds $(bash -c "$kdig_cmd") (want serial 1)"
# the primary's control socket is in a new short dir (tests/bed/primary.sh): the
# command as this run printed it
knotc_cmd=$(sed -n '/^  K="knotc/,/zone-commit/p' "$out" | sed 's/\\$//' | tr '\n' ' ')
bash -c "$knotc_cmd" >/dev/null || bed_die "second run: knotc"
bed_wait_for 5 dns_has_2 || bed_die "second run: the change did not arrive: $(bash -c "$kdig_cmd" 2>&1)"
ctrl_c
bed_log "a second run starts over: serial 1, then the first change arrives"
