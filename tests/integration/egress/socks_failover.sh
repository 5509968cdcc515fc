#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/egress/socks_failover.sh -- a SOCKS5 proxy killed in the middle of a
# large AXFR (ss-local A, with ss-local B beside it, both in front of one ss-server
# going out from 127.0.0.2; the primary, knotd with TSIG, allows only 127.0.0.2):
#   1. only A: the first AXFR (serial 1)
#   2. only A, killed mid-transfer (a forced AXFR of serial 2): the transfer fails as
#      a lost connection through the proxy, the zone stays whole at serial 1
#   3. A and B, A killed mid-transfer: the same primary through B, serial 2 stored
#   4. A and B both down: the refresh fails (the proxy unreachable), the zone stays
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/egress/lib.sh"
bed_init egress_failover
egress_need ss-server ss-local knotd kdig ldns-read-zone
[ -x "$ZX_BUILD/xfrd/xfrd" ] || bed_skip "xfrd not built"

zone=egress-big.test
records=${ZX_EGRESS_RECORDS:-200000}
EGRESS_SECRET=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xfr-key:$EGRESS_SECRET"
bed_ports 4 port ssport pa pb
"$(bed_tool zonegen)" -z "$zone" -n "$records" -s 9 -S 1 -o "$BED_T/zone.db"
export PRIMARY_ALLOW_FROM=127.0.0.2 ZX_STORE_SYNC=none
primary_start knot p1 "$port" "$zone" "$BED_T/zone.db" "$key"

egress_ss_server ss-server "$ssport" 127.0.0.2
egress_ss_local ss-a "$pa" "$ssport"
pid_a=$EGRESS_PID
egress_ss_local ss-b "$pb" "$ssport"
pid_b=$EGRESS_PID

p="\"127.0.0.1@$port\""
egress_conf "$BED_T/a.yaml" "$zone" "$p" "    proxy: [ \"127.0.0.1@$pa\" ]"
egress_conf "$BED_T/ab.yaml" "$zone" "$p" "    proxy: [ \"127.0.0.1@$pa\", \"127.0.0.1@$pb\" ]"

serial_held() { "$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" show "$zone" | awk '$1 == "serial:" { print $2 }'; }

# received_from_a: the most bytes one connection to A has received so far (tcp_info)
received_from_a()
{
	ss -Htni state established "( dport = :$pa )" |
		grep -oE 'bytes_received:[0-9]+' | cut -d: -f2 | sort -n | tail -1
}

# kill_mid_transfer CONF: xfrd --once --force-axfr in the background with the primary
# frozen (SIGSTOP), then the primary let run 20 ms at a time until 100 KB of the
# transfer (of about 6.6 MB) went through A; then A is killed and the primary thawed.
# No race with the transfer's speed, whatever the load of the machine.
kill_mid_transfer()
{
	local rc=0 xpid i knot_pid n
	knot_pid=$(cat "$(_primary_dir p1)/pid")
	bed_on_exit "kill -CONT $knot_pid"
	kill -STOP "$knot_pid"
	timeout 120 "$ZX_BUILD/xfrd/xfrd" -c "$1" --once --force-axfr >"$BED_T/run.log" 2>&1 &
	xpid=$!
	bed_wait_for 20 bash -c "ss -Htn state established '( dport = :$pa )' | grep -q ." ||
		bed_die "no connection to proxy A: $(cat "$BED_T/run.log")"
	for ((i = 0; i < 200; i++)); do
		kill -CONT "$knot_pid"
		sleep 0.02
		kill -STOP "$knot_pid"
		n=$(received_from_a)
		[ "${n:-0}" -gt 100000 ] && break
	done
	bed_log "killing proxy A with ${n:-0} bytes received through it"
	kill -KILL "$pid_a"
	bed_untrack "$pid_a"
	kill -CONT "$knot_pid"
	wait "$xpid" || rc=$?
	cat "$BED_T/run.log" >>"$BED_T/xfrd.log"
	last=$(grep -E 'event=xfr_(done|uptodate|failed)' "$BED_T/run.log" | tail -1 || true)
	return $rc
}

egress_run "$BED_T/a.yaml" || bed_die "first AXFR through A failed: $last"
egress_expect first "event=xfr_done .*kind=axfr .*serial=1 .*proxy=127.0.0.1@$pa"
"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" dump "$zone" | bed_zone_canon /dev/stdin >"$BED_T/one.ours"

primary_change p1 5 5 5
if kill_mid_transfer "$BED_T/a.yaml"; then
	bed_die "the transfer survived its proxy's death: $last"
fi
egress_expect killed "event=xfr_failed .*detail=\"through proxy 127.0.0.1@$pa: the connection broke mid-exchange\" .*proxy=127.0.0.1@$pa"
[ "$(serial_held)" = 1 ] || bed_die "zone not kept at serial 1: $(serial_held)"
"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" dump "$zone" | bed_zone_canon /dev/stdin >"$BED_T/one.after"
bed_zone_compare "$BED_T/one.ours" "$BED_T/one.after" || bed_die "the old zone changed"
bed_log "old zone kept whole: $(wc -l <"$BED_T/one.after") RRs at serial 1"

egress_ss_local ss-a "$pa" "$ssport"
pid_a=$EGRESS_PID
if ! kill_mid_transfer "$BED_T/ab.yaml"; then
	bed_die "B was not used after A died: $last"
fi
egress_expect next_proxy "event=xfr_done .*kind=axfr .*serial=2 .*proxy=127.0.0.1@$pb"
grep -q "event=xfr_proxy_failed .*proxy=127.0.0.1@$pa .*mid-exchange.* next_proxy=1" "$BED_T/run.log" ||
	bed_die "A's failure was not logged: $(grep -v xfr_done "$BED_T/run.log")"
"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" dump "$zone" | bed_zone_canon /dev/stdin >"$BED_T/two.ours"
primary_axfr p1 >"$BED_T/two.theirs"
bed_zone_compare "$BED_T/two.theirs" "$BED_T/two.ours" || bed_die "zone through B differs"

bed_stop_pid "$pid_b" ss-b
bed_untrack "$pid_b"
primary_change p1 1 0 0
if egress_run "$BED_T/ab.yaml"; then
	bed_die "transferred with every proxy down"
fi
egress_expect all_down "event=xfr_failed .*detail=\"proxy 127.0.0.1@$pb: proxy connect: Connection refused\""
grep -q "event=xfr_proxy_failed .*proxy=127.0.0.1@$pa .*proxy connect" "$BED_T/run.log" ||
	bed_die "A was not tried first"
[ "$(serial_held)" = 2 ] || bed_die "zone not kept at serial 2"
"$ZX_BUILD/xfrd/xfrctl" --store "$BED_T/store" show "$zone" | grep -Eq '^state: *failed' ||
	bed_die "the failure is not recorded"
bed_log PASS
