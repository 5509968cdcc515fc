#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/pipeline/health.sh -- issue 14: xfrd's /health fails only when it is
# wedged, and /ready says whether it can serve, against the bed's broker.
#
#   1. idle: xfrd owns the 4 partitions of a topic that carries one zone's requests
#      (so 3 partitions never carry a message: lag -1), with xfrd.health.commit-stall
#      3s; /health stays 200 for 30 s (10 stalls). The bug: /health answered 503
#      "stalled: partition N lag -1 no commit for ..." one stall after the start, and
#      Kubernetes restarted every pod in a loop. Stopped (SIGSTOP), xfrd does not
#      answer /health at all: a loop that does not turn fails the probe by its timeout.
#   2. wedged: a primary (hostile_primary stall) sends the first message of its AXFR
#      and then nothing for 30 s while xfrd's transfer timeout is 12 s; an operator's
#      refresh waits behind it on the same partition. /health answers 503 "stalled:
#      partition 0 holds 2 requests, none finished for S s" one stall after the
#      transfer began, and 200 again once the transfer timed out (progress). xfrd
#      warned at start that this stall is shorter than a transfer (health_stall_short).
#   3. more replicas than partitions: two replicas in a group over a 1-partition topic;
#      both are ready, the one without a partition says why that is fine; it takes the
#      partition over when the other stops, and stays ready.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
ports=${ZX_BED_PORTS:-}
pl_init pl_health 4
[ -n "$ports" ] && export ZX_BED_PORTS=$ports # pl_init's range is the pipeline tests'
hostile=$ZX_BUILD/tests/integration/xfr/hostile_primary
xfrctl=$ZX_BUILD/xfrd/xfrctl
[ -x "$hostile" ] || bed_skip "$hostile not built"
[ -x "$xfrctl" ] || bed_skip "$xfrctl not built"
bed_ports 6 kport hport1 wport hport2 hport3 hport4

# topic NAME PARTITIONS: a topic of this test, deleted at exit
topic()
{
	"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$1" "$2" >/dev/null || bed_die "create topic $1"
	bed_on_exit "'$ZXKAFKA' delete-topic '$ZX_KAFKA_BOOTSTRAP' '$1' >/dev/null 2>&1"
}

# get PORT PATH: "CODE BODY" of an xfrd probe
get()
{
	curl -s -m 5 -w ' %{http_code}' "http://127.0.0.1:$1$2" | tr -d '\n'
}

pl_knot "$kport" idle.test

# ---- 1. idle partitions are never a liveness failure -------------------------------
pl_config "$BED_T/x1.yaml" x1 "$hport1" "$kport" "  health: { commit-stall: 3s }" -- idle.test
pl_xfrd x1 "$BED_T/x1.yaml"
bed_wait_for 30 sh -c "'$PLTOOL' zones '$BED_T/x1.lmdb' | grep -q '^idle.test. 1 fresh$'" ||
	bed_die "idle.test not loaded: $(tail -n 5 "$BED_T/x1.out")"
bed_wait_for 30 sh -c "curl -fs http://127.0.0.1:$hport1/ready | grep -qx ready" ||
	bed_die "x1 (the only member, all 4 partitions) not ready: $(get "$hport1" /ready)"
t0=$SECONDS
n=0
while [ $((SECONDS - t0)) -lt 30 ]; do
	r=$(get "$hport1" /health)
	[ "$r" = "ok 200" ] || bed_die "x1 /health after $((SECONDS - t0)) s idle: $r"
	n=$((n + 1))
	sleep 1
done
grep -q "event=partition_assigned partition=3" "$BED_T/x1.out" || bed_die "x1 does not own partition 3"
bed_log "idle: /health 200 on $n probes over 30 s (commit-stall 3 s, 4 partitions, 1 zone)"
# a loop that does not turn does not answer: the probe (Kubernetes: timeoutSeconds) fails
x1=$(cat "$BED_T/x1.pid")
kill -STOP "$x1"
code=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$hport1/health" || true)
kill -CONT "$x1"
[ "$code" = 000 ] || bed_die "x1 stopped (SIGSTOP) answered /health: $code"
bed_wait_for 10 sh -c "curl -fs http://127.0.0.1:$hport1/health | grep -qx ok" ||
	bed_die "x1 /health after SIGCONT: $(get "$hport1" /health)"
bed_log "stopped loop: /health unanswered (3 s timeout); continued: ok"
bed_stop_pid "$(cat "$BED_T/x1.pid")" x1
rm -f "$BED_T/x1.pid"

# ---- 2. a partition that holds requests it does not finish fails liveness -----------
topic "$PL_REQ.w" 1
bed_spawn hostile "$hostile" -p "$wport" -z wedge.test. -s 5 -M stall:1 -S 30
hostile_pid=$BED_PID
bed_wait_for 10 kdig @127.0.0.1 -p "$wport" +short +timeout=1 +retry=0 SOA wedge.test ||
	bed_die "hostile primary did not answer"
PL_REQ=$PL_REQ.w PL_GROUP=$PL_GROUP.w \
	PL_TIMEOUTS="{ connect: 1s, read: 12s, transfer: 12s, soa: 1s }" \
	pl_config "$BED_T/w.yaml" w "$hport2" "$wport" "  health: { commit-stall: 3s }" -- wedge.test
pl_xfrd w "$BED_T/w.yaml"
bed_wait_for 30 grep -q "event=health_stall_short" "$BED_T/w.out" ||
	bed_die "xfrd did not warn that a 3 s stall is shorter than a transfer"
# the refresh at start is read, its AXFR stalls; an operator's refresh waits behind it
bed_wait_for 30 grep -q "request_read zone=wedge.test." "$BED_T/w.out" ||
	bed_die "the refresh of wedge.test was not read: $(tail -n 5 "$BED_T/w.out")"
t0=$SECONDS
"$xfrctl" -c "$BED_T/w.yaml" refresh wedge.test >/dev/null || bed_die "xfrctl refresh failed"
stalled()
{
	get "$hport2" /health | grep -Eq '^stalled: partition 0 holds 2 requests, none finished for [0-9]+ s \(xfrd.health.commit-stall 3 s\) 503$'
}
bed_wait_for 11 stalled || bed_die "w /health while a transfer is stuck: $(get "$hport2" /health)"
bed_log "wedged: $(get "$hport2" /health) after $((SECONDS - t0)) s"
curl -s -i "http://127.0.0.1:$hport2/health" | tr -d '\r' | grep -q '^HTTP/1.1 503 Stalled$' ||
	bed_die "w /health: no 503 Stalled"
# the transfer times out (12 s): that is progress, liveness is back
bed_wait_for 30 sh -c "curl -fs http://127.0.0.1:$hport2/health | grep -qx ok" ||
	bed_die "w /health after the transfer timed out: $(get "$hport2" /health)"
grep -q "zone=wedge.test." "$BED_T/w.out" || bed_die "no log of wedge.test"
bed_log "unwedged after $((SECONDS - t0)) s: $(get "$hport2" /health)"
# the operator's refresh runs next, stuck the same way: the primary goes first, so that
# xfrd's stop does not wait for that transfer (revoke_wait)
bed_stop_pid "$hostile_pid" hostile
bed_stop_pid "$(cat "$BED_T/w.pid")" w
rm -f "$BED_T/w.pid"

# ---- 3. more replicas than partitions: the one without is ready too ----------------
topic "$PL_REQ.r" 1
for r in r3 r4; do
	h=$hport3
	[ $r = r4 ] && h=$hport4
	PL_REQ=$PL_REQ.r PL_GROUP=$PL_GROUP.r \
		pl_config "$BED_T/$r.yaml" $r "$h" "$kport" "  health: { commit-stall: 3s }" -- idle.test
	pl_xfrd $r "$BED_T/$r.yaml"
done
both()
{
	curl -fs "http://127.0.0.1:$hport3/ready" && curl -fs "http://127.0.0.1:$hport4/ready"
}
bed_wait_for 60 both || bed_die "not both ready: r3 $(get "$hport3" /ready), r4 $(get "$hport4" /ready)"
a3=$(get "$hport3" /ready)
a4=$(get "$hport4" /ready)
bed_log "r3: $a3; r4: $a4"
if [ "$a3" = "ready 200" ]; then
	own=r3
	other=$hport4
	ans=$a4
else
	own=r4
	other=$hport3
	ans=$a3
fi
[ "$ans" = "ready (no partitions: the group's 1 other member holds all 1) 200" ] ||
	bed_die "the replica without a partition: $ans"
bed_stop_pid "$(cat "$BED_T/$own.pid")" "$own"
rm -f "$BED_T/$own.pid"
bed_wait_for 60 sh -c "curl -fs http://127.0.0.1:$other/ready | grep -qx ready" ||
	bed_die "the remaining replica did not take the partition: $(get "$other" /ready)"
r=$(get "$other" /health)
[ "$r" = "ok 200" ] || bed_die "the remaining replica's /health: $r"
bed_log "$own stopped: the other took the partition and is ready"
bed_log PASS
