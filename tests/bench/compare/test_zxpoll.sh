#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/compare/test_zxpoll.sh -- smoke test of the comparison's poller (zxpoll), so
# the benchmarks' one measuring tool cannot rot while the benchmarks stay out of ctest.
# Against real knotd: a primary and a secondary of it.
#   1. the secondary started from nothing: --t0 before its start, polled until it serves
#      the primary's serial; its memory sampled (PSS > 0). (A knotd that answers its
#      first query only once the zone is in may answer it with the serial: already=1
#      and a resolution as wide as that wait, which is what a user saw.)
#   2. a change on the primary, a signed NOTIFY sent by the poller to the secondary:
#      answered NOERROR, the new serial seen, not before the NOTIFY;
#   3. a serial that never comes: exit 1 at the deadline, served=0/1;
#   4. a zone already served: already=1, at once, also when checked before a NOTIFY
#      (the figure would be void); bad arguments: exit 2.
set -euo pipefail
. "$ZX_SRC/tests/bed/primary.sh"
bed_init bench_zxpoll
poll=$ZX_BUILD/tests/bench/compare/zxpoll
[ -x "$poll" ] || bed_skip "$poll not built"
command -v knotd >/dev/null || bed_skip "knotd missing"
bed_ports 2 pport sport
secret=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:xk:$secret"
"$(bed_tool zonegen)" -z a.test -n 200 -s 3 -S 5 -o "$BED_T/a.db"
primary_start knot p "$pport" a.test "$BED_T/a.db" "$key"
sd=$BED_T/sec
secondary_knot_conf "$sd" "$sport" a.test "127.0.0.1@$pport" xk "$secret"

kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
want() # want KEY OP VALUE LINE
{
	local v
	v=$(kv "$1" "$4")
	awk -v v="$v" -v w="$3" -v op="$2" 'BEGIN {
		ok = (op == "=" && v == w) || (op == "<" && v + 0 < w + 0) || (op == ">" && v + 0 > w + 0)
		exit !ok }' || bed_die "$1=$v, want $2 $3 in: $4"
}

# 1. start -> served
t0=$EPOCHREALTIME
bed_spawn sec knotd -c "$sd/knot.conf"
line=$(echo "a.test 5" | "$poll" -s "127.0.0.1@$sport" -f - --t0 "$t0" -m "$BED_PID" -t 20)
bed_log "start: $line"
want served = 1/1 "$line"
want t_ms ">" 0 "$line"
want t_ms "<" 20000 "$line"
want pss_peak_mib ">" 0 "$line"
want mem_samples ">" 0 "$line"
want res_ms "<" 1000 "$line"

# 2. NOTIFY sent by the poller -> new serial served
primary_change p 0 0 1
line=$(echo "a.test 6" | "$poll" -s "127.0.0.1@$sport" -f - -n "127.0.0.1@$sport" -k "$key" -t 20)
bed_log "notify: $line"
want served = 1/1 "$line"
want already = 0 "$line"
want notify_sent = 1 "$line"
want notify_noerror = 1 "$line"
want notify_lost = 0 "$line"
want res_ms "<" 1000 "$line"
grep -q "notify, incoming, remote 127.0.0.1.*serial 6" "$sd/knotd.log" ||
	bed_die "the secondary logged no NOTIFY with serial 6: $(tail -n 5 "$sd/knotd.log")"

# 3. a serial that never comes
rc=0
line=$(echo "a.test 99" | "$poll" -s "127.0.0.1@$sport" -f - -t 0.5) || rc=$?
[ "$rc" = 1 ] || bed_die "exit $rc for a serial that never comes, want 1: $line"
want served = 0/1 "$line"
want queries ">" 20 "$line" # it keeps asking (about 500 at 1 ms on an idle machine)

# 4. already there; usage
line=$(echo "a.test 6" | "$poll" -s "127.0.0.1@$pport" -f - -t 5)
want already = 1 "$line"
want res_ms "<" 1000 "$line" # bounds, not speed: a loaded CI machine is slow
# a NOTIFY for a serial served already: found by the check before the NOTIFY, flagged
line=$(echo "a.test 6" | "$poll" -s "127.0.0.1@$sport" -f - -n "127.0.0.1@$sport" -k "$key" -t 5)
want already = 1 "$line"
want served = 1/1 "$line"
rc=0
"$poll" -f - </dev/null >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || bed_die "exit $rc without -s, want 2"
bed_log PASS
