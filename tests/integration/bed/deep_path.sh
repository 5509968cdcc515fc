#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/bed/deep_path.sh -- the bed works whatever the checkout's depth.
#
# sun_path holds 107 bytes; the bed used to put unix sockets (knotd's and nsd's control
# sockets) under the scratch dir, so on a clone at <dir>/<40-hex>/ knotd failed to bind
# ("not enough space provided") and exited: xfr_standalone_notify and
# operator_run_local failed, docker/run-local.sh could not start its primary. Here the
# bed's state dir is moved two 40-hex levels deeper than this test's own scratch dir:
#   1. xfr_standalone_notify runs there as it is (a Knot primary changed with knotc
#      through its control socket, xfrd --standalone, a knotd secondary NOTIFYed);
#   2. a Knot primary started the way docker/run-local.sh starts it (primary.sh with no
#      test scratch dir) answers knotc on its control socket: notify, reload, stop;
#      its socket dir is gone after primary_stop.
# Port reservations stay shared with the rest of the run (the lock dir is linked).
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
bed_init bed_deep_path
command -v knotd >/dev/null || bed_skip "knotd missing"
[ -x "$ZX_BUILD/xfrd/xfrd" ] || bed_skip "xfrd not built"

hex=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
deep=$BED_T/$hex/$hex/zx
mkdir -p "$deep/bed"
mkdir -p "$ZX_BED_DIR/ports"
ln -s "$ZX_BED_DIR/ports" "$deep/bed/ports"
probe="$deep/bed/t/xfr_standalone_notify.XXXXXX/downstream/knot.sock"
[ "${#probe}" -gt 107 ] || bed_die "not deep enough: ${#probe} bytes"
bed_log "deep bed dir (${#deep} bytes): $deep"

# Whatever the children leave (a child killed mid-way): stop it by its pid lists.
stop_children()
{
	local f pid name
	for f in "$deep"/bed/t/*/pids "$deep"/bed/primary/primary-*/pid; do
		[ -f "$f" ] || continue
		while read -r pid name; do
			bed_stop_pid "$pid" "${name:-child}"
		done <"$f"
	done
}
bed_on_exit stop_children

# 1. the standalone NOTIFY path, its scratch dir deep
if ! ZX_BED_DIR=$deep/bed bash "$ZX_SRC/tests/integration/xfr/standalone_notify.sh" \
	>"$BED_T/standalone.out" 2>&1; then
	tail -n 30 "$BED_T/standalone.out" >&2
	tail -n 5 "$deep"/bed/t/*/downstream/knotd.log "$deep"/bed/t/*/primary-up/knotd.log 2>/dev/null >&2 || true
	bed_die "xfr_standalone_notify fails from a deep bed dir"
fi
grep -q PASS "$BED_T/standalone.out" || bed_die "xfr_standalone_notify did not pass: $(tail -3 "$BED_T/standalone.out")"
bed_log "xfr_standalone_notify passes from the deep bed dir"

# 2. primary.sh without a test scratch dir (docker/run-local.sh's way)
bed_ports 1 pport
BED_T_OUTER=$BED_T
"$(bed_tool zonegen)" -z deep.test -n 20 -s 3 -S 7 -o "$BED_T/deep.db"
(
	unset BED_T BED_SOCK
	export ZX_BED_DIR=$deep/bed
	. "$ZX_SRC/tests/bed/primary.sh"
	trap 'primary_stop deep' EXIT
	primary_start knot deep "$pport" deep.test "$BED_T_OUTER/deep.db"
	ctl=$(primary_ctl deep)
	[ "${#ctl}" -lt 108 ] || bed_die "control socket path of ${#ctl} bytes: $ctl"
	knotc -s "$ctl" status >/dev/null || bed_die "knotc status on $ctl"
	primary_notify deep || bed_die "knotc zone-notify"
	primary_change deep 1 0 1 >/dev/null 2>&1 || bed_die "primary_change (knotc zone-reload)"
	[ "$(primary_serial deep)" = 8 ] || bed_die "serial $(primary_serial deep), want 8"
	primary_stop deep
	trap - EXIT
	[ ! -e "$(dirname "$ctl")" ] || bed_die "primary_stop left $(dirname "$ctl")"
) || bed_die "the run-local way of starting a primary fails from a deep bed dir"
bed_log "primary.sh without a scratch dir: knotc notify/reload on its socket, dir removed at stop"
bed_log PASS
