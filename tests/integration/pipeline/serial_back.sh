#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/pipeline/serial_back.sh -- issue 11 item 3 through Kafka: only an
# operator's `xfrctl retransfer --force` stores an older serial.
#
# xfrd (Kafka mode) holds h.test at 60 from the hostile primary, which then goes back
# in time (its SOA says 100, its zone is at 50):
#   - a refresh (IXFR answered with the zone at 50) and a plain retransfer are both
#     refused: FAILED events whose error names both serials, the store keeps 60,
#     xfrd_transfers_refused_serial_total counts them;
#   - xfrctl retransfer --force (TransferRequest.force) stores 50: a COMMITTED event
#     60 -> 50 and an xfr_serial_back line at warn.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
ports=${ZX_BED_PORTS:-}
pl_init serial_back 1
[ -n "$ports" ] && export ZX_BED_PORTS=$ports # pl_init's range is the pipeline tests'
xfrctl=$ZX_BUILD/xfrd/xfrctl
hostile=$ZX_BUILD/tests/integration/xfr/hostile_primary
[ -x "$hostile" ] || bed_skip "$hostile not built"
bed_ports 2 port hport

primary() # MODE SERIAL
{
	[ -n "${hpid:-}" ] && { bed_stop_pid "$hpid" hostile; bed_untrack "$hpid"; }
	rm -f "$BED_T/hostile.out"
	bed_spawn hostile "$hostile" -p "$port" -z h.test. -s "$2" -n 50 ${1:+-M "$1"}
	hpid=$BED_PID
	bed_wait_for 5 grep -q ready "$BED_T/hostile.out" || bed_die "hostile primary did not start"
}
primary "" 60
pl_config "$BED_T/zx.yaml" r1 "$hport" "$port" "" -- h.test
pl_xfrd x "$BED_T/zx.yaml"
bed_wait_for 60 grep -Eq 'event=xfr_done .*kind=axfr .* serial=60 ' "$BED_T/x.out" ||
	bed_die "no first AXFR: $(tail -n 3 "$BED_T/x.out")"
held() { "$xfrctl" --store "$BED_T/r1.lmdb" show h.test | sed -n 's/^serial: *//p'; }
# updates_at_least N PATTERN: N events matching PATTERN within 20 s
updates_at_least()
{
	local i
	for ((i = 0; i < 20; i++)); do
		[ "$(pl_updates | grep -c "$2" || true)" -ge "$1" ] && return 0
		sleep 1
	done
	return 1
}

primary oldzone:50 100
"$xfrctl" -c "$BED_T/zx.yaml" refresh h.test >/dev/null || bed_die "xfrctl refresh failed"
bed_wait_for 30 sh -c "[ \$(grep -c 'event=xfr_serial_refused' '$BED_T/x.out') -ge 1 ]" ||
	bed_die "refresh not refused: $(grep -E 'xfr_(done|failed)' "$BED_T/x.out" | tail -2)"
"$xfrctl" -c "$BED_T/zx.yaml" retransfer h.test >/dev/null || bed_die "xfrctl retransfer failed"
bed_wait_for 30 sh -c "[ \$(grep -c 'event=xfr_serial_refused' '$BED_T/x.out') -ge 2 ]" ||
	bed_die "retransfer not refused: $(grep -E 'xfr_(done|failed)' "$BED_T/x.out" | tail -2)"
[ "$(held)" = 60 ] || bed_die "the store went to $(held)"
updates_at_least 2 'UPDATE_KIND_FAILED.*serial 50 is older than the stored serial 60' ||
	bed_die "FAILED events: $(pl_updates | grep FAILED)"
curl -s "http://127.0.0.1:$hport/metrics" | grep -q '^xfrd_transfers_refused_serial_total 2$' ||
	bed_die "metric: $(curl -s "http://127.0.0.1:$hport/metrics" | grep refused)"
bed_log "refused twice: $(pl_updates | grep FAILED | tail -1)"

"$xfrctl" -c "$BED_T/zx.yaml" retransfer --force h.test | grep -q 'force=yes' ||
	bed_die "xfrctl retransfer --force"
bed_wait_for 30 grep -Eq 'event=xfr_done .*kind=axfr old_serial=60 serial=50 ' "$BED_T/x.out" ||
	bed_die "--force did not store 50: $(grep -E 'xfr_(done|failed)' "$BED_T/x.out" | tail -2)"
grep -q 'level=warn .*event=xfr_serial_back zone=h.test. old_serial=60 serial=50 ' "$BED_T/x.out" ||
	bed_die "no warn line"
grep -q 'event=request_read zone=h.test. .*origin=retransfer .*force=yes' "$BED_T/x.out" ||
	bed_die "the request's force flag: $(grep request_read "$BED_T/x.out" | tail -1)"
[ "$(held)" = 50 ] || bed_die "held $(held) after --force"
updates_at_least 1 'kind=UPDATE_KIND_COMMITTED method=METHOD_AXFR serial=50 .*old_serial=60' ||
	bed_die "COMMITTED event: $(pl_updates | tail -2)"
bed_log "--force: $(grep 'event=xfr_serial_back' "$BED_T/x.out")"
bed_log PASS
