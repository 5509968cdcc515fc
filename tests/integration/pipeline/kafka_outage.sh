#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/pipeline/kafka_outage.sh -- issue 14: a Kafka outage is visible and
# caught up, against a private broker (so stopping it disturbs no other test).
#
# xfrd holds two zones with an SOA refresh of 4 s; the broker is stopped for ~25 s
# (several refresh intervals):
#   - the log names Kafka and the broker list once (kafka_unreachable brokers=...);
#   - /ready is 503 "not ready: Kafka unreachable for S s (brokers ...)", /health 200;
#   - xfrd_kafka_reachable is 0, xfrd_refresh_send_failures_total{reason=...} counts
#     the refreshes that could not be asked for, xfrd_zones_refresh_overdue is 2;
#   - xfrctl zones shows both "fresh (refresh overdue Ns)", --json refresh_overdue_s;
# the broker is started again:
#   - kafka_reachable outage_s=... is logged once, /ready is 200 again;
#   - both zones are refreshed (their last attempt after the broker's return), the
#     overdue marks are gone, and a serial changed during the outage is fetched.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
bed_init pl_kafka_outage
command -v java >/dev/null 2>&1 || bed_skip "needs a real broker that survives a restart (no Java)"
[ "${ZX_KAFKA_KIND:-}" = mock ] && bed_skip "needs a real broker (the bed runs the mock)"
xfrctl=$ZX_BUILD/xfrd/xfrctl
[ -x "$xfrctl" ] || bed_skip "$xfrctl not built"
kport=""
for _ in $(seq 50); do
	p=$(bed_port)
	bed_port_keep "$p"
	if bed_port_free $((p + 1)); then
		kport=$p
		break
	fi
done
[ -n "$kport" ] || bed_die "no port pair for the private broker"
kenv=(ZX_BED_DIR="$BED_T/kb" ZX_KAFKA_PORT="$kport" ZX_KAFKA_FORCE=apache)
env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" start >&2 || bed_die "private broker did not start"
bed_on_exit env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" stop
set -a
. "$BED_T/kb/kafka.env"
set +a
# pl_init's work, on the private broker (pl_init would make a second scratch dir)
PLTOOL=$(bed_tool ../integration/pipeline/pltool)
ZXKAFKA=$(bed_tool zxkafka)
XFRD=$ZX_BUILD/xfrd/xfrd
[ -x "$XFRD" ] || bed_die "$XFRD not built"
PL_REQ="pl.kafka_outage.$$.req"
PL_UPD="pl.kafka_outage.$$.upd"
PL_GROUP="pl.kafka_outage.$$.group"
"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" 2 >/dev/null || bed_die "create topic $PL_REQ"
"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$PL_UPD" 1 >/dev/null || bed_die "create topic $PL_UPD"
# at exit the xfrd first, then the broker (registered before: runs after); no topic to
# delete (the broker and its data are this test's, and it may be down then)
bed_on_exit 'for f in "$BED_T"/*.pid; do [ -f "$f" ] && bed_stop_pid "$(cat "$f")" "$(basename "$f" .pid)"; done'
export ZX_STORE_SYNC=none
bed_ports 2 knport hport
PL_KNOT_TIMERS="4 2 604800" # SOA refresh 4 s, retry 2 s
pl_knot "$knport" a.test b.test
pl_config "$BED_T/x.yaml" x "$hport" "$knport" "$(printf '%s\n' \
	'  refresh: { min: 1s, max: 1h }' '  retry: { min: 1s, max: 1h }' \
	'  jitter: 10%' '  health: { commit-stall: 5s }')" -- a.test b.test
pl_xfrd x "$BED_T/x.yaml"

get()
{
	curl -s -m 5 -w ' %{http_code}' "http://127.0.0.1:$hport$1" | tr -d '\n'
}
metric()
{
	curl -s -m 5 "http://127.0.0.1:$hport/metrics" | awk -v k="$1" '$1 == k {print $2}'
}
fresh2()
{
	[ "$("$PLTOOL" zones "$BED_T/x.lmdb" | grep -c ' 1 fresh$')" = 2 ]
}
bed_wait_for 30 fresh2 || bed_die "zones not loaded: $(pl_store_serials x)"
bed_wait_for 30 sh -c "curl -fs http://127.0.0.1:$hport/ready | grep -qx ready" ||
	bed_die "not ready: $(get /ready)"
[ "$(metric xfrd_kafka_reachable)" = 1 ] || bed_die "xfrd_kafka_reachable $(metric xfrd_kafka_reachable)"

# ---- the broker goes away ------------------------------------------------------------
env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" stop >&2
t_stop=$(date +%s)
t0=$SECONDS
bed_wait_for 20 grep -q "event=kafka_unreachable brokers=$ZX_KAFKA_BOOTSTRAP " "$BED_T/x.out" ||
	bed_die "no kafka_unreachable naming the brokers: $(tail -n 5 "$BED_T/x.out")"
bed_log "kafka_unreachable logged $((SECONDS - t0)) s after the stop"
bed_wait_for 10 sh -c "curl -s http://127.0.0.1:$hport/ready | grep -q '^not ready: Kafka unreachable for [0-9]* s (brokers $ZX_KAFKA_BOOTSTRAP: '" ||
	bed_die "/ready with Kafka down: $(get /ready)"
r=$(get /ready)
echo "$r" | grep -q ' 503$' || bed_die "/ready with Kafka down: $r"
bed_log "/ready: $r"
curl -s -i "http://127.0.0.1:$hport/ready" | tr -d '\r' | grep -q '^HTTP/1.1 503 Kafka Unreachable$' ||
	bed_die "/ready: no 503 Kafka Unreachable"
[ "$(metric xfrd_kafka_reachable)" = 0 ] || bed_die "xfrd_kafka_reachable $(metric xfrd_kafka_reachable) while down"
overdue2()
{
	[ "$("$xfrctl" --store "$BED_T/x.lmdb" zones | grep -c ' fresh (refresh overdue [0-9]*[smh]')" = 2 ]
}
bed_wait_for 30 overdue2 || bed_die "xfrctl zones with Kafka down: $("$xfrctl" --store "$BED_T/x.lmdb" zones)"
"$xfrctl" --store "$BED_T/x.lmdb" zones >&2
"$xfrctl" --store "$BED_T/x.lmdb" --json show a.test | grep -q '"refresh_overdue_s": [0-9]' ||
	bed_die "xfrctl --json show: no refresh_overdue_s"
"$xfrctl" --store "$BED_T/x.lmdb" show a.test | grep -q '^refresh: *overdue ' ||
	bed_die "xfrctl show: no overdue line"
[ "$(metric xfrd_zones_refresh_overdue)" = 2 ] ||
	bed_die "xfrd_zones_refresh_overdue $(metric xfrd_zones_refresh_overdue)"
# held down ~20 s in all: several refresh intervals, liveness never fails
while [ $((SECONDS - t0)) -lt 20 ]; do
	r=$(get /health)
	echo "$r" | grep -q '^ok.* 200$' || bed_die "/health with Kafka down: $r"
	sleep 1
done
failed=0
for reason in unreachable queue_full timeout kafka nomem; do
	n=$(metric "xfrd_refresh_send_failures_total{reason=\"$reason\"}")
	[ -n "$n" ] || bed_die "no xfrd_refresh_send_failures_total{reason=\"$reason\"}"
	failed=$((failed + ${n%.*}))
done
[ "$failed" -ge 4 ] || bed_die "refresh send failures counted: $failed, want >= 4 (2 zones, 20 s, refresh 4 s)"
[ "$(grep -c 'event=kafka_unreachable' "$BED_T/x.out")" = 1 ] || bed_die "kafka_unreachable logged more than once"
bed_log "down 20 s: $failed refresh requests failed (counted), both zones overdue, /health 200"
pl_bump a.test # a change during the outage, no NOTIFY: fetched once Kafka is back

# ---- the broker returns --------------------------------------------------------------
env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" start >&2 || bed_die "private broker did not restart"
t_back=$(date +%s)
t0=$SECONDS
bed_wait_for 60 grep -q "event=kafka_reachable brokers=$ZX_KAFKA_BOOTSTRAP outage_s=[0-9.]* refresh_requests_failed=[0-9]*" "$BED_T/x.out" ||
	bed_die "no kafka_reachable: $(tail -n 5 "$BED_T/x.out")"
bed_log "$(grep -o 'event=kafka_reachable.*' "$BED_T/x.out")"
bed_wait_for 60 sh -c "curl -fs http://127.0.0.1:$hport/ready | grep -q '^ready'" ||
	bed_die "not ready after Kafka returned: $(get /ready)"
caught_up()
{
	"$xfrctl" --store "$BED_T/x.lmdb" zones | grep -q overdue && return 1
	"$PLTOOL" zones "$BED_T/x.lmdb" | grep -q '^a.test. 2 fresh$' || return 1
	local z at
	for z in a.test b.test; do
		at=$("$xfrctl" --store "$BED_T/x.lmdb" --json show $z | grep -o '"last_attempt": "[^"]*"' | cut -d'"' -f4)
		[ "$(date -d "$at" +%s)" -ge "$t_back" ] || return 1
	done
}
bed_wait_for 60 caught_up ||
	bed_die "not caught up: $("$xfrctl" --store "$BED_T/x.lmdb" zones)"
bed_log "caught up $((SECONDS - t0)) s after the broker returned (stopped at $t_stop, back at $t_back)"
"$xfrctl" --store "$BED_T/x.lmdb" zones >&2
[ "$(metric xfrd_zones_refresh_overdue)" = 0 ] || bed_die "still overdue: $(metric xfrd_zones_refresh_overdue)"
[ "$(metric xfrd_kafka_reachable)" = 1 ] || bed_die "xfrd_kafka_reachable $(metric xfrd_kafka_reachable) after"
bed_log PASS
